package cryptofuse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFingerprint(t *testing.T) {
	tests := []struct {
		name, token string
	}{
		{"short", "a"},
		{"typical", "Zx9sV2kQpL0mN3bR7tY1uW4eC6dA8f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Fingerprint(tt.token)
			if len(got) != 12 {
				t.Errorf("len(Fingerprint) = %d, want 12", len(got))
			}
			if strings.Contains(got, tt.token) && len(tt.token) > 1 {
				t.Errorf("Fingerprint(%q) = %q holds the token", tt.token, got)
			}
			if again := Fingerprint(tt.token); again != got {
				t.Errorf("Fingerprint is not stable: got %q then %q", got, again)
			}
		})
	}
	if Fingerprint("a") == Fingerprint("b") {
		t.Errorf("Fingerprint(a) == Fingerprint(b)")
	}
}

// attemptRecorder is an Attempt hook that keeps every event it gets.
type attemptRecorder struct {
	mu     sync.Mutex
	events []AttemptEvent
}

func (r *attemptRecorder) hook(ev AttemptEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *attemptRecorder) get() []AttemptEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]AttemptEvent(nil), r.events...)
}

// steppingNow is a clock that advances by step at each reading, from
// testNow, and counts its readings.
type steppingNow struct {
	step  time.Duration
	reads atomic.Int64
}

func (s *steppingNow) now() time.Time {
	n := s.reads.Add(1)
	return testNow.Add(time.Duration(n) * s.step)
}

// wantAttempt is what a test expects of one AttemptEvent.
type wantAttempt struct {
	status  int
	errIs   error // nil: Err must be nil
	retryIn time.Duration
	retry   bool
	gaveUp  string
}

// TestAttemptHook: the Attempt hook sees every attempt of every call, with
// its outcome and what follows it, and no event holds a secret.
func TestAttemptHook(t *testing.T) {
	t.Parallel()
	errAny := errors.New("any error") // Err must be non-nil
	tests := []struct {
		name     string
		op       string
		handler  func(n int, w http.ResponseWriter) // the n-th request (from 1)
		refused  bool                               // no server listens
		cancel   bool                               // ctx is cancelled before the call
		attempts []wantAttempt
	}{
		{
			name:     "success",
			op:       opRevoke,
			handler:  func(int, http.ResponseWriter) {},
			attempts: []wantAttempt{{status: 200}},
		},
		{
			name: "503 then success",
			op:   opToken,
			handler: func(n int, w http.ResponseWriter) {
				if n == 1 {
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tokenJSON1))
			},
			attempts: []wantAttempt{
				{status: 503, errIs: errAny, retry: true, retryIn: time.Second},
				{status: 200},
			},
		},
		{
			name: "400 not retryable",
			op:   opRevoke,
			handler: func(_ int, w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error": "invalid_request", "error_description": "bad ` + testToken + `"}`))
			},
			attempts: []wantAttempt{{status: 400, errIs: ErrInvalidRequest, gaveUp: stopFinal}},
		},
		{
			name:    "connection refused",
			op:      opRevoke,
			refused: true,
			attempts: []wantAttempt{
				{errIs: errAny, retry: true, retryIn: 100 * time.Millisecond},
				{errIs: errAny, retry: true, retryIn: 200 * time.Millisecond},
				{errIs: errAny, gaveUp: stopAttempts},
			},
		},
		{
			name:     "ctx cancelled",
			op:       opRevoke,
			handler:  func(int, http.ResponseWriter) {},
			cancel:   true,
			attempts: []wantAttempt{{errIs: context.Canceled, gaveUp: stopContext}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.handler(int(requests.Add(1)), w)
			}))
			t.Cleanup(srv.Close)
			base := srv.URL
			if tt.refused {
				base = closedAddr(t)
			}
			var rec attemptRecorder
			clk := &steppingNow{step: 10 * time.Millisecond}
			sleep, _ := fakeSleep()
			c, err := NewClient(testID, testSecret, WithBaseURL(base), WithHooks(Hooks{Attempt: rec.hook}),
				withClock(clock{now: clk.now}), sleep, halfJitter)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if tt.cancel {
				cancel()
			}
			callErr := callOp(ctx, c, tt.op)

			events := rec.get()
			if len(events) != len(tt.attempts) {
				t.Fatalf("got %d events, want %d: %+v", len(events), len(tt.attempts), events)
			}
			host, port := hostPort(t, base)
			var prevStart time.Time
			for i, ev := range events {
				want := tt.attempts[i]
				checks := []struct {
					field     string
					got, want any
				}{
					{"Op", ev.Op, tt.op},
					{"Method", ev.Method, "POST"},
					{"URL", ev.URL, base + pathOf[tt.op]},
					{"ServerAddress", ev.ServerAddress, host},
					{"ServerPort", ev.ServerPort, port},
					{"Attempt", ev.Attempt, i + 1},
					{"StatusCode", ev.StatusCode, want.status},
					{"Retry", ev.Retry, want.retry},
					{"RetryIn", ev.RetryIn, want.retryIn},
					{"GaveUp", ev.GaveUp, want.gaveUp},
				}
				for _, ck := range checks {
					if ck.got != ck.want {
						t.Errorf("event %d: %s: got %v, want %v", i+1, ck.field, ck.got, ck.want)
					}
				}
				switch {
				case want.errIs == nil && ev.Err != nil:
					t.Errorf("event %d: Err: got %v, want nil", i+1, ev.Err)
				case want.errIs != nil && ev.Err == nil:
					t.Errorf("event %d: Err: got nil, want an error", i+1)
				case want.errIs != nil && want.errIs != errAny && !errors.Is(ev.Err, want.errIs):
					t.Errorf("event %d: Err: got %v, want one wrapping %v", i+1, ev.Err, want.errIs)
				}
				if ev.Context == nil {
					t.Errorf("event %d: Context is nil", i+1)
				}
				if !ev.Start.After(prevStart) {
					t.Errorf("event %d: Start: got %v, want after %v", i+1, ev.Start, prevStart)
				}
				prevStart = ev.Start
				if ev.Duration <= 0 {
					t.Errorf("event %d: Duration: got %v, want > 0", i+1, ev.Duration)
				}
			}
			last := events[len(events)-1]
			if !errors.Is(callErr, last.Err) && (callErr != nil || last.Err != nil) {
				t.Errorf("the call's error %v is not the last event's %v", callErr, last.Err)
			}
			if dump := fmt.Sprintf("%+v %v %#v", events, events, events); strings.Contains(dump, testSecret) ||
				strings.Contains(dump, testToken) || strings.Contains(dump, "AT-1234567890abcdefghijklmnopq") {
				t.Errorf("an event holds a secret or a token: %s", dump)
			}
		})
	}
}

