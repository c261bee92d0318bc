package cryptofuse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

var bg = context.Background()

func TestAttack2HangingStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &a2HangStore{release: make(chan struct{})}
		defer close(st.release)
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: st, RevokeOnClose: true})
		start := time.Now()
		tok, err := ts.Token(bg)
		if err != nil {
			t.Fatalf("Token over hanging store: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Token took %v with a hanging store, want <= 5s (store deadline)", d)
		}
		if _, err := ts.Rotate(bg); err != nil {
			t.Errorf("Rotate: %v", err)
		}
		ctx, cancel := context.WithTimeout(bg, 20*time.Second)
		defer cancel()
		start = time.Now()
		_ = ts.Close(ctx)
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("Close took %v, want within its ctx", d)
		}
		if e.srv.Active(tok.AccessToken) {
			t.Errorf("first token still active after Close with RevokeOnClose over a hanging store")
		}
	})
}

func TestAttack2HangingStoreShortCloseCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &a2HangStore{release: make(chan struct{})}
		defer close(st.release)
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: st, RevokeOnClose: true})
		tok, err := ts.Token(bg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(bg, time.Second)
		defer cancel()
		start := time.Now()
		if err := ts.Close(ctx); err != nil {
			t.Logf("Close: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Close took %v, want <= its 1s ctx", d)
		}
		// Close spends its ctx on revocations first.
		if e.srv.Active(tok.AccessToken) {
			t.Errorf("token still active: Close must revoke before the store")
		}
	})
}

func TestAttack2PanickingStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: a2PanicStore{}, RevokeOnClose: true})
		if _, err := ts.Token(bg); err != nil {
			t.Fatalf("Token: %v", err)
		}
		ts.Invalidate(mustTok(t, ts).AccessToken)
		if _, err := ts.Token(bg); err != nil {
			t.Fatalf("Token after invalidate: %v", err)
		}
		if _, err := ts.Rotate(bg); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		if err := ts.Close(bg); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

func mustTok(t *testing.T, ts *cryptofuse.TokenSource) *cryptofuse.Token {
	t.Helper()
	tok, err := ts.Token(bg)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAttack2GarbageStore(t *testing.T) {
	for _, g := range [][]byte{{}, []byte("garbage"), make([]byte, 4096), []byte(`{"access_token":"x"}`)} {
		synctest.Test(t, func(t *testing.T) {
			e := a2New(t, nil)
			var unusable atomic.Int64
			e2 := e
			_ = e2
			c2, _ := cryptofuse.NewClient(a2ID, a2Secret, cryptofuse.WithBaseURL(e.srv.URL),
				cryptofuse.WithHTTPClient(&http.Client{Transport: e.rt}),
				cryptofuse.WithHooks(cryptofuse.Hooks{Store: func(ev cryptofuse.StoreEvent) {
					if ev.Op == "get" && ev.Outcome == cryptofuse.StoreUnusable {
						unusable.Add(1)
					}
				}}))
			ts, _ := c2.TokenSource(cryptofuse.TokenPolicy{Store: &a2MapStore{garbage: g}})
			defer ts.Close(bg)
			tok := mustTok(t, ts)
			if !e.srv.Active(tok.AccessToken) {
				t.Errorf("garbage record %q: got an inactive token", g[:min(len(g), 10)])
			}
			if got := e.srv.Counts().Token; got != 1 {
				t.Errorf("token requests = %d, want 1", got)
			}
			if unusable.Load() != 1 {
				t.Errorf("unusable get events = %d, want 1", unusable.Load())
			}
		})
	}
}

// A store that answers any key with the last record Put: the other client's
// record must not be used.
func TestAttack2StoreReturnsOtherClientsRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		e.srv.AddClient("other-client", a2Secret) // same secret: only the key/AD differs
		st := &a2MapStore{anyKey: true}
		tsA := e.ts(t, cryptofuse.TokenPolicy{Store: st})
		defer tsA.Close(bg)
		a := mustTok(t, tsA)
		synctest.Wait()
		cB, _ := cryptofuse.NewClient("other-client", a2Secret, cryptofuse.WithBaseURL(e.srv.URL),
			cryptofuse.WithHTTPClient(&http.Client{Transport: e.rt}))
		tsB, _ := cB.TokenSource(cryptofuse.TokenPolicy{Store: st})
		defer tsB.Close(bg)
		b := mustTok(t, tsB)
		if a.AccessToken == b.AccessToken {
			t.Fatalf("client B was handed client A's token")
		}
		// scopes
		cS, _ := cryptofuse.NewClient(a2ID, a2Secret, cryptofuse.WithBaseURL(e.srv.URL),
			cryptofuse.WithHTTPClient(&http.Client{Transport: e.rt}), cryptofuse.WithScopes("read"))
		tsS, _ := cS.TokenSource(cryptofuse.TokenPolicy{Store: st})
		defer tsS.Close(bg)
		s := mustTok(t, tsS)
		if s.AccessToken == a.AccessToken || s.AccessToken == b.AccessToken {
			t.Fatalf("scope read source was handed another source's token")
		}
	})
}

