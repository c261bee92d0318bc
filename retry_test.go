package cryptofuse

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noRetry turns retries off, for tests about a single attempt.
var noRetry = WithRetry(RetryPolicy{MaxAttempts: 1})

// fakeSleep replaces sleep for the test: waits are recorded, not slept, and
// return at once unless ctx is already done.
func fakeSleep(t *testing.T) func() []time.Duration {
	t.Helper()
	var mu sync.Mutex
	var waits []time.Duration
	orig := sleep
	sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	t.Cleanup(func() { sleep = orig })
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), waits...)
	}
}

// halfJitter makes every backoff wait half its ceiling, so waits are
// predictable.
func halfJitter(t *testing.T) {
	t.Helper()
	orig := jitter
	jitter = func(n int64) int64 { return n / 2 }
	t.Cleanup(func() { jitter = orig })
}

// step is one answer of a scripted server: an HTTP answer, or a transport
// error instead of one.
type step struct {
	a   answer
	err error
}

// script answers with steps in order and repeats the last one.
func script(steps ...step) httpmock.Responder {
	var i atomic.Int32
	return func(r *http.Request) (*http.Response, error) {
		n := int(i.Add(1)) - 1
		s := steps[min(n, len(steps)-1)]
		if s.err != nil {
			return nil, s.err
		}
		return s.a.responder()(r)
	}
}

