package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
)

// shortTTL is the ttl of the locks and members that the suite lets expire.
const shortTTL = 200 * time.Millisecond

// TestSharedStore runs the TokenStore and SharedStore checks listed in the
// package doc against the stores newStore returns, each as a subtest of t.
// newStore is called with the subtest's t, several times where the check
// acts as several processes; its stores must share one backing store.
func TestSharedStore(t *testing.T, newStore func(t *testing.T) cryptofuse.SharedStore) {
	t.Helper()
	t.Run("TokenStore", func(t *testing.T) {
		TestStore(t, func(t *testing.T) cryptofuse.TokenStore { return newStore(t) })
	})
	run := newKeys(t)
	checks := []struct {
		name  string
		check func(*testing.T, func(*testing.T) cryptofuse.SharedStore, string)
	}{
		{"Context", testSharedContext},
		{"LockExclusive", testLockExclusive},
		{"LockExtend", testLockExtend},
		{"LockExpiry", testLockExpiry},
		{"LockContention", testLockContention},
		{"Watch", testWatch},
		{"WatchClose", testWatchClose},
		{"JoinLeave", testJoinLeave},
		{"LeaveRace", testLeaveRace},
		{"JoinExpiry", testJoinExpiry},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.check(t, newStore, run.key(c.name)) })
	}
}

func mustLock(t *testing.T, s cryptofuse.SharedStore, key, owner string, ttl time.Duration) {
	t.Helper()
	if err := s.Lock(ctx(t), key, owner, ttl); err != nil {
		t.Fatalf("Lock(%q, %q): got error %v, want nil", key, owner, err)
	}
}

func mustBeLocked(t *testing.T, s cryptofuse.SharedStore, key, owner string) {
	t.Helper()
	if err := s.Lock(ctx(t), key, owner, time.Minute); !errors.Is(err, cryptofuse.ErrLocked) {
		t.Fatalf("Lock(%q, %q) of a held lock: got error %v, want one wrapping ErrLocked", key, owner, err)
	}
}

func mustUnlock(t *testing.T, s cryptofuse.SharedStore, key, owner string) {
	t.Helper()
	if err := s.Unlock(ctx(t), key, owner); err != nil {
		t.Fatalf("Unlock(%q, %q): got error %v, want nil", key, owner, err)
	}
}

// eventually calls try until it reports done, pausing between calls, and
// fails the test if that has not happened within patience.
func eventually(t *testing.T, what string, try func() (done bool, err error)) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		done, err := try()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, patience)
		}
		time.Sleep(shortTTL / 10)
	}
}

// lockFree reports whether owner got the lock: true for nil, false for
// ErrLocked, an error for anything else.
func lockFree(s cryptofuse.SharedStore, t *testing.T, key, owner string) (bool, error) {
	err := s.Lock(ctx(t), key, owner, time.Minute)
	if errors.Is(err, cryptofuse.ErrLocked) {
		return false, nil
	}
	return err == nil, err
}

func testLockExclusive(t *testing.T, newStore func(*testing.T) cryptofuse.SharedStore, key string) {
	a, b := newStore(t), newStore(t)
	mustUnlock(t, a, key, "a") // no one holds it
	mustLock(t, a, key, "a", time.Minute)
	mustBeLocked(t, b, key, "b")
	mustBeLocked(t, a, key, "b") // the owner decides, not the client
	mustUnlock(t, b, key, "b")   // not b's: does nothing
	mustBeLocked(t, b, key, "b")
	mustUnlock(t, a, key, "a")
	mustLock(t, b, key, "b", time.Minute)
	mustBeLocked(t, a, key, "a")
	mustUnlock(t, b, key, "b")
}

func testLockExtend(t *testing.T, newStore func(*testing.T) cryptofuse.SharedStore, key string) {
	a, b := newStore(t), newStore(t)
	ref := key + "-ref"
	mustLock(t, a, key, "a", shortTTL)
	mustLock(t, a, key, "a", time.Minute) // extends
	mustLock(t, a, ref, "a", shortTTL)    // taken later, same short ttl
	eventually(t, "reference lock expires", func() (bool, error) { return lockFree(b, t, ref, "b") })
	mustBeLocked(t, b, key, "b")
	mustUnlock(t, a, key, "a")
	mustUnlock(t, b, ref, "b")
}

func testLockExpiry(t *testing.T, newStore func(*testing.T) cryptofuse.SharedStore, key string) {
	a, b := newStore(t), newStore(t)
	mustLock(t, a, key, "crashed", shortTTL)
	eventually(t, "expired lock is free", func() (bool, error) { return lockFree(b, t, key, "b") })
	mustBeLocked(t, a, key, "crashed")
	mustUnlock(t, b, key, "b")
}

func testLockContention(t *testing.T, newStore func(*testing.T) cryptofuse.SharedStore, key string) {
	const clients, goroutines, wantHolds = 4, 8, 64
	var inside, maxInside, holds atomic.Int64
	stores := make([]cryptofuse.SharedStore, clients)
	for i := range stores {
		stores[i] = newStore(t)
	}
	c, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, clients*goroutines)
	for i, s := range stores {
		for g := range goroutines {
			owner := fmt.Sprintf("client%d-goroutine%d", i, g)
			wg.Go(func() {
				for holds.Load() < wantHolds && c.Err() == nil {
					err := s.Lock(c, key, owner, time.Minute)
					if errors.Is(err, cryptofuse.ErrLocked) {
						time.Sleep(time.Millisecond)
						continue
					}
					if err != nil {
						errs <- fmt.Errorf("%s: Lock: %w", owner, err)
						return
					}
					n := inside.Add(1)
					for m := maxInside.Load(); n > m && !maxInside.CompareAndSwap(m, n); m = maxInside.Load() {
					}
					holds.Add(1)
					time.Sleep(100 * time.Microsecond)
					inside.Add(-1)
					if err := s.Unlock(c, key, owner); err != nil {
						errs <- fmt.Errorf("%s: Unlock: %w", owner, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := maxInside.Load(); got != 1 {
		t.Errorf("most holders at once: got %d, want 1", got)
	}
	if got := holds.Load(); got < wantHolds {
		t.Errorf("times the lock was held within %v: got %d, want at least %d", patience, got, wantHolds)
	}
}