func TestAttack2StoreGetOKPutFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		st := &a2MapStore{}
		ts1 := e.ts(t, cryptofuse.TokenPolicy{Store: st})
		a := mustTok(t, ts1)
		ts1.Close(bg)
		st.putErr = errA2
		ts2 := e.ts(t, cryptofuse.TokenPolicy{Store: st})
		defer ts2.Close(bg)
		b := mustTok(t, ts2)
		if a.AccessToken != b.AccessToken {
			t.Errorf("stored token not reused")
		}
		r, err := ts2.Rotate(bg)
		if err != nil || r.AccessToken == a.AccessToken {
			t.Fatalf("Rotate with a failing Put: err=%v same=%v", err, err == nil && r.AccessToken == a.AccessToken)
		}
		if got := mustTok(t, ts2); got.AccessToken != r.AccessToken {
			t.Errorf("after Rotate, Token is not the rotated token")
		}
	})
}

func TestAttack2StoreMutatesPutData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		st := &a2MapStore{mutate: true}
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: st})
		defer ts.Close(bg)
		a := mustTok(t, ts)
		want := a.AccessToken
		synctest.Wait()
		time.Sleep(6 * time.Second)
		synctest.Wait()
		b := mustTok(t, ts)
		if b.AccessToken != want || a.AccessToken != want {
			t.Errorf("store's writes to Put data changed the token")
		}
	})
}

// Logger handler that calls back into the SDK.
func TestAttack2LoggerCallsBack(t *testing.T) {
	for _, what := range []string{"token", "transport", "invalidate", "rotate"} {
		t.Run(what, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var p atomic.Pointer[cryptofuse.TokenSource]
				var depth atomic.Int64
				var srvTr http.RoundTripper
				h := a2Handler{fn: func(r slog.Record) {
					ts := p.Load()
					if ts == nil || depth.Add(1) > 1 {
						depth.Add(-1)
						return
					}
					defer depth.Add(-1)
					ctx, cancel := context.WithTimeout(bg, 30*time.Second)
					defer cancel()
					switch what {
					case "token":
						_, _ = ts.Token(ctx)
					case "transport":
						req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:9"+cryptofusetest.ResourcePath, nil)
						if resp, err := ts.Transport(srvTr).RoundTrip(req); err == nil {
							resp.Body.Close()
						}
					case "invalidate":
						if tok, err := ts.Token(ctx); err == nil && r.Message == "never" {
							ts.Invalidate(tok.AccessToken)
						}
					case "rotate":
						_, _ = ts.Rotate(ctx)
					}
				}}
				e := a2New(t, nil, cryptofuse.WithLogger(slog.New(h)))
				srvTr = e.srv.Transport()
				ts := e.ts(t, cryptofuse.TokenPolicy{Store: &a2MapStore{}, RevokeAfter: time.Minute, RevokeOnClose: true})
				p.Store(ts)
				tok := mustTok(t, ts)
				ts.Invalidate(tok.AccessToken)
				if _, err := ts.Token(bg); err != nil {
					t.Errorf("Token after Invalidate: %v", err)
				}
				if code, err := a2Get(ts, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath); err != nil || code != 200 {
					t.Errorf("GET = %d, %v; want 200", code, err)
				}
				time.Sleep(2 * time.Minute)
				synctest.Wait()
				ctx, cancel := context.WithTimeout(bg, time.Minute)
				defer cancel()
				if err := ts.Close(ctx); err != nil {
					t.Logf("Close: %v", err)
				}
			})
		})
	}
}