// closedAddr returns the base URL of a loopback port nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// hostPort splits a base URL's host and port.
func hostPort(t *testing.T, base string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return h, port
}

// TestAttemptHookClockReads: the send path reads the clock only for a
// logger or an Attempt hook: a successful Revoke without them reads it
// never, with the hook twice (the attempt's start and end).
func TestAttemptHookClockReads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		hooks Hooks
		want  int64
	}{
		{"no hooks", Hooks{}, 0},
		{"other hooks only", Hooks{TokenObtained: func(TokenEvent) {}, Revoked: func(RevokeEvent) {}}, 0},
		{"Attempt", Hooks{Attempt: func(AttemptEvent) {}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &steppingNow{step: time.Millisecond}
			c, mt := setup(t, WithHooks(tt.hooks), withClock(clock{now: clk.now}))
			mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(ok200))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := c.Revoke(ctx, testToken, AccessTokenHint); err != nil {
				t.Fatal(err)
			}
			if got := clk.reads.Load(); got != tt.want {
				t.Errorf("got %d clock reads, want %d", got, tt.want)
			}
		})
	}
}

// TestAttemptHookWithLogger: with both a logger and the hook, the log line
// and the event report the same duration.
func TestAttemptHookWithLogger(t *testing.T) {
	t.Parallel()
	logger, buf := logCapture(t)
	var rec attemptRecorder
	clk := &steppingNow{step: 7 * time.Millisecond}
	c, mt := setup(t, WithLogger(logger), WithHooks(Hooks{Attempt: rec.hook}), withClock(clock{now: clk.now}))
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(ok200))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Revoke(ctx, testToken, AccessTokenHint); err != nil {
		t.Fatal(err)
	}
	events := rec.get()
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1", len(events))
	}
	if got, want := events[0].Duration, 7*time.Millisecond; got != want {
		t.Errorf("Duration: got %v, want %v", got, want)
	}
	if got, want := buf.String(), "duration=7ms"; !strings.Contains(got, want) {
		t.Errorf("log: got %q, want it to contain %q", got, want)
	}
}

// TestAttemptHookStatusOfUnusableAnswer: a 2xx answer the attempt cannot
// use (a body over the cap) is reported with its status, not 0, and its
// error.
func TestAttemptHookStatusOfUnusableAnswer(t *testing.T) {
	t.Parallel()
	var rec attemptRecorder
	c, mt := setup(t, WithHooks(Hooks{Attempt: rec.hook}), noRetry)
	huge := strings.Repeat("x", maxBodySize+1)
	mt.RegisterResponder(http.MethodPost, mockBase+tokenPath, script(step{a: answer{200, jsonHeader(), huge}}))
	if _, err := c.Token(context.Background()); err == nil {
		t.Fatal("Token: got nil error, want one for an answer over the cap")
	}
	events := rec.get()
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1", len(events))
	}
	if events[0].StatusCode != 200 || events[0].Err == nil {
		t.Errorf("got status %d, err %v; want 200 and an error", events[0].StatusCode, events[0].Err)
	}
}

func TestServerOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base string
		want serverAddr
	}{
		{"https://api.cryptofuse.io", serverAddr{"api.cryptofuse.io", 443}},
		{"https://auth.example.com:8443/tenant", serverAddr{"auth.example.com", 8443}},
		{"http://localhost", serverAddr{"localhost", 80}},
		{"http://127.0.0.1:8000", serverAddr{"127.0.0.1", 8000}},
		{"http://[::1]:9000", serverAddr{"::1", 9000}},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			c, err := NewClient(testID, testSecret, WithBaseURL(tt.base))
			if err != nil {
				t.Fatal(err)
			}
			if c.server != tt.want {
				t.Errorf("got %+v, want %+v", c.server, tt.want)
			}
		})
	}
}
