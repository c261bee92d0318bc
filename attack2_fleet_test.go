package cryptofuse_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// Revoked hook (called during Close) that calls Close again.
func TestAttack2RevokedHookCallsClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p atomic.Pointer[cryptofuse.TokenSource]
		var inner atomic.Value
		e := a2New(t, nil, cryptofuse.WithHooks(cryptofuse.Hooks{Revoked: func(cryptofuse.RevokeEvent) {
			ctx, cancel := context.WithTimeout(bg, 5*time.Second)
			defer cancel()
			start := time.Now()
			_ = p.Load().Close(ctx)
			inner.Store(time.Since(start))
		}}))
		ts := e.ts(t, cryptofuse.TokenPolicy{RevokeOnClose: true})
		p.Store(ts)
		tok := mustTok(t, ts)
		start := time.Now()
		if err := ts.Close(bg); err != nil {
			t.Errorf("Close: %v", err)
		}
		if d := time.Since(start); d > 0 {
			t.Errorf("outer Close took %v, want 0", d)
		}
		if d, _ := inner.Load().(time.Duration); d > 0 {
			t.Errorf("Close from the Revoked hook took %v, want 0 (later calls do nothing)", d)
		}
		if e.srv.Active(tok.AccessToken) {
			t.Errorf("token still active")
		}
	})
}

// A logger that blocks during the first token request: a caller's ctx still bounds Token.
func TestAttack2BlockingLoggerFirstToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		var block atomic.Bool
		block.Store(true)
		h := a2Handler{fn: func(slog.Record) {
			if block.Load() {
				<-release
			}
		}}
		e := a2New(t, nil, cryptofuse.WithLogger(slog.New(h)))
		ts := e.ts(t, cryptofuse.TokenPolicy{})
		ctx, cancel := context.WithTimeout(bg, 5*time.Second)
		defer cancel()
		start := time.Now()
		_, _ = ts.Token(ctx)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Token took %v with a blocked logger, want <= its 5s ctx", d)
		}
		cctx, ccancel := context.WithTimeout(bg, 5*time.Second)
		defer ccancel()
		start = time.Now()
		_ = ts.Close(cctx)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Close took %v, want <= 5s", d)
		}
	})
}

// A store whose Get ignores ctx and answers a valid record after the 5 s
// deadline: the source has minted meanwhile and keeps its own token.
func TestAttack2LateStoreAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		inner := &a2MapStore{}
		ts1 := e.ts(t, cryptofuse.TokenPolicy{Store: inner})
		a := mustTok(t, ts1)
		ts1.Close(bg)
		slow := &a2SlowStore{a2MapStore: inner, delay: 10 * time.Second}
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: slow})
		defer ts.Close(bg)
		start := time.Now()
		b := mustTok(t, ts)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Token took %v, want <= 5s store deadline", d)
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		c := mustTok(t, ts)
		if b.AccessToken != c.AccessToken && b.AccessToken == a.AccessToken {
			t.Errorf("token changed after the late store answer")
		}
		if b.AccessToken != c.AccessToken {
			t.Errorf("current token switched to the late store record")
		}
	})
}

type a2SlowStore struct {
	*a2MapStore
	delay time.Duration
}

func (s *a2SlowStore) Get(ctx context.Context, key string) ([]byte, error) {
	time.Sleep(s.delay)
	return s.a2MapStore.Get(ctx, key)
}

// Many rejections over a long time: Close revokes only the rejected tokens
// still alive.
func TestAttack2RejectionsBoundedMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, []cryptofusetest.Option{cryptofusetest.WithExpiresIn(10 * time.Minute)})
		var closeRevokes atomic.Int64
		c2, _ := cryptofuse.NewClient(a2ID, a2Secret, cryptofuse.WithBaseURL(e.srv.URL),
			cryptofuse.WithHTTPClient(&http.Client{Transport: e.rt}),
			cryptofuse.WithHooks(cryptofuse.Hooks{Revoked: func(ev cryptofuse.RevokeEvent) {
				if ev.When == "close" {
					closeRevokes.Add(1)
				}
			}}))
		ts, _ := c2.TokenSource(cryptofuse.TokenPolicy{RevokeOnClose: true})
		for range 600 {
			if tok, err := ts.Token(bg); err == nil {
				ts.Invalidate(tok.AccessToken)
			}
			time.Sleep(time.Minute)
			synctest.Wait()
		}
		if err := ts.Close(bg); err != nil {
			t.Errorf("Close: %v", err)
		}
		iss := e.rt.Issued()
		t.Logf("issued %d, revoked at close %d", len(iss), closeRevokes.Load())
		if n := closeRevokes.Load(); n > 12 {
			t.Errorf("Close revoked %d rejected tokens, want <= 12 (only those alive)", n)
		}
		for _, tk := range iss {
			if e.srv.Active(tk) {
				t.Errorf("a rejected token active after Close")
			}
		}
	})
}

// A redirect within the client's own origin keeps working.
func TestAttack2TransportSameOriginRedirect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{})
		defer ts.Close(bg)
		base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/old" {
				return &http.Response{StatusCode: 302, Header: http.Header{"Location": {cryptofusetest.ResourcePath}}, Body: http.NoBody, Request: r}, nil
			}
			return e.srv.Transport().RoundTrip(r)
		})
		hc := &http.Client{Transport: ts.Transport(base)}
		resp, err := hc.Get(e.srv.URL + "/old")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("same-origin redirect: %d, want 200", resp.StatusCode)
		}
	})
}