// Hooks that call back into the SDK, including Close.
func TestAttack2HooksCallBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p atomic.Pointer[cryptofuse.TokenSource]
		var calls atomic.Int64
		call := func() {
			ts := p.Load()
			if ts == nil || calls.Add(1) > 50 {
				return
			}
			ctx, cancel := context.WithTimeout(bg, 10*time.Second)
			defer cancel()
			_, _ = ts.Token(ctx)
		}
		hooks := cryptofuse.Hooks{
			TokenObtained: func(cryptofuse.TokenEvent) { call() },
			Store:         func(cryptofuse.StoreEvent) { call() },
			Invalidated:   func(cryptofuse.InvalidateEvent) { call() },
			Revoked:       func(cryptofuse.RevokeEvent) { call() },
			RefreshFailed: func(cryptofuse.RefreshFailedEvent) { call() },
		}
		e := a2New(t, nil, cryptofuse.WithHooks(hooks))
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: &a2MapStore{}, RevokeAfter: time.Minute, RevokeOnClose: true})
		p.Store(ts)
		tok := mustTok(t, ts)
		ts.Invalidate(tok.AccessToken)
		mustTok(t, ts)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		ctx, cancel := context.WithTimeout(bg, time.Minute)
		defer cancel()
		if err := ts.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

func TestAttack2BackgroundHookPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hooks := cryptofuse.Hooks{
			Store:   func(ev cryptofuse.StoreEvent) { panic("store hook") },
			Revoked: func(cryptofuse.RevokeEvent) { panic("revoked hook") },
		}
		e := a2New(t, nil, cryptofuse.WithHooks(hooks))
		ts := e.ts(t, cryptofuse.TokenPolicy{RevokeAfter: time.Minute})
		defer ts.Close(bg)
		tok := mustTok(t, ts)
		// background refresh via rotate in a goroutine is the caller's; use RevokeAfter timer (background)
		if _, err := ts.Rotate(bg); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if e.srv.Active(tok.AccessToken) {
			t.Errorf("replaced token not revoked after RevokeAfter with a panicking Revoked hook")
		}
	})
}

// 401 to every API request: count tokens minted.
func TestAttack2Always401(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		e.srv.InjectFault(1000000, cryptofusetest.Fault{Path: cryptofusetest.ResourcePath, Status: 401, Body: `{"error":"invalid_token"}`, ContentType: "application/json"})
		ts := e.ts(t, cryptofuse.TokenPolicy{RevokeAfter: time.Second, RevokeOnClose: true})
		for i := range 100 {
			code, err := a2Get(ts, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath)
			if err == nil && code != 401 {
				t.Fatalf("request %d: %d", i, code)
			}
		}
		t.Logf("100 requests at one instant: %d tokens minted", len(e.rt.Issued()))
		if got := len(e.rt.Issued()); got > 3 {
			t.Errorf("100 requests at one instant minted %d tokens, want <= 3", got)
		}
		for i := range 100 {
			_, _ = a2Get(ts, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath)
			_ = i
			time.Sleep(time.Second)
			synctest.Wait()
		}
		// 100 s of backoff steps jittered down to half: 0.5,1,2,4,8,16,30,... < 12 steps
		t.Logf("then 100 requests over 100 s: %d tokens minted in all", len(e.rt.Issued()))
		if got := len(e.rt.Issued()); got > 14 {
			t.Errorf("200 requests over 100 s minted %d tokens, want <= 14 (one per backoff step)", got)
		}
		if err := ts.Close(bg); err != nil {
			t.Errorf("Close: %v", err)
		}
		active := 0
		for _, tk := range e.rt.Issued() {
			if e.srv.Active(tk) {
				active++
			}
			if n := e.rt.Revoked(tk); n > 1 {
				t.Errorf("a token revoked %d times, want 1", n)
			}
		}
		if active != 0 {
			t.Errorf("%d of %d rejected tokens still active after Close, want 0", active, len(e.rt.Issued()))
		}
	})
}

// The server answers the same access token every time.
func TestAttack2SameTokenTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		e.rt.same = "SAMEaccessTOKEN-0123456789abcdef"
		ts := e.ts(t, cryptofuse.TokenPolicy{RevokeAfter: time.Minute, RevokeOnClose: true})
		mustTok(t, ts)
		for range 3 {
			if _, err := ts.Rotate(bg); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Minute)
			synctest.Wait()
		}
		if n := e.rt.Revoked(e.rt.same); n != 0 {
			t.Errorf("current token revoked %d times before Close, want 0", n)
		}
		if err := ts.Close(bg); err != nil {
			t.Errorf("Close: %v", err)
		}
		if n := e.rt.Revoked(e.rt.same); n != 1 {
			t.Errorf("token revoked %d times in all, want 1", n)
		}
	})
}

