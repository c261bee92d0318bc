package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
)

// receive waits up to patience for a value on ch.
func receive(t *testing.T, ch <-chan struct{}, after string) {
	t.Helper()
	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("Watch channel closed after %s, want a notification (the ctx is not done)", after)
		}
	case <-timer.C:
		t.Fatalf("no notification on the Watch channel %v after %s", patience, after)
	}
}

func testWatch(t *testing.T, newStore func(*testing.T) cryptofuse.SharedStore, key string) {
	a, b := newStore(t), newStore(t)
	c, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := a.Watch(c, key)
	if err != nil {
		t.Fatalf("Watch: got error %v, want nil", err)
	}
	mustPut(t, b, key, []byte("from b"))
	receive(t, ch, "another client's Put")
	mustDelete(t, b, key)
	receive(t, ch, "another client's Delete")
	mustPut(t, a, key, []byte("from a"))
	receive(t, ch, "the watching client's own Put")
	mustDelete(t, a, key)
}

func testWatchClose(t *testing.T, newStore func(*testing.T) cryptofuse.SharedStore, key string) {
	s := newStore(t)
	c, cancel := context.WithCancel(t.Context())
	ch, err := s.Watch(c, key)
	if err != nil {
		cancel()
		t.Fatalf("Watch: got error %v, want nil", err)
	}
	cancel()
	ok, _ := waitReturn(func() error {
		for range ch {
		}
		return nil
	})
	if !ok {
		t.Fatalf("Watch channel still open %v after its ctx was cancelled, want it closed", patience)
	}
}

func mustJoin(t *testing.T, s cryptofuse.SharedStore, key, member string, ttl time.Duration) {
	t.Helper()
	if err := s.Join(ctx(t), key, member, ttl); err != nil {
		t.Fatalf("Join(%q, %q): got error %v, want nil", key, member, err)
	}
}

func mustLeave(t *testing.T, s cryptofuse.SharedStore, key, member string, want int) {
	t.Helper()
	got, err := s.Leave(ctx(t), key, member)
	if err != nil || got != want {
		t.Fatalf("Leave(%q, %q): got %d, %v; want %d, nil", key, member, got, err, want)
	}
}

func testJoinLeave(t *testing.T, newStore func(*testing.T) cryptofuse.SharedStore, key string) {
	a, b, c := newStore(t), newStore(t), newStore(t)
	mustLeave(t, a, key+"-empty", "a", 0)
	mustJoin(t, a, key, "a", time.Minute)
	mustJoin(t, b, key, "b", time.Minute)
	mustJoin(t, c, key, "c", time.Minute)
	mustJoin(t, a, key, "a", time.Minute) // renews; still one member
	mustLeave(t, b, key, "never-joined", 3)
	mustLeave(t, a, key, "a", 2)
	mustLeave(t, a, key, "a", 2) // gone already
	mustLeave(t, c, key, "b", 1) // any client may say who leaves
	mustLeave(t, c, key, "c", 0)
}

func testLeaveRace(t *testing.T, newStore func(*testing.T) cryptofuse.SharedStore, key string) {
	const rounds = 20
	a, b := newStore(t), newStore(t)
	for r := range rounds {
		k := fmt.Sprintf("%s-%d", key, r)
		mustJoin(t, a, k, "a", time.Minute)
		mustJoin(t, b, k, "b", time.Minute)
		var wg sync.WaitGroup
		var got [2]int
		var errs [2]error
		start := make(chan struct{})
		for i, s := range []cryptofuse.SharedStore{a, b} {
			wg.Go(func() {
				<-start
				got[i], errs[i] = s.Leave(ctx(t), k, string(rune('a'+i)))
			})
		}
		close(start)
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: Leave: got errors %v, %v; want nil", r, errs[0], errs[1])
		}
		if got[0]+got[1] != 1 || got[0]*got[1] != 0 {
			t.Fatalf("round %d: two members leaving at once saw %d and %d others, want 0 and 1", r, got[0], got[1])
		}
	}
}

func testJoinExpiry(t *testing.T, newStore func(*testing.T) cryptofuse.SharedStore, key string) {
	a, b := newStore(t), newStore(t)
	ref := key + "-ref"
	mustJoin(t, a, key, "crashed", shortTTL)
	mustJoin(t, a, key, "renewed", shortTTL)
	mustJoin(t, a, key, "renewed", time.Minute)
	mustJoin(t, a, ref, "ref", shortTTL) // joined last, same short ttl
	eventually(t, "reference member expires", func() (bool, error) {
		n, err := b.Leave(ctx(t), ref, "probe")
		return n == 0, err
	})
	mustLeave(t, b, key, "probe", 1) // "renewed" only
	mustLeave(t, b, key, "renewed", 0)
}
