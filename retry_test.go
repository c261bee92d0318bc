package cryptofuse

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
			t.Parallel()
			sleep, waits := fakeSleep()
			opts := []Option{fixedNow(testNow), sleep, halfJitter}
			if tc.policy != nil {
				opts = append(opts, WithRetry(*tc.policy))
			}
			c, mt := setup(t, opts...)
			mt.RegisterResponder(http.MethodPost, mockBase+pathOf[tc.op], script(tc.steps...))

			err := callOp(context.Background(), c, tc.op)

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
	t.Parallel()
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
			t.Parallel()
			sleep, _ := fakeSleep()
			c, mt := setup(t, sleep)
			mt.RegisterResponder(http.MethodPost, mockBase+pathOf[tc.op], script(tc.steps...))
			err := callOp(context.Background(), c, tc.op)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestRetryPolicy_Backoff(t *testing.T) {
	t.Parallel()
	top := func(n int64) int64 { return n - 1 } // the top of the range
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
			assert.Equal(t, tc.want, tc.policy.backoff(tc.n, top), "backoff(%d)", tc.n)
		})
	}
}

func TestWithRetry_Validation(t *testing.T) {
	t.Parallel()
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
// left of the deadline returns the 503 at once, with its RetryAfter. The
// Client's clock is fixed and the ctx's deadline is one second after it and
// never passes, so what is left is exactly 1 s.
func TestRetry_WaitPastDeadlineIsNotSlept(t *testing.T) {
	t.Parallel()
	sleep, waits := fakeSleep()
	logger, buf := logCapture(t)
	c, mt := setup(t, sleep, fixedNow(testNow), WithLogger(logger))
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(status(503, "5"), ok200))
	ctx := newManualDeadline(testNow.Add(time.Second))

	err := c.Revoke(ctx, testToken, "")

	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 503, e.StatusCode)
	assert.Equal(t, 5*time.Second, e.RetryAfter)
	assert.Empty(t, waits(), "waits slept")
	assert.Equal(t, 1, mt.GetTotalCallCount(), "requests sent")
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "the deadline has not passed")
	assert.NoError(t, ctx.Err(), "returned before the deadline")
	assert.Contains(t, buf.String(), `gave_up="wait would pass the deadline"`)
}

// TestRetry_DefaultTimeoutBoundsWaits: a ctx without a deadline gets the call
// timeout, and waits past it are not slept either.
func TestRetry_DefaultTimeoutBoundsWaits(t *testing.T) {
	t.Parallel()
	sleep, waits := fakeSleep()
	c, mt := setup(t, sleep, callTimeout(2*time.Second))
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(status(503, "3"), ok200))

	err := c.Revoke(context.Background(), testToken, "")

	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 3*time.Second, e.RetryAfter)
	assert.Empty(t, waits(), "waits slept")
	assert.Equal(t, 1, mt.GetTotalCallCount(), "requests sent")
}

// TestRetry_CancelStopsWait: cancelling ctx during a wait ends it at once;
// the error is the last answer and wraps context.Canceled. The clock's sleep
// cancels ctx as the 9 s wait starts and then sleeps for real (sleepCtx),
// which must return at once.
func TestRetry_CancelStopsWait(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleep, waits := recordSleep(func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, d)
	})
	c, mt := setup(t, sleep)
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(status(503, "9"), ok200))

	start := time.Now()
	err := c.Revoke(ctx, testToken, "")
	elapsed := time.Since(start)

	require.ErrorIs(t, err, context.Canceled)
	var e *Error
	require.ErrorAs(t, err, &e, "still the 503's *Error")
	assert.Equal(t, 503, e.StatusCode)
	assert.Equal(t, 9*time.Second, e.RetryAfter)
	assert.Equal(t, []time.Duration{9 * time.Second}, waits(), "waits begun")
	assert.Less(t, elapsed, 8*time.Second, "the 9 s wait was cut short")
	assert.Equal(t, 1, mt.GetTotalCallCount(), "requests sent")
	assert.Contains(t, err.Error(), "not retried: context canceled")
}

// cancelThenAnswer is a RoundTripper that cancels the request's context and
// then answers itself, as a server whose answer arrives just as the caller
// gives up. Unlike a responder run by httpmock, which races the answer
// against a watcher of ctx.Done(), it always returns the answer.
type cancelThenAnswer struct {
	cancel context.CancelFunc
	a      answer
	calls  atomic.Int32
}