// A token answer that arrives after Close cancelled its request.
func TestAttack2AnswerAfterCloseBegan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		e.rt.gate = make(chan struct{})
		e.rt.late.Store(true)
		ts := e.ts(t, cryptofuse.TokenPolicy{})
		done := make(chan error, 1)
		go func() {
			_, err := ts.Token(bg)
			done <- err
		}()
		synctest.Wait()
		if err := ts.Close(bg); err != nil {
			t.Logf("Close: %v", err)
		}
		<-done
		iss := e.rt.Issued()
		if len(iss) != 1 {
			t.Fatalf("issued %d, want 1", len(iss))
		}
		if e.srv.Active(iss[0]) {
			t.Errorf("token that arrived after Close cancelled its request is still active, want revoked")
		}
	})
}

// A token answer that arrives after the only caller gave up.
func TestAttack2AnswerAfterCallerGaveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		e.srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Delay: 10 * time.Second})
		ts := e.ts(t, cryptofuse.TokenPolicy{RevokeOnClose: true})
		ctx, cancel := context.WithTimeout(bg, time.Second)
		_, err := ts.Token(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Token = %v, want DeadlineExceeded", err)
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		mustTok(t, ts)
		if err := ts.Close(bg); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, tk := range e.rt.Issued() {
			if e.srv.Active(tk) {
				t.Errorf("an issued token is active after Close with RevokeOnClose")
			}
		}
	})
}

func TestAttack2CloseVariants(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{RevokeOnClose: true})
		mustTok(t, ts)
		//lint:ignore SA1012 on purpose
		if err := ts.Close(nil); err == nil { //nolint:staticcheck
			t.Errorf("Close(nil) = nil, want an error")
		}
		if _, err := ts.Token(bg); err != nil {
			t.Errorf("Token after Close(nil) = %v, want open", err)
		}
		ctx, cancel := context.WithCancel(bg)
		cancel()
		_ = ts.Close(ctx)
		if _, err := ts.Token(bg); !errors.Is(err, cryptofuse.ErrClosed) {
			t.Errorf("Token after Close(cancelled) = %v, want ErrClosed", err)
		}
		if _, err := ts.Rotate(bg); !errors.Is(err, cryptofuse.ErrClosed) {
			t.Errorf("Rotate after Close = %v, want ErrClosed", err)
		}
		if _, err := a2Get(ts, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath); !errors.Is(err, cryptofuse.ErrClosed) {
			t.Errorf("Transport after Close = %v, want ErrClosed", err)
		}
		if err := ts.Close(bg); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	})
}

func TestAttack2CloseConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{RevokeAfter: time.Second, RevokeOnClose: true, Store: &a2MapStore{}})
		var wg sync.WaitGroup
		var bad atomic.Int64
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				switch i % 4 {
				case 0:
					_, err = ts.Token(bg)
				case 1:
					_, err = ts.Rotate(bg)
				case 2:
					_, err = a2Get(ts, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath)
				case 3:
					err = ts.Close(bg)
				}
				if err != nil && !errors.Is(err, cryptofuse.ErrClosed) {
					bad.Add(1)
					t.Logf("op %d: %v", i%4, err)
				}
			}()
		}
		wg.Wait()
		_ = ts.Close(bg)
		if bad.Load() != 0 {
			t.Errorf("%d calls failed with something other than ErrClosed", bad.Load())
		}
		for _, tk := range e.rt.Issued() {
			if e.srv.Active(tk) {
				t.Errorf("an issued token active after concurrent Close with RevokeOnClose")
			}
		}
	})
}

