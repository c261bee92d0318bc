package cryptofuse_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

type atkRec struct {
	mu  sync.Mutex
	evs []cryptofuse.AttemptEvent
	txt []string
}

func (r *atkRec) hook(e cryptofuse.AttemptEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
	if e.Err != nil {
		r.txt = append(r.txt, e.Err.Error())
	} else {
		r.txt = append(r.txt, "")
	}
}

func (r *atkRec) get() []cryptofuse.AttemptEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]cryptofuse.AttemptEvent(nil), r.evs...)
}

// Promise: one Attempt event per HTTP attempt, numbered, with Retry / GaveUp.
func TestAttackAttemptEventsSequence(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	tok := srv.IssueToken(atkID, "")
	var r atkRec
	cl := atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: r.hook}))

	srv.InjectFault(2, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 503})
	in, err := cl.Introspect(context.Background(), tok)
	if err != nil || !in.Active {
		t.Fatalf("Introspect: %+v %v", in, err)
	}
	evs := r.get()
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	for i, e := range evs {
		if e.Attempt != i+1 || e.Op != "introspect" || e.Method != "POST" || e.URL != srv.URL+"/o/introspect/" {
			t.Errorf("event %d = %+v", i, e)
		}
		if e.ServerAddress+":"+itoa(e.ServerPort) != host {
			t.Errorf("event %d server %s:%d, want %s", i, e.ServerAddress, e.ServerPort, host)
		}
		if e.Context == nil || e.Start.IsZero() || e.Duration < 0 {
			t.Errorf("event %d context/start/duration: %+v", i, e)
		}
		atkNoLeak(t, "event", e.URL+e.ServerAddress+e.GaveUp, tok, atkSecret)
	}
	if evs[0].StatusCode != 503 || !evs[0].Retry || evs[0].GaveUp != "" || evs[0].Err == nil {
		t.Errorf("first = %+v", evs[0])
	}
	if evs[2].StatusCode != 200 || evs[2].Retry || evs[2].GaveUp != "" || evs[2].Err != nil {
		t.Errorf("last = %+v", evs[2])
	}
	for _, s := range r.txt {
		atkNoLeak(t, "event err", s, tok, atkSecret)
	}

	// Exhausted.
	r = atkRec{}
	cl = atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: r.hook}))
	srv.InjectFault(3, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 503})
	_, err = cl.Introspect(context.Background(), tok)
	evs = r.get()
	if len(evs) != 3 || evs[2].GaveUp != "attempts exhausted" || evs[2].Retry || evs[2].Err == nil {
		t.Fatalf("exhausted events = %+v", evs)
	}
	if err == nil || r.txt[2] == "" {
		t.Errorf("err %v, last event err %q", err, r.txt[2])
	}
	// Not retryable.
	r = atkRec{}
	cl = atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: r.hook}))
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 404})
	_, err = cl.Introspect(context.Background(), tok)
	evs = r.get()
	if err == nil {
		t.Error("404: nil error")
	}
	if len(evs) != 1 || evs[0].GaveUp != "not retryable" || evs[0].StatusCode != 404 {
		t.Fatalf("404 events = %+v", evs)
	}
	// RevokeAndVerify: one revoke event and one introspect event.
	r = atkRec{}
	cl = atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: r.hook}))
	if err := cl.RevokeAndVerify(context.Background(), tok, ""); err != nil {
		t.Fatal(err)
	}
	evs = r.get()
	if len(evs) != 2 || evs[0].Op != "revoke" || evs[1].Op != "introspect" || evs[0].URL != srv.URL+"/o/revoke_token/" {
		t.Errorf("RevokeAndVerify events = %+v", evs)
	}
	// Refused input: no event.
	r = atkRec{}
	cl = atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: r.hook}))
	cl.RevokeAndVerify(context.Background(), "Bearer x", "")
	cl.Introspect(context.Background(), "")
	if n := len(r.get()); n != 0 {
		t.Errorf("%d events for refused input", n)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// Promise: a ctx cancelled during the wait ends it at once; no attempt follows,
// and the error wraps both the last failure and ctx's error.
func TestAttackAttemptCancelDuringWait(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 503, RetryAfter: "5"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var r atkRec
	hook := func(e cryptofuse.AttemptEvent) {
		r.hook(e)
		if e.Retry {
			cancel()
		}
	}
	cl, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL),
		cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Hour, MaxDelay: time.Hour}),
		cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: hook}))
	done := make(chan error, 1)
	go func() { _, err := cl.Introspect(ctx, "tok-abcdef"); done <- err }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("cancelled wait did not end")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v does not wrap Canceled", err)
	}
	var e *cryptofuse.Error
	if !errors.As(err, &e) || e.StatusCode != 503 {
		t.Errorf("err %v does not wrap the 503", err)
	}
	if c := srv.Counts(); c.Introspect != 1 {
		t.Errorf("%d attempts, want 1", c.Introspect)
	}
	evs := r.get()
	if len(evs) != 1 || !evs[0].Retry || evs[0].RetryIn != 5*time.Second {
		t.Errorf("events = %+v", evs)
	}
}