func (rt *cancelThenAnswer) RoundTrip(*http.Request) (*http.Response, error) {
	rt.calls.Add(1)
	rt.cancel()
	return rt.a.response(), nil
}

// TestRetry_ContextDoneAfterAnswer: ctx ends while a retryable answer is on
// its way; no retry, and the error says why.
func TestRetry_ContextDoneAfterAnswer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		op         string
		answer     answer
		wantStatus int
	}{
		{"revoke 502", opRevoke, status(502, "").a, 502},
		{"revoke 503 with Retry-After", opRevoke, status(503, "1").a, 503},
		{"token 503", opToken, status(503, "").a, 503},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rt := &cancelThenAnswer{cancel: cancel, a: tc.answer}
			sleep, waits := fakeSleep()
			c, err := NewClient(testID, testSecret, WithHTTPClient(&http.Client{Transport: rt}), sleep)
			require.NoError(t, err)

			err = callOp(ctx, c, tc.op)

			require.ErrorIs(t, err, context.Canceled)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.wantStatus, e.StatusCode)
			assert.Contains(t, err.Error(), "not retried: context canceled")
			assert.Empty(t, waits(), "waits")
			assert.Equal(t, int32(1), rt.calls.Load(), "requests sent")
		})
	}
}

// TestRetry_RealServer runs the default policy against real loopback
// servers, as a caller sees it.
func TestRetry_RealServer(t *testing.T) {
	t.Parallel()
	t.Run("503 Retry-After 1 then 200, slept for real", func(t *testing.T) {
		t.Parallel()
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
	t.Run("Retry-After 30 under a 20 s deadline", func(t *testing.T) {
		t.Parallel()
		var n atomic.Int32
		sleep, waits := recordSleep(sleepCtx)
		c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusServiceUnavailable)
		}, sleep)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := c.Revoke(ctx, testToken, "")
		assert.NoError(t, ctx.Err(), "returned within the deadline")
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 30*time.Second, e.RetryAfter)
		assert.Empty(t, waits(), "waits slept")
		assert.Equal(t, int32(1), n.Load(), "requests served")
	})
	for _, op := range []string{opRevoke, opToken} {
		t.Run(op+": connection dropped, then 200", func(t *testing.T) {
			t.Parallel()
			sleep, _ := fakeSleep()
			var n atomic.Int32
			c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					_, _ = io.Copy(io.Discard, r.Body)
					conn, _, err := http.NewResponseController(w).Hijack()
					if !assert.NoError(t, err, "Hijack") {
						return
					}
					_ = conn.Close()
					return
				}
				io.WriteString(w, tokenJSON1)
			}, sleep)
			err := callOp(context.Background(), c, op)
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
		t.Parallel()
		sleep, waits := fakeSleep()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		c, err := NewClient(testID, testSecret, WithBaseURL("http://"+addr), sleep)
		require.NoError(t, err)
		_, err = c.Token(context.Background())
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.Len(t, waits(), 2, "dial failures are retried: 3 attempts")
	})
}

// TestRetry_ConnectionReuse: retried attempts go over the kept-alive
// connection.
func TestRetry_ConnectionReuse(t *testing.T) {
	t.Parallel()
	sleep, _ := fakeSleep()
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
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), sleep)
	require.NoError(t, err)
	for i := 0; i < 10; i++ {
		require.NoError(t, c.Revoke(context.Background(), testToken, ""))
	}
	assert.Equal(t, int32(30), n.Load(), "requests served")
	assert.Equal(t, int32(1), conns.Load(), "TCP connections opened")
}