func TestAttack2MaxAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		for _, d := range []time.Duration{1, time.Millisecond, 999 * time.Millisecond, -1, -time.Hour, math.MinInt64} {
			if _, err := e.c.TokenSource(cryptofuse.TokenPolicy{MaxAge: d}); !errors.Is(err, cryptofuse.ErrInvalidConfig) {
				t.Errorf("MaxAge %v: err = %v, want ErrInvalidConfig", d, err)
			}
		}
		for _, p := range []cryptofuse.TokenPolicy{{RefreshBefore: -1}, {RevokeAfter: -1}} {
			if _, err := e.c.TokenSource(p); !errors.Is(err, cryptofuse.ErrInvalidConfig) {
				t.Errorf("%v: err = %v, want ErrInvalidConfig", p, err)
			}
		}
		ts := e.ts(t, cryptofuse.TokenPolicy{MaxAge: math.MaxInt64})
		for range 100 {
			mustTok(t, ts)
			time.Sleep(time.Minute)
			synctest.Wait()
		}
		if got := len(e.rt.Issued()); got != 1 {
			t.Errorf("huge MaxAge, 100 min: %d tokens, want 1", got)
		}
		ts.Close(bg)
		ts1 := e.ts(t, cryptofuse.TokenPolicy{MaxAge: time.Second})
		n0 := len(e.rt.Issued())
		for range 100 {
			mustTok(t, ts1)
		}
		if got := len(e.rt.Issued()) - n0; got != 1 {
			t.Errorf("MaxAge 1s, 100 calls at one instant: %d tokens, want 1", got)
		}
		for range 100 {
			mustTok(t, ts1)
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
		// 10 s: between 10 and ~14 tokens (jitter to 3/4)
		if got := len(e.rt.Issued()) - n0; got < 9 || got > 16 {
			t.Errorf("MaxAge 1s over 10s: %d tokens, want 9..16", got)
		}
		ts1.Close(bg)
	})
}

// Bounded memory: many rotations with RevokeOnClose; expired replaced tokens
// must be forgotten, not revoked at Close.
func TestAttack2RotationsBoundedMemory(t *testing.T) {
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
		ts, _ := c2.TokenSource(cryptofuse.TokenPolicy{MaxAge: time.Minute, RevokeOnClose: true})
		for range 1000 {
			mustTok(t, ts)
			time.Sleep(time.Minute)
			synctest.Wait()
		}
		if err := ts.Close(bg); err != nil {
			t.Errorf("Close: %v", err)
		}
		iss := e.rt.Issued()
		if len(iss) < 900 {
			t.Errorf("issued %d tokens over 1000 min with MaxAge 1m", len(iss))
		}
		// tokens live 10 min, rotated every 45-60 s: at most ~14 alive.
		if n := closeRevokes.Load(); n > 15 {
			t.Errorf("Close revoked %d tokens, want <= 15 (only those still alive)", n)
		}
		for _, tk := range iss {
			if e.srv.Active(tk) {
				t.Errorf("token active after Close")
			}
		}
	})
}

func TestAttack2ManySources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		st := &a2MapStore{}
		var wg sync.WaitGroup
		for i := range 10 {
			ts := e.ts(t, cryptofuse.TokenPolicy{Store: st, MaxAge: time.Second, RevokeAfter: time.Second, RevokeOnClose: i%2 == 0})
			for range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 20 {
						if _, err := ts.Token(bg); err != nil {
							t.Errorf("Token: %v", err)
							return
						}
						_ = fmt.Sprintf("%v %+v %s", ts, *ts, ts)
						time.Sleep(200 * time.Millisecond)
					}
				}()
			}
			defer ts.Close(bg)
		}
		wg.Wait()
	})
}

func TestAttack2FmtVerbs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type secretStore struct {
			a2MapStore
			DSN string
		}
		ss := &secretStore{DSN: "redis://user:" + a2Secret + "@host"}
		e := a2New(t, nil)
		p := cryptofuse.TokenPolicy{Store: ss, MaxAge: time.Hour, RevokeOnClose: true}
		ts := e.ts(t, p)
		defer ts.Close(bg)
		tok := mustTok(t, ts)
		ts.Invalidate(tok.AccessToken)
		tok2 := mustTok(t, ts)
		secrets := []string{a2Secret, tok.AccessToken, tok2.AccessToken, "redis://"}
		verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%p", "%T", "%10.3v", "%-8s"}
		vals := map[string]any{"*ts": ts, "ts": *ts, "policy": p, "*policy": &p,
			"DirStore": cryptofuse.DirStore("/tmp/x"),
			"event":    cryptofuse.TokenEvent{ClientID: a2ID, Fingerprint: cryptofuse.Fingerprint(tok.AccessToken)},
			"[]any":    []any{ts, p}, "map": map[string]any{"ts": ts}}
		for name, v := range vals {
			for _, verb := range verbs {
				if name == "*ts" && verb == "%p" || name == "*policy" && verb == "%p" {
					continue
				}
				out := fmt.Sprintf(verb, v)
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("fmt %s of %s leaks %.8s…: %.200s", verb, name, s, out)
					}
				}
			}
		}
		var buf strings.Builder
		l := slog.New(slog.NewJSONHandler(&buf, nil))
		l.Info("x", "ts", ts, "policy", p, "tsv", *ts)
		for _, s := range secrets {
			if strings.Contains(buf.String(), s) {
				t.Errorf("slog leaks %.8s", s)
			}
		}
	})
}