var (
	ok200       = step{a: answer{200, jsonHeader(), tokenJSON1}} // a token answer; Revoke ignores the body
	dialRefused = step{err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	connReset   = step{err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}
	badCert     = step{err: x509.UnknownAuthorityError{}}
)

func status(code int, retryAfter string) step {
	h := http.Header{}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return step{a: answer{code, h, "<html>" + http.StatusText(code) + "</html>"}}
}

func oauthError(code int, errCode string) step {
	return step{a: answer{code, jsonHeader(), `{"error": "` + errCode + `"}`}}
}

// TestRetryPolicy checks, call by call, what is retried, how often and after
// which waits, under the default policy unless a case sets another.
func TestRetryPolicy(t *testing.T) {
	const ms = time.Millisecond
	cases := []struct {
		name         string
		op           string
		policy       *RetryPolicy
		steps        []step
		wantAttempts int
		wantWaits    []time.Duration // with halfJitter: half of each backoff ceiling
		wantStatus   int             // of the final *Error; 0: success, or no answer
		wantRetry    time.Duration   // the final *Error's RetryAfter
	}{
		// Revoke: idempotent, so everything transient is retried.
		{name: "revoke 503 then 200", op: opRevoke, steps: []step{status(503, ""), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "revoke persistent 503", op: opRevoke, steps: []step{status(503, "")}, wantAttempts: 3, wantWaits: []time.Duration{100 * ms, 200 * ms}, wantStatus: 503},
		{name: "revoke 500 then 200", op: opRevoke, steps: []step{status(500, ""), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "revoke 502 502 200", op: opRevoke, steps: []step{status(502, ""), status(502, ""), ok200}, wantAttempts: 3, wantWaits: []time.Duration{100 * ms, 200 * ms}},
		{name: "revoke 504 then 200", op: opRevoke, steps: []step{status(504, ""), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "revoke 429 then 200", op: opRevoke, steps: []step{status(429, ""), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "revoke connection reset then 200", op: opRevoke, steps: []step{connReset, ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "revoke dial refused then 200", op: opRevoke, steps: []step{dialRefused, ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},

		// Retry-After on 429 and 503 sets the wait.
		{name: "revoke 503 Retry-After 1", op: opRevoke, steps: []step{status(503, "1"), ok200}, wantAttempts: 2, wantWaits: []time.Duration{time.Second}},
		{name: "revoke 429 Retry-After 2", op: opRevoke, steps: []step{status(429, "2"), ok200}, wantAttempts: 2, wantWaits: []time.Duration{2 * time.Second}},
		{name: "revoke 503 Retry-After date", op: opRevoke, steps: []step{status(503, "Wed, 25 Nov 2026 12:00:03 GMT"), ok200}, wantAttempts: 2, wantWaits: []time.Duration{3 * time.Second}},
		{name: "revoke 503 Retry-After 0 backs off", op: opRevoke, steps: []step{status(503, "0"), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "revoke 503 Retry-After garbage backs off", op: opRevoke, steps: []step{status(503, "soon"), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "revoke 500 Retry-After ignored", op: opRevoke, steps: []step{status(500, "5"), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "Retry-After over MaxDelay: not slept", op: opRevoke, steps: []step{status(503, "30"), ok200}, wantAttempts: 1, wantStatus: 503, wantRetry: 30 * time.Second},
		{name: "Retry-After over a custom MaxDelay", op: opRevoke, policy: &RetryPolicy{MaxDelay: time.Second}, steps: []step{status(429, "2"), ok200}, wantAttempts: 1, wantStatus: 429, wantRetry: 2 * time.Second},

		// Token: only what cannot have issued a token.
		{name: "token 503 then 200", op: opToken, steps: []step{status(503, ""), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "token 429 Retry-After 1 then 200", op: opToken, steps: []step{status(429, "1"), ok200}, wantAttempts: 2, wantWaits: []time.Duration{time.Second}},
		{name: "token dial refused then 200", op: opToken, steps: []step{dialRefused, ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "token persistent dial failure", op: opToken, steps: []step{dialRefused}, wantAttempts: 3, wantWaits: []time.Duration{100 * ms, 200 * ms}},
		{name: "token connection reset: not retried", op: opToken, steps: []step{connReset, ok200}, wantAttempts: 1},
		{name: "token 500: not retried", op: opToken, steps: []step{status(500, ""), ok200}, wantAttempts: 1, wantStatus: 500},
		{name: "token 502: not retried", op: opToken, steps: []step{status(502, ""), ok200}, wantAttempts: 1, wantStatus: 502},
		{name: "token 504: not retried", op: opToken, steps: []step{status(504, ""), ok200}, wantAttempts: 1, wantStatus: 504},

		// Never retried: verdicts, redirects, certificate failures.
		{name: "revoke 400 invalid_request", op: opRevoke, steps: []step{oauthError(400, "invalid_request"), ok200}, wantAttempts: 1, wantStatus: 400},
		{name: "revoke 401 invalid_client", op: opRevoke, steps: []step{oauthError(401, "invalid_client"), ok200}, wantAttempts: 1, wantStatus: 401},
		{name: "revoke 403 page", op: opRevoke, steps: []step{status(403, ""), ok200}, wantAttempts: 1, wantStatus: 403},
		{name: "revoke 404 page", op: opRevoke, steps: []step{status(404, ""), ok200}, wantAttempts: 1, wantStatus: 404},
		{name: "token 400 invalid_scope", op: opToken, steps: []step{oauthError(400, "invalid_scope"), ok200}, wantAttempts: 1, wantStatus: 400},
		{name: "token 401 invalid_client", op: opToken, steps: []step{oauthError(401, "invalid_client"), ok200}, wantAttempts: 1, wantStatus: 401},
		{name: "429 with an RFC 6749 error code", op: opRevoke, steps: []step{oauthError(429, "invalid_request"), ok200}, wantAttempts: 1, wantStatus: 429},
		{name: "429 with another error code is retried", op: opToken, steps: []step{oauthError(429, "slow_down"), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "429 temporarily_unavailable is retried", op: opRevoke, steps: []step{oauthError(429, "temporarily_unavailable"), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "503 with an RFC 6749 error code is retried", op: opRevoke, steps: []step{oauthError(503, "temporarily_unavailable"), ok200}, wantAttempts: 2, wantWaits: []time.Duration{100 * ms}},
		{name: "redirect", op: opRevoke, steps: []step{{a: answer{307, http.Header{"Location": {"https://elsewhere.example/"}}, ""}}, ok200}, wantAttempts: 1, wantStatus: 307},
		{name: "bad certificate", op: opRevoke, steps: []step{badCert, ok200}, wantAttempts: 1},

		// Policies.
		{name: "retries off", op: opRevoke, policy: &RetryPolicy{MaxAttempts: 1}, steps: []step{status(503, ""), ok200}, wantAttempts: 1, wantStatus: 503},
		{name: "five attempts, capped backoff", op: opRevoke, policy: &RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * ms, MaxDelay: 300 * ms},
			steps: []step{status(502, "")}, wantAttempts: 5, wantWaits: []time.Duration{50 * ms, 100 * ms, 150 * ms, 150 * ms}, wantStatus: 502},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setNow(t, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
			waits := fakeSleep(t)
			halfJitter(t)
			var opts []Option
			if tc.policy != nil {
				opts = append(opts, WithRetry(*tc.policy))
			}
			c, mt := setup(t, opts...)
			path := map[string]string{opRevoke: revokePath, opToken: tokenPath}[tc.op]
			mt.RegisterResponder(http.MethodPost, mockBase+path, script(tc.steps...))

			var err error
			if tc.op == opRevoke {
				err = c.Revoke(context.Background(), testToken, AccessTokenHint)
			} else {
				_, err = c.Token(context.Background())
			}

			assert.Equal(t, tc.wantAttempts, mt.GetTotalCallCount(), "requests sent")
			assert.Equal(t, tc.wantWaits, waits(), "waits between attempts")
			last := tc.steps[min(tc.wantAttempts, len(tc.steps))-1]
			if last.err == nil && last.a.status == 200 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var e *Error
			if tc.wantStatus == 0 {
				assert.False(t, errors.As(err, &e), "no *Error without an answer: %v", err)
				return
			}
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.wantStatus, e.StatusCode, "StatusCode")
			assert.Equal(t, tc.wantRetry, e.RetryAfter, "RetryAfter")
		})
	}
}

func TestRetryPolicy_AttemptsInMessage(t *testing.T) {
	fakeSleep(t)
	cases := []struct {
		name  string
		op    string
		steps []step
		want  string
	}{
		{"answer", opRevoke, []step{status(503, "")}, "cryptofuse: revoke: 503 Service Unavailable (after 3 attempts)"},
		{"answer with Retry-After", opRevoke, []step{status(503, "1")}, "cryptofuse: revoke: 503 Service Unavailable (retry after 1s) (after 3 attempts)"},
		{"no answer", opToken, []step{dialRefused}, `cryptofuse: token: after 3 attempts: Post "https://api.cryptofuse.io/o/token/": dial tcp: connection refused`},
		{"one attempt", opToken, []step{status(502, "")}, "cryptofuse: token: 502 Bad Gateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := setup(t)
			path := map[string]string{opRevoke: revokePath, opToken: tokenPath}[tc.op]
			mt.RegisterResponder(http.MethodPost, mockBase+path, script(tc.steps...))
			var err error
			if tc.op == opRevoke {
				err = c.Revoke(context.Background(), testToken, "")
			} else {
				_, err = c.Token(context.Background())
			}
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestRetryPolicy_Backoff(t *testing.T) {
	orig := jitter
	jitter = func(n int64) int64 { return n - 1 } // the top of the range
	t.Cleanup(func() { jitter = orig })

	const ms = time.Millisecond
	cases := []struct {
		name   string
		policy RetryPolicy
		n      int
		want   time.Duration
	}{
		{"first", DefaultRetryPolicy, 1, 200*ms - 1},
		{"second", DefaultRetryPolicy, 2, 400*ms - 1},
		{"capped", DefaultRetryPolicy, 7, 10*time.Second - 1},
		{"no overflow at 63", DefaultRetryPolicy, 63, 10*time.Second - 1},
		{"no overflow at 1000", DefaultRetryPolicy, 1000, 10*time.Second - 1},
		{"base over max", RetryPolicy{MaxAttempts: 3, BaseDelay: time.Minute, MaxDelay: time.Second}, 1, time.Second - 1},
		{"huge max", RetryPolicy{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: time.Duration(1<<63 - 1)}, 30, 1<<29*time.Second - 1},
		{"zero base", RetryPolicy{MaxAttempts: 3}, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.policy.backoff(tc.n); got != tc.want {
				t.Errorf("backoff(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

func TestWithRetry_Validation(t *testing.T) {
	cases := []struct {
		name    string
		policy  RetryPolicy
		wantErr bool
		want    RetryPolicy
	}{
		{"zero value is the default", RetryPolicy{}, false, DefaultRetryPolicy},
		{"off", RetryPolicy{MaxAttempts: 1}, false, RetryPolicy{MaxAttempts: 1, BaseDelay: DefaultRetryPolicy.BaseDelay, MaxDelay: DefaultRetryPolicy.MaxDelay}},
		{"all set", RetryPolicy{MaxAttempts: 7, BaseDelay: time.Second, MaxDelay: time.Minute}, false, RetryPolicy{MaxAttempts: 7, BaseDelay: time.Second, MaxDelay: time.Minute}},
		{"negative attempts", RetryPolicy{MaxAttempts: -1}, true, RetryPolicy{}},
		{"negative base", RetryPolicy{BaseDelay: -time.Second}, true, RetryPolicy{}},
		{"negative max", RetryPolicy{MaxDelay: -time.Second}, true, RetryPolicy{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(testID, testSecret, WithRetry(tc.policy))
			if tc.wantErr {
				require.ErrorIs(t, err, ErrInvalidConfig)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.retry)
		})
	}
	c, err := NewClient(testID, testSecret)
	require.NoError(t, err)
	assert.Equal(t, DefaultRetryPolicy, c.retry, "without WithRetry")
}

// TestRetry_WaitPastDeadlineIsNotSlept: a Retry-After longer than what is
// left of the deadline returns the 503 at once, with its RetryAfter.
func TestRetry_WaitPastDeadlineIsNotSlept(t *testing.T) {
	waits := fakeSleep(t)
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(status(503, "5"), ok200))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	err := c.Revoke(ctx, testToken, "")

	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 503, e.StatusCode)
	assert.Equal(t, 5*time.Second, e.RetryAfter)
	assert.Empty(t, waits(), "waits slept")
	assert.Equal(t, 1, mt.GetTotalCallCount(), "requests sent")
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "the deadline has not passed")
	assert.NoError(t, ctx.Err(), "returned before the deadline")
}

// TestRetry_DefaultTimeoutBoundsWaits: a ctx without a deadline gets
// DefaultTimeout, and waits past it are not slept either.
func TestRetry_DefaultTimeoutBoundsWaits(t *testing.T) {
	waits := fakeSleep(t)
	orig := defaultTimeout
	defaultTimeout = 2 * time.Second
	t.Cleanup(func() { defaultTimeout = orig })
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(status(503, "3"), ok200))

	err := c.Revoke(context.Background(), testToken, "")

	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 3*time.Second, e.RetryAfter)
	assert.Empty(t, waits(), "waits slept")
}

// TestRetry_CancelStopsWait: cancelling ctx during a wait ends it at once;
// the error is the last answer and wraps context.Canceled.
func TestRetry_CancelStopsWait(t *testing.T) {
	c, mt := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, func(r *http.Request) (*http.Response, error) {
		time.AfterFunc(20*time.Millisecond, cancel) // while the client waits 9 s
		return status(503, "9").a.responder()(r)
	})

	start := time.Now()
	err := c.Revoke(ctx, testToken, "")
	elapsed := time.Since(start)

	require.ErrorIs(t, err, context.Canceled)
	var e *Error
	require.ErrorAs(t, err, &e, "still the 503's *Error")
	assert.Equal(t, 503, e.StatusCode)
	assert.Equal(t, 9*time.Second, e.RetryAfter)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "requests sent")
	assert.Less(t, elapsed, 8*time.Second, "the 9 s wait was cut short")
	assert.Contains(t, err.Error(), "not retried: context canceled")
}

// TestRetry_ContextDoneAfterAnswer: ctx ends while a retryable answer is on
// its way; no retry, and the error says why.
func TestRetry_ContextDoneAfterAnswer(t *testing.T) {
	waits := fakeSleep(t)
	c, mt := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, func(r *http.Request) (*http.Response, error) {
		cancel()
		return status(502, "").a.responder()(r)
	})

	err := c.Revoke(ctx, testToken, "")

	require.ErrorIs(t, err, context.Canceled)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 502, e.StatusCode)
	assert.Empty(t, waits())
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

// TestRetry_RealServer runs the default policy against real loopback
// servers, with real waits, as a caller sees it.
func TestRetry_RealServer(t *testing.T) {
	t.Run("503 Retry-After 1 then 200", func(t *testing.T) {
		var n atomic.Int32
		c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		})
		start := time.Now()
		require.NoError(t, c.Revoke(context.Background(), testToken, ""))
		assert.GreaterOrEqual(t, time.Since(start), time.Second, "waited for Retry-After")
		assert.Equal(t, int32(2), n.Load(), "requests served")
	})
	t.Run("Retry-After 30 under a 500 ms deadline", func(t *testing.T) {
		var n atomic.Int32
		c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		err := c.Revoke(ctx, testToken, "")
		assert.NoError(t, ctx.Err(), "returned within the deadline")
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 30*time.Second, e.RetryAfter)
		assert.Equal(t, int32(1), n.Load(), "requests served")
	})
	for _, op := range []string{opRevoke, opToken} {
		t.Run(op+": connection dropped, then 200", func(t *testing.T) {
			fakeSleep(t)
			var n atomic.Int32
			c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					_, _ = io.Copy(io.Discard, r.Body)
					conn, _, err := http.NewResponseController(w).Hijack()
					require.NoError(t, err)
					_ = conn.Close()
					return
				}
				io.WriteString(w, tokenJSON1)
			})
			var err error
			if op == opRevoke {
				err = c.Revoke(context.Background(), testToken, "")
			} else {
				_, err = c.Token(context.Background())
			}
			if op == opRevoke {
				require.NoError(t, err, "revocation is idempotent: retried")
				assert.Equal(t, int32(2), n.Load(), "requests served")
			} else {
				require.Error(t, err, "a token may have been issued: not retried")
				assert.Equal(t, int32(1), n.Load(), "requests served")
			}
		})
	}
	t.Run("token: nothing listening", func(t *testing.T) {
		waits := fakeSleep(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		c, err := NewClient(testID, testSecret, WithBaseURL("http://"+addr))
		require.NoError(t, err)
		_, err = c.Token(context.Background())
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.Len(t, waits(), 2, "dial failures are retried: 3 attempts")
	})
}

// logCapture returns a debug-level logger writing text lines to a buffer.
func logCapture(t *testing.T) (*slog.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&syncWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// syncWriter serializes writes from concurrent calls.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestWithLogger(t *testing.T) {
	fakeSleep(t)
	halfJitter(t)
	logger, buf := logCapture(t)
	c, mt := setup(t, WithLogger(logger))
	echo := `{"error": "invalid_client", "error_description": "bad secret ` + testSecret + ` for token ` + testToken + `"}`
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(status(503, "1"), connReset, step{a: answer{401, jsonHeader(), echo}}))
	mt.RegisterResponder(http.MethodPost, mockBase+tokenPath, script(ok200))

	err := c.Revoke(context.Background(), testToken, AccessTokenHint)
	require.ErrorIs(t, err, ErrInvalidClient)
	tok, err := c.Token(context.Background())
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 4, "one line per attempt:\n%s", buf.String())
	wants := [][]string{
		{"level=DEBUG", `msg="cryptofuse: attempt"`, "op=revoke", "attempt=1", "status=503", "duration=", "retry_wait=1s", "(retry after 1s)"},
		{"op=revoke", "attempt=2", "status=0", "connection reset by peer", "retry_wait=200ms"},
		{"op=revoke", "attempt=3", "status=401", "invalid_client", `gave_up="not retryable"`},
		{"op=token", "attempt=1", "status=200"},
	}
	for i, want := range wants {
		for _, w := range want {
			assert.Contains(t, lines[i], w, "line %d", i+1)
		}
	}
	assert.NotContains(t, lines[2], "retry_wait", "a 401 is not retried")
	assert.NotContains(t, lines[3], "error=", "success")
	assert.NotContains(t, lines[3], "gave_up", "success")
	assertNoSecret(t, buf.String(), testSecret, testToken, tok.AccessToken)
}

func TestWithLogger_GiveUpReasons(t *testing.T) {
	fakeSleep(t)
	cases := []struct {
		name  string
		steps []step
		want  string
	}{
		{"attempts", []step{status(502, "")}, `gave_up="attempts exhausted"`},
		{"max delay", []step{status(503, "60")}, `gave_up="Retry-After exceeds MaxDelay"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logger, buf := logCapture(t)
			c, mt := setup(t, WithLogger(logger))
			mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(tc.steps...))
			require.Error(t, c.Revoke(context.Background(), testToken, ""))
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			assert.Contains(t, lines[len(lines)-1], tc.want)
		})
	}
}

// TestNoLoggerLogsNothing: without WithLogger, nothing reaches slog's
// default logger (or the log package), even under failures.
func TestNoLoggerLogsNothing(t *testing.T) {
	fakeSleep(t)
	var buf bytes.Buffer
	orig := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(orig) })

	for _, opt := range []Option{nil, WithLogger(nil)} {
		c, mt := setup(t, opt)
		mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(status(503, ""), connReset))
		mt.RegisterResponder(http.MethodPost, mockBase+tokenPath, script(ok200))
		require.Error(t, c.Revoke(context.Background(), testToken, ""))
		_, err := c.Token(context.Background())
		require.NoError(t, err)
	}
	assert.Empty(t, buf.String(), "logged without a logger")
}

// TestWithLogger_LevelAboveDebug: a logger that does not want debug lines
// gets none.
func TestWithLogger_LevelAboveDebug(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c, mt := setup(t, WithLogger(logger), noRetry)
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(status(503, "")))
	require.Error(t, c.Revoke(context.Background(), testToken, ""))
	assert.Empty(t, buf.String())
}

// TestRetry_ConnectionReuse: retried attempts go over the kept-alive
// connection.
func TestRetry_ConnectionReuse(t *testing.T) {
	fakeSleep(t)
	var n, conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 != 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "<html>busy</html>")
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL))
	require.NoError(t, err)
	for i := 0; i < 10; i++ {
		require.NoError(t, c.Revoke(context.Background(), testToken, ""))
	}
	assert.Equal(t, int32(30), n.Load(), "requests served")
	assert.Equal(t, int32(1), conns.Load(), "TCP connections opened")
}