// TestParseRetryAfter reads Retry-After values (RFC 9110 §10.2.3), good and
// hostile, at a fixed time: directly, and as the RetryAfter of the *Error
// that a 503 carrying the value gives Revoke and Token.
func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string // "" sends no header
		want time.Duration
	}{
		{"absent", "", 0},
		{"zero", "0", 0},
		{"one", "1", time.Second},
		{"two minutes", "120", 2 * time.Minute},
		{"an hour", "3600", time.Hour},
		{"padded", " 5 ", 5 * time.Second},
		{"negative", "-1", 0},
		{"huge negative", "-9999999999999", 0},
		{"plus sign", "+5", 0},
		{"fraction", "1.5", 0},
		{"exponent", "1e20", 0},
		{"unit", "5s", 0},
		{"hex", "0x10", 0},
		{"garbage", "abc", 0},
		{"word", "soon", 0},
		{"DOT header value", `Bearer error="invalid_client"`, 0},
		{"past the clamp", "99999999999", maxRetryAfter},
		{"huge", "9999999999999", maxRetryAfter},
		{"beyond uint64", "99999999999999999999999", maxRetryAfter},
		// 20 or more digits, then garbage: strconv.ParseUint reports the
		// overflow before the bad byte, which must not read as "huge".
		{"digits then a letter", "20000000000000000000A", 0},
		{"digits then a unit", "99999999999999999999999s", 0},
		{"digits then a fraction", "184467440737095516160.5", 0},
		{"date in 30 s", testNow.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{"date 30 s ago", testNow.Add(-30 * time.Second).Format(http.TimeFormat), 0},
		{"date in an hour", testNow.Add(time.Hour).Format(http.TimeFormat), time.Hour},
		{"date an hour ago", testNow.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"IMF-fixdate", "Wed, 25 Nov 2026 12:01:00 GMT", time.Minute},
		{"RFC 850", "Wednesday, 25-Nov-26 12:01:00 GMT", time.Minute},
		{"asctime", "Wed Nov 25 12:01:00 2026", time.Minute},
		{"no such date", "Wed, 32 Nov 2026 12:01:00 GMT", 0},
		{"the epoch", "Thu, 01 Jan 1970 00:00:00 GMT", 0},
		// A date past what a Duration holds: date.Sub saturates above the
		// clamp, which must still hold.
		{"year 9999", "Fri, 31 Dec 9999 23:59:59 GMT", maxRetryAfter},
		{"year 2400", "Sat, 01 Jan 2400 00:00:00 GMT", maxRetryAfter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, parseRetryAfter(tc.in, testNow), "parseRetryAfter(%q)", tc.in)

			h := jsonHeader()
			if tc.in != "" {
				h.Set("Retry-After", tc.in)
			}
			c, mt := setup(t, noRetry, fixedNow(testNow))
			for _, op := range []string{opRevoke, opToken} {
				mt.RegisterResponder(http.MethodPost, mockBase+pathOf[op],
					answer{http.StatusServiceUnavailable, h, `{"error": "temporarily_unavailable"}`}.responder())
				err := callOp(context.Background(), c, op)
				var e *Error
				if !assert.ErrorAs(t, err, &e, "%s", op) {
					continue
				}
				assert.Equal(t, http.StatusServiceUnavailable, e.StatusCode, "%s: status", op)
				assert.Equal(t, tc.want, e.RetryAfter, "%s: Retry-After %q: RetryAfter", op, tc.in)
			}
			assert.Equal(t, 2, mt.GetTotalCallCount(), "requests sent (one per call)")
		})
	}
}

// FuzzRetryAfter checks that parseRetryAfter never returns a negative wait or
// one above its clamp, and that it reads what it accepts exactly.
func FuzzRetryAfter(f *testing.F) {
	for _, v := range append(retryAfterSeeds, dotHeaderValues...) {
		f.Add(v)
	}
	for _, body := range dotBodies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := parseRetryAfter(v, testNow)
		require.GreaterOrEqual(t, got, time.Duration(0), "parseRetryAfter(%q), within [0, %v]", v, maxRetryAfter)
		require.LessOrEqual(t, got, maxRetryAfter, "parseRetryAfter(%q), within [0, %v]", v, maxRetryAfter)
		require.Equal(t, got, parseRetryAfter(v, testNow), "parseRetryAfter(%q), called again", v)
		trimmed := strings.TrimSpace(v)
		if trimmed != "" && strings.Trim(trimmed, "0123456789") == "" {
			want := maxRetryAfter
			if secs, err := strconv.ParseUint(trimmed, 10, 64); err == nil && secs <= uint64(maxRetryAfter/time.Second) {
				want = time.Duration(secs) * time.Second
			}
			assert.Equal(t, want, got, "parseRetryAfter(%q)", v)
			return
		}
		assert.Zero(t, got%time.Second, "parseRetryAfter(%q) = %v: want whole seconds (HTTP dates have no fraction)", v, got)
		if date, err := http.ParseTime(trimmed); err == nil {
			assert.Equal(t, date.After(testNow), got > 0, "parseRetryAfter(%q) = %v: positive for a date after %v", v, got, testNow)
			if d := date.Sub(testNow); d > 0 && d < maxRetryAfter {
				assert.Equal(t, d, got, "parseRetryAfter(%q)", v)
			}
		} else {
			assert.Zero(t, got, "parseRetryAfter(%q) for a value that is neither seconds nor a date", v)
		}
	})
}