// Promise: a server answering after the caller gave up: the call returns with
// ctx's error, the event says "context done" (or no answer), StatusCode 0.
func TestAttackAttemptServerAnswersLate(t *testing.T) {
	release := make(chan struct{})
	srv := atkNewServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"active":true}`))
	})
	defer close(release)
	var r atkRec
	cl := atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: r.hook}))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	in, err := cl.Introspect(ctx, "tok-abcdef")
	if err == nil || in != nil {
		t.Fatalf("late answer: %+v %v", in, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v not DeadlineExceeded", err)
	}
	evs := r.get()
	if len(evs) != 1 || evs[0].StatusCode != 0 || evs[0].Retry || evs[0].GaveUp != "context done" {
		t.Errorf("events = %+v", evs)
	}
}

// Promise: a hook that panics on the caller's goroutine panics that call, and
// leaves the client usable (hooks run outside locks).
func TestAttackHookPanicCallerGoroutine(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	var armed atomic.Bool
	armed.Store(true)
	cl := atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: func(e cryptofuse.AttemptEvent) {
		if armed.Load() {
			panic("hook boom")
		}
	}}))
	func() {
		defer func() {
			if v := recover(); v == nil {
				t.Error("panicking hook did not panic the call")
			}
		}()
		cl.Introspect(context.Background(), "tok-abcdef")
	}()
	armed.Store(false)
	done := make(chan error, 1)
	go func() { _, err := cl.Introspect(context.Background(), "tok-abcdef"); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after panic: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("client wedged after hook panic")
	}
}

// Promise: a hook may call back into the SDK (no lock held).
func TestAttackHookReentrant(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	var cl *cryptofuse.Client
	var inner atomic.Int64
	var depth atomic.Int64
	cl = atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: func(e cryptofuse.AttemptEvent) {
		if depth.Add(1) == 1 {
			tok := srv.IssueToken(atkID, "")
			if err := cl.RevokeAndVerify(e.Context, tok, ""); err != nil {
				t.Errorf("inner RevokeAndVerify: %v", err)
			}
			if _, err := cl.Introspect(e.Context, tok); err != nil {
				t.Errorf("inner Introspect: %v", err)
			}
			inner.Add(1)
		}
		depth.Add(-1)
	}}))
	ts, _ := cl.TokenSource(cryptofuse.TokenPolicy{})
	defer ts.Close(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := cl.Introspect(context.Background(), "tok-abcdef")
		if err == nil {
			_, err = ts.Token(context.Background())
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("re-entrant hook deadlocked")
	}
	if inner.Load() < 2 {
		t.Errorf("inner calls %d", inner.Load())
	}
}

// Promise: a blocking hook slows only the call that reports.
func TestAttackHookBlocksOnlyItsCall(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	type key struct{}
	block := make(chan struct{})
	cl := atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: func(e cryptofuse.AttemptEvent) {
		if e.Context.Value(key{}) != nil {
			<-block
		}
	}}))
	slow := make(chan error, 1)
	go func() {
		_, err := cl.Introspect(context.WithValue(context.Background(), key{}, 1), "tok-abcdef")
		slow <- err
	}()
	for i := 0; i < 5; i++ {
		fast := make(chan error, 1)
		go func() { fast <- cl.RevokeAndVerify(context.Background(), srv.IssueToken(atkID, ""), "") }()
		select {
		case err := <-fast:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a blocked hook of another call blocked this one")
		}
	}
	close(block)
	if err := <-slow; err != nil {
		t.Error(err)
	}
}

// Promise: hooks under concurrency: one event per request, no races.
func TestAttackHooksConcurrent(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 503, Every: 3})
	var n atomic.Int64
	var r atkRec
	cl := atkClient(t, srv.URL, cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 10, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}),
		cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: func(e cryptofuse.AttemptEvent) { n.Add(1); r.hook(e) }}))
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				tok := srv.IssueToken(atkID, "")
				if err := cl.RevokeAndVerify(context.Background(), tok, ""); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	c := srv.Counts()
	if int(n.Load()) != c.Introspect+c.Revoke {
		t.Errorf("events %d, requests %d", n.Load(), c.Introspect+c.Revoke)
	}
}
