package cryptofuse_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// A hook that panics on the caller's goroutine panics that call, but must
// leave the source usable (no lock held, no wedged refresh).
func TestAttack2HookPanicLeavesSourceUsable(t *testing.T) {
	for _, which := range []string{"obtained", "store", "revoked"} {
		t.Run(which, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var armed atomic.Bool
				armed.Store(true)
				boom := func() {
					if armed.CompareAndSwap(true, false) {
						panic("a2 hook " + which)
					}
				}
				h := cryptofuse.Hooks{}
				switch which {
				case "obtained":
					h.TokenObtained = func(cryptofuse.TokenEvent) { boom() }
				case "invalidated":
					h.Invalidated = func(cryptofuse.InvalidateEvent) { boom() }
				case "store":
					h.Store = func(cryptofuse.StoreEvent) { boom() }
				case "attempt":
					h.Attempt = func(cryptofuse.AttemptEvent) { boom() }
				case "revoked":
					h.Revoked = func(cryptofuse.RevokeEvent) { boom() }
				}
				e := a2New(t, nil, cryptofuse.WithHooks(h))
				ts := e.ts(t, cryptofuse.TokenPolicy{Store: &a2MapStore{}, RevokeAfter: time.Second, RevokeOnClose: true})
				try := func(f func()) {
					defer func() { _ = recover() }()
					f()
				}
				try(func() { _, _ = ts.Token(bg) })
				try(func() {
					if tok, err := ts.Token(bg); err == nil {
						ts.Invalidate(tok.AccessToken)
					}
				})
				try(func() { _, _ = ts.Rotate(bg) })
				time.Sleep(2 * time.Second)
				synctest.Wait()
				ctx, cancel := context.WithTimeout(bg, 30*time.Second)
				defer cancel()
				if _, err := ts.Token(ctx); err != nil {
					t.Errorf("Token after a panicking %s hook: %v", which, err)
				}
				if _, err := ts.Rotate(ctx); err != nil {
					t.Errorf("Rotate after a panicking %s hook: %v", which, err)
				}
				if err := ts.Close(ctx); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		})
	}
}

// A logger that blocks forever on the background goroutine: Close must still
// return within its ctx.
func TestAttack2BlockingLoggerClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		var block atomic.Bool
		h := a2Handler{fn: func(slog.Record) {
			if block.Load() {
				<-release
			}
		}}
		e := a2New(t, []cryptofusetest.Option{cryptofusetest.WithExpiresIn(10 * time.Minute)}, cryptofuse.WithLogger(slog.New(h)))
		ts := e.ts(t, cryptofuse.TokenPolicy{RefreshBefore: time.Minute})
		tok := mustTok(t, ts)
		block.Store(true)
		time.Sleep(9*time.Minute + 30*time.Second)
		// inside the refresh window: starts a background refresh whose log blocks
		start := time.Now()
		got, err := ts.Token(bg)
		if err != nil || got.AccessToken != tok.AccessToken {
			t.Errorf("Token in the window: %v", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Token in the window took %v with a blocked logger, want 0", d)
		}
		ctx, cancel := context.WithTimeout(bg, 5*time.Second)
		defer cancel()
		start = time.Now()
		_ = ts.Close(ctx)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Close took %v, want <= 5s ctx", d)
		}
	})
}

// A RevokeAfter revocation that failed is retried at Close.
func TestAttack2FailedRevokeAfterRetriedAtClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil, cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}))
		ts := e.ts(t, cryptofuse.TokenPolicy{RevokeAfter: time.Minute})
		a := mustTok(t, ts)
		if _, err := ts.Rotate(bg); err != nil {
			t.Fatal(err)
		}
		e.srv.InjectFault(5, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: 500})
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if !e.srv.Active(a.AccessToken) {
			t.Fatalf("setup: revocation should have failed")
		}
		e.srv.ClearFaults()
		if err := ts.Close(bg); err != nil {
			t.Errorf("Close: %v", err)
		}
		if e.srv.Active(a.AccessToken) {
			t.Errorf("replaced token whose RevokeAfter revocation failed is still active after Close")
		}
	})
}

// Many goroutines invalidating the same token cause one refresh.
func TestAttack2ConcurrentInvalidate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{})
		defer ts.Close(bg)
		a := mustTok(t, ts)
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ts.Invalidate(a.AccessToken)
				if _, err := ts.Token(bg); err != nil {
					t.Errorf("Token: %v", err)
				}
			}()
		}
		wg.Wait()
		if got := e.srv.Counts().Token; got != 2 {
			t.Errorf("token requests = %d, want 2", got)
		}
		ts.Invalidate("not-a-token-of-ours")
		ts.Invalidate("")
		if got := e.srv.Counts().Token; got != 2 {
			t.Errorf("after foreign Invalidate: %d, want 2", got)
		}
	})
}

// An expired stored token is a miss.
func TestAttack2StoredExpired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, []cryptofusetest.Option{cryptofusetest.WithExpiresIn(10 * time.Minute)})
		st := &a2MapStore{}
		ts1 := e.ts(t, cryptofuse.TokenPolicy{Store: st})
		a := mustTok(t, ts1)
		ts1.Close(bg)
		time.Sleep(11 * time.Minute)
		ts2 := e.ts(t, cryptofuse.TokenPolicy{Store: st})
		defer ts2.Close(bg)
		b := mustTok(t, ts2)
		if b.AccessToken == a.AccessToken || !e.srv.Active(b.AccessToken) {
			t.Errorf("expired stored token handed out")
		}
	})
}

// Token with a ctx already cancelled and no token: returns the ctx error at once.
func TestAttack2TokenCancelledCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{})
		defer ts.Close(bg)
		ctx, cancel := context.WithCancel(bg)
		cancel()
		// A token that is ready at once may be returned; otherwise the ctx's error.
		if tok, err := ts.Token(ctx); err != nil && !errors.Is(err, context.Canceled) || err == nil && !e.srv.Active(tok.AccessToken) {
			t.Errorf("Token(cancelled) = %v, want Canceled or a valid token", err)
		}
		if tok, err := ts.Rotate(ctx); err != nil && !errors.Is(err, context.Canceled) || err == nil && !e.srv.Active(tok.AccessToken) {
			t.Errorf("Rotate(cancelled) = %v, want Canceled or a valid token", err)
		}
		mustTok(t, ts)
	})
}

// 401 through the Transport on a source whose replacement tokens are also
// rejected: the caller never hangs and the store never keeps a rejected token.
func TestAttack2Always401WithStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		st := &a2MapStore{}
		e.srv.InjectFault(1000000, cryptofusetest.Fault{Path: cryptofusetest.ResourcePath, Status: 401})
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: st})
		for range 20 {
			_, _ = a2Get(ts, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath)
			time.Sleep(time.Second)
			synctest.Wait()
		}
		ts.Close(bg)
		e.srv.ClearFaults()
		iss := e.rt.Issued()
		ts2 := e.ts(t, cryptofuse.TokenPolicy{Store: st})
		defer ts2.Close(bg)
		b := mustTok(t, ts2)
		for _, tk := range iss {
			if tk == b.AccessToken {
				t.Errorf("restart handed out a token the server had rejected")
			}
		}
		_ = http.StatusOK
	})
}