// Transport: another Host, foreign URL, redirect, non-replayable body after 401.
func TestAttack2TransportOrigin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{})
		defer ts.Close(bg)
		var sent atomic.Int64
		var leaked atomic.Int64
		base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			sent.Add(1)
			if r.URL.Host != "127.0.0.1:9" && r.Header.Get("Authorization") != "" {
				leaked.Add(1)
			}
			if r.URL.Path == "/redir" {
				return &http.Response{StatusCode: 302, Header: http.Header{"Location": {"http://evil.example/steal"}}, Body: http.NoBody, Request: r}, nil
			}
			if r.URL.Path == "/redir-host" {
				return &http.Response{StatusCode: 302, Header: http.Header{"Location": {"http://127.0.0.1:10/x"}}, Body: http.NoBody, Request: r}, nil
			}
			return e.srv.Transport().RoundTrip(r)
		})
		rt := ts.Transport(base)
		hc := &http.Client{Transport: rt}
		cases := []func() *http.Request{
			func() *http.Request {
				r, _ := http.NewRequest("GET", e.srv.URL+cryptofusetest.ResourcePath, nil)
				r.Host = "evil.example"
				return r
			},
			func() *http.Request {
				r, _ := http.NewRequest("GET", e.srv.URL+cryptofusetest.ResourcePath, nil)
				r.Host = "127.0.0.1:10"
				return r
			},
			func() *http.Request { r, _ := http.NewRequest("GET", "http://evil.example/x", nil); return r },
			func() *http.Request { r, _ := http.NewRequest("GET", "https://127.0.0.1:9/x", nil); return r },
			func() *http.Request { r, _ := http.NewRequest("GET", "http://127.0.0.1:90/x", nil); return r },
			func() *http.Request { r, _ := http.NewRequest("GET", "http://127.0.0.1/x", nil); return r },
			func() *http.Request { r, _ := http.NewRequest("GET", "http://localhost:9/x", nil); return r },
		}
		for i, mk := range cases {
			n := sent.Load()
			_, err := rt.RoundTrip(mk())
			if !errors.Is(err, cryptofuse.ErrForeignOrigin) {
				t.Errorf("case %d: err = %v, want ErrForeignOrigin", i, err)
			}
			if sent.Load() != n {
				t.Errorf("case %d: request was sent", i)
			}
		}
		for _, p := range []string{"/redir", "/redir-host"} {
			resp, err := hc.Get(e.srv.URL + p)
			if err == nil {
				resp.Body.Close()
			}
			if !errors.Is(err, cryptofuse.ErrForeignOrigin) {
				t.Errorf("redirect %s: err = %v, want ErrForeignOrigin", p, err)
			}
		}
		if leaked.Load() != 0 {
			t.Errorf("token sent to a foreign host %d times", leaked.Load())
		}
		// Host equal to own host, explicit: OK
		r, _ := http.NewRequest("GET", e.srv.URL+cryptofusetest.ResourcePath, nil)
		r.Host = "127.0.0.1:9"
		resp, err := rt.RoundTrip(r)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("own Host: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAttack2NonReplayableBody401(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{})
		defer ts.Close(bg)
		a := mustTok(t, ts)
		e.srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.ResourcePath, Status: 401})
		req, _ := http.NewRequest("POST", e.srv.URL+cryptofusetest.ResourcePath, strings.NewReader("x=1"))
		req.GetBody = nil
		req.Body = io.NopCloser(strings.NewReader("x=1"))
		resp, err := ts.Transport(e.srv.Transport()).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("status %d, want the 401 returned", resp.StatusCode)
		}
		b := mustTok(t, ts)
		if b.AccessToken == a.AccessToken {
			t.Errorf("token not invalidated after a 401 on a non-replayable body")
		}
		if code, err := a2Get(ts, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath); code != 200 {
			t.Errorf("next GET = %d %v, want 200", code, err)
		}
	})
}
