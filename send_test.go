package cryptofuse

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSend_RedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			var elsewhere atomic.Int32
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				elsewhere.Add(1)
			}))
			t.Cleanup(other.Close)
			// A caller's client that would follow redirects: ours must not.
			hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
			c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.Path, status)
			}, WithHTTPClient(hc))

			err := c.Revoke(context.Background(), testToken, AccessTokenHint)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, status, e.StatusCode)
			assert.Contains(t, err.Error(), "redirect not followed")

			_, err = c.Token(context.Background())
			require.ErrorAs(t, err, &e)
			assert.Equal(t, status, e.StatusCode)
			assert.Zero(t, elsewhere.Load(), "requests that reached the redirect target")
		})
	}
}

// TestSend_ConnectionReuse checks that sequential calls, with error answers and
// their bodies among them, go over one TCP connection.
func TestSend_ConnectionReuse(t *testing.T) {
	t.Parallel()
	answers := []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "text/html; charset=utf-8", ""},
		{400, "application/json", `{"error": "invalid_request", "error_description": "Missing token parameter."}`},
		{401, "application/json", `{"error": "invalid_client"}`},
		{503, "text/html", "<html>" + strings.Repeat("busy ", 20000) + "</html>"}, // ~100 KB, past the error read cap
		{500, "text/html", strings.Repeat("x", maxErrorBodySize)},                 // exactly the cap: the EOF is left to the drain
		{200, "application/json", tokenJSON1},
	}
	var i atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[int(i.Add(1)-1)%len(answers)]
		w.Header().Set("Content-Type", a.ctype)
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), noRetry)
	require.NoError(t, err)

	const rounds = 5
	for n := 0; n < rounds*len(answers); n++ {
		_ = c.Revoke(context.Background(), testToken, AccessTokenHint)
	}
	_, err = c.Token(context.Background()) // also after a kept body
	require.Error(t, err, "answer %d", i.Load())
	_, _ = c.Token(context.Background())

	assert.Equal(t, int32(rounds*len(answers)+2), i.Load(), "requests served")
	assert.Equal(t, int32(1), conns.Load(), "TCP connections opened")
}

// TestSend_HugeBodiesAreCapped sends a 100 MiB answer and checks how much of
// it the client reads and allocates. It is not parallel: the allocation count
// (runtime.MemStats) is the whole process's, and parallel tests would add to
// it; serial tests run before the parallel ones start.
func TestSend_HugeBodiesAreCapped(t *testing.T) {
	const huge = 100 << 20
	chunk := []byte(strings.Repeat("A", 32<<10))
	cases := []struct {
		name     string
		status   int
		call     func(*Client) error
		wantRead int64
	}{
		{"error body", 500, func(c *Client) error { return c.Revoke(context.Background(), testToken, "") }, maxErrorBodySize + maxDrainSize},
		{"token body", 200, func(c *Client) error { _, err := c.Token(context.Background()); return err }, maxBodySize + 1 + maxDrainSize},
		{"revoke success body", 200, func(c *Client) error { return c.Revoke(context.Background(), testToken, "") }, maxDrainSize},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(huge))
				w.WriteHeader(tc.status)
				for sent := 0; sent < huge; sent += len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			}))
			t.Cleanup(srv.Close)
			ct := &countingTransport{rt: &http.Transport{}}
			c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), WithHTTPClient(&http.Client{Transport: ct}), noRetry)
			require.NoError(t, err)

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err = tc.call(c)
			runtime.ReadMemStats(&after)

			if tc.status != 200 || tc.name == "token body" {
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tc.status, e.StatusCode)
			} else {
				require.NoError(t, err)
			}
			assert.LessOrEqual(t, ct.read.Load(), tc.wantRead, "bytes read of a %d-byte body", huge)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "bytes allocated during the call")
		})
	}
}

// TestSend_ContextDeadline: a deadline that passes before the answer, or
// while its body is read, ends the call with an error that wraps
// context.DeadlineExceeded (an *Error when the status had arrived), except
// for a 2xx revoke, which is a success whatever its body: the server has
// revoked the token. Each deadline passes at an exact point, whatever the
// scheduler does: when the server has the request (no headers), or when the
// client first reads the body (after the headers).
func TestSend_ContextDeadline(t *testing.T) {
	t.Parallel()
	const (
		tokenHeaders = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
		htmlHeaders  = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 1000\r\n\r\n"
	)
	cases := []struct {
		name       string
		op         string
		raw        string // what the server writes before it stalls
		atRequest  bool   // the deadline passes when the server has the request
		wantStatus int    // of the *Error; 0: no *Error
		wantOK     bool   // the call succeeds
		wantText   []string
	}{
		{name: "token: no headers", op: opToken, atRequest: true},
		{name: "revoke: no headers", op: opRevoke, atRequest: true},
		{name: "token: 200, no body", op: opToken, raw: tokenHeaders, wantStatus: 200,
			wantText: []string{"reading the response body"}},
		{name: "token: 200, part of the body", op: opToken, raw: tokenHeaders + `{"access_token": "AT-partial`, wantStatus: 200,
			wantText: []string{"reading the response body"}},
		{name: "token: 400, part of the body", op: opToken, raw: "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"error\": \"invalid_", wantStatus: 400,
			wantText: []string{"reading the response body"}},
		{name: "token: 302, part of the body", op: opToken, raw: "HTTP/1.1 302 Found\r\nLocation: https://elsewhere.example/\r\nContent-Length: 100\r\n\r\n<html>", wantStatus: 302,
			wantText: []string{"reading the response body", "redirect not followed; "}},
		{name: "revoke: 400, part of the body", op: opRevoke, raw: "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"error\": \"invalid_requ", wantStatus: 400,
			wantText: []string{"reading the response body"}},
		// A 2xx revoke whose body stalls is a success: the token is
		// revoked. Its drain is bounded in time (TestRevokeStalledSuccessBody
		// checks the bound).
		{name: "revoke: 200, JSON body stalls", op: opRevoke, raw: tokenHeaders, wantOK: true},
		{name: "revoke: 200, HTML body stalls", op: opRevoke, raw: htmlHeaders, wantOK: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := newManualDeadline(time.Now().Add(time.Hour))
			stall := writeThen(tc.raw, true)
			srv := newRawServer(t, func(conn net.Conn, req []byte) {
				if tc.atRequest {
					ctx.expire()
				}
				stall(conn, req)
			})
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			rt := &expireOnBodyRead{rt: tr, ctx: ctx}
			c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), WithHTTPClient(&http.Client{Transport: rt}))
			require.NoError(t, err)

			var tok *Token
			if tc.op == opToken {
				tok, err = c.Token(ctx)
			} else {
				err = c.Revoke(ctx, testToken, AccessTokenHint)
			}

			assert.Nil(t, tok, "a token from a stalled answer")
			assert.Error(t, ctx.Err(), "returned before its deadline passed")
			assert.Less(t, ctx.sinceExpiry(), 5*time.Second, "the call outlived its deadline")
			if !tc.atRequest {
				assert.NotZero(t, rt.reads.Load(), "body reads")
			}
			if tc.wantOK {
				assert.NoError(t, err, "the server answered 200: the token is revoked")
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			var e *Error
			if tc.wantStatus == 0 {
				assert.False(t, errors.As(err, &e), "got an *Error for a call that got no answer: %v", err)
				return
			}
			if assert.ErrorAs(t, err, &e) {
				assert.Equal(t, tc.wantStatus, e.StatusCode)
			}
			for _, want := range tc.wantText {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

// TestSend_CutOffAnswer: the server closes the connection after the headers
// and part of the body. A cut-off token answer is an *Error with its status
// (a 2xx one may have issued a token, so it is not retried; a 503 is); a
// revoke reads no 2xx body, so a cut-off 200 is a success.
func TestSend_CutOffAnswer(t *testing.T) {
	t.Parallel()
	const stalledHeaders = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
	cases := []struct {
		name       string
		raw        string
		wantStatus int
	}{
		{"200, no body", stalledHeaders, 200},
		{"200, part of the body", stalledHeaders + `{"access_token": "AT-partial", "expires_in": 36000}`, 200},
		{"200, whole JSON but short of Content-Length", stalledHeaders + tokenJSON1, 200},
		{"200, chunked, cut in a chunk", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n{\"access_token\": \"AT", 200},
		{"503, part of the body", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1000\r\n\r\n{\"error\": \"temporarily_unavailable\"}", http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sleep, _ := fakeSleep()
			var served atomic.Int32
			answer := writeThen(tc.raw, false)
			srv := newRawServer(t, func(conn net.Conn, req []byte) {
				served.Add(1)
				answer(conn, req)
			})
			c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), sleep)
			require.NoError(t, err)
			wantServed := int32(1)
			if tc.wantStatus == http.StatusServiceUnavailable {
				wantServed = int32(DefaultRetryPolicy.MaxAttempts)
			}

			tok, err := c.Token(context.Background())
			assert.Equal(t, wantServed, served.Swap(0), "token requests served")
			assert.Nil(t, tok, "a token from a cut-off answer")
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "AT-partial", "the error shows the partial token")
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
			var e *Error
			if assert.ErrorAs(t, err, &e) {
				assert.Equal(t, tc.wantStatus, e.StatusCode)
			}

			err = c.Revoke(context.Background(), testToken, AccessTokenHint)
			assert.Equal(t, wantServed, served.Load(), "revoke requests served")
			if tc.wantStatus == 200 {
				assert.NoError(t, err)
			} else if assert.ErrorAs(t, err, &e) {
				assert.Equal(t, tc.wantStatus, e.StatusCode)
			}
		})
	}
}

// TestSend_CallTimeoutWithoutDeadline: a ctx without a deadline gets the
// Client's call timeout.
func TestSend_CallTimeoutWithoutDeadline(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	srv.Config.Handler = http.HandlerFunc(hang(t))
	srv.Start()
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), callTimeout(100*time.Millisecond))
	require.NoError(t, err)
	err = c.Revoke(context.Background(), testToken, "")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestSend_CancelledContextSendsNothing(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, op := range []string{opRevoke, opToken} {
		assert.ErrorIs(t, callOp(ctx, c, op), context.Canceled, op)
	}
	assert.Zero(t, hits.Load(), "requests sent")
}

// TestSend_CallThatCannotBeMade: a nil Context or a Client not built by
// NewClient is an error, not a panic, and sends nothing.
func TestSend_CallThatCannotBeMade(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		//lint:ignore SA1012 testing the nil-context guard
		{"revoke, nil Context", func() error { return c.Revoke(nil, testToken, "") }, "cryptofuse: revoke: nil Context"},
		//lint:ignore SA1012 testing the nil-context guard
		{"token, nil Context", func() error { _, err := c.Token(nil); return err }, "cryptofuse: token: nil Context"},
		{"revoke, zero Client", func() error { return new(Client).Revoke(context.Background(), testToken, "") }, "cryptofuse: revoke: Client not built by NewClient"},
		{"token, zero Client", func() error { _, err := new(Client).Token(context.Background()); return err }, "cryptofuse: token: Client not built by NewClient"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.EqualError(t, tc.call(), tc.want)
		})
	}
	assert.Zero(t, mt.GetTotalCallCount(), "requests sent")
}

func TestSend_TransportErrorWrapsCause(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	cause := errors.New("connection reset by peer")
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, httpmock.NewErrorResponder(cause))
	err := c.Revoke(context.Background(), testToken, "")
	assert.ErrorIs(t, err, cause)
	var uerr *url.Error
	assert.ErrorAs(t, err, &uerr)
	assert.True(t, strings.HasPrefix(err.Error(), "cryptofuse: revoke: "), "got %q", err)
}

// headerName matches a header field name, an RFC 9110 §5.6.2 token.
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// wellFormed reports whether line is one request header line: a name, ": "
// and a value of visible ASCII, spaces and obs-text (RFC 9110 §5.5), with no
// CR, LF or other control byte.
func wellFormed(line string) bool {
	name, value, ok := strings.Cut(line, ": ")
	if !ok || !headerName.MatchString(name) {
		return false
	}
	for i := 0; i < len(value); i++ {
		if b := value[i]; b < 0x20 || b == 0x7f {
			return false
		}
	}
	return true
}

func TestSend_NoHeaderInjection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, id, secret, userAgent string
	}{
		{"space and colon in id", "a b:c", testSecret, ""},
		{"percent-encoded CRLF in id", "a%0D%0AX-Injected: 1", testSecret, ""},
		{"header text as id", "X-Injected: 1", "Authorization: Basic Zm9vOmJhcg==", ""},
		{"colons and plus in secret", "svc", "s p:a%0A+ce:", ""},
		{"Unicode line separators", "id\u2028\u0085", "se\u2029cret\u0085", ""},
		{"odd user agent", "svc", testSecret, "ua: é; \u0085X-Injected: 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newRawServer(t, writeThen("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", false))
			opts := []Option{WithBaseURL(srv.URL)}
			if tc.userAgent != "" {
				opts = append(opts, WithUserAgent(tc.userAgent))
			}
			c, err := NewClient(tc.id, tc.secret, opts...)
			require.NoError(t, err)
			require.NoError(t, c.Revoke(context.Background(), testToken, AccessTokenHint))

			reqs := srv.Requests()
			require.NotEmpty(t, reqs)
			head, _, ok := strings.Cut(string(reqs[0]), "\r\n\r\n")
			require.True(t, ok, "request has no end of headers: %q", reqs[0])
			lines := strings.Split(head, "\r\n")
			assert.Equal(t, "POST /o/revoke_token/ HTTP/1.1", lines[0], "request line")
			var auth []string
			for _, line := range lines[1:] {
				assert.True(t, wellFormed(line), "malformed header line %q", line)
				name, value, _ := strings.Cut(line, ": ")
				switch {
				case strings.EqualFold(name, "Authorization"):
					auth = append(auth, value)
				case strings.EqualFold(name, "X-Injected"):
					assert.Fail(t, "injected header line", "%q", line)
				}
			}
			assert.NotContains(t, head, "\n\n", "blank line inside the header")
			require.Len(t, auth, 1, "Authorization header lines")
			gotID, gotSecret := decodeBasic(t, auth[0])
			assert.Equal(t, tc.id, gotID, "client id after the server's decoding")
			assert.Equal(t, tc.secret, gotSecret, "client secret after the server's decoding")
			b64 := strings.TrimPrefix(auth[0], "Basic ")
			_, err = base64.StdEncoding.DecodeString(b64)
			assert.NoError(t, err, "Authorization is not pure base64")
		})
	}
}

// TestWithLogger checks the debug line that logAttempt writes per attempt.
func TestWithLogger(t *testing.T) {
	t.Parallel()
	sleep, _ := fakeSleep()
	logger, buf := logCapture(t)
	c, mt := setup(t, WithLogger(logger), sleep, halfJitter)
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

// TestWithLogger_GiveUpReasons: the last line of a failed call says why
// there is no next attempt. (TestWithLogger covers "not retryable",
// TestRetry_WaitPastDeadlineIsNotSlept the deadline.)
func TestWithLogger_GiveUpReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		steps  []step
		cancel bool // the answer arrives as ctx is cancelled
		want   string
	}{
		{"attempts", []step{status(502, "")}, false, `gave_up="attempts exhausted"`},
		{"max delay", []step{status(503, "60")}, false, `gave_up="Retry-After exceeds MaxDelay"`},
		{"context done", []step{status(502, "")}, true, `gave_up="context done"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sleep, _ := fakeSleep()
			logger, buf := logCapture(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var c *Client
			if tc.cancel {
				rt := &cancelThenAnswer{cancel: cancel, a: tc.steps[0].a}
				var err error
				c, err = NewClient(testID, testSecret, WithHTTPClient(&http.Client{Transport: rt}), WithLogger(logger), sleep)
				require.NoError(t, err)
			} else {
				var mt *httpmock.MockTransport
				c, mt = setup(t, WithLogger(logger), sleep)
				mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(tc.steps...))
			}
			require.Error(t, c.Revoke(ctx, testToken, ""))
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			assert.Contains(t, lines[len(lines)-1], tc.want)
		})
	}
}

// TestNoLoggerLogsNothing: without WithLogger, nothing reaches slog's
// default logger (or the log package), even under failures. It is not
// parallel: it replaces slog's default logger, which is the process's.
func TestNoLoggerLogsNothing(t *testing.T) {
	sleep, _ := fakeSleep()
	var buf bytes.Buffer
	orig := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(orig) })

	for _, opt := range []Option{nil, WithLogger(nil)} {
		c, mt := setup(t, opt, sleep)
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
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c, mt := setup(t, WithLogger(logger), noRetry)
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, script(status(503, "")))
	require.Error(t, c.Revoke(context.Background(), testToken, ""))
	assert.Empty(t, buf.String())
}

// A 2xx revoke whose body stalls does not hold Revoke until the deadline:
// Revoke returns maxDrainTime after the headers, whatever the body does.

// stallingBody is a response body that sends head and then blocks until it
// is closed, as a server that never sends the rest of its Content-Length.
type stallingBody struct {
	head   *strings.Reader
	closed chan struct{}
}

func newStallingBody(head string) *stallingBody {
	return &stallingBody{head: strings.NewReader(head), closed: make(chan struct{})}
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if b.head.Len() > 0 {
		return b.head.Read(p)
	}
	<-b.closed
	return 0, errors.New("read on closed body")
}

func (b *stallingBody) Close() error {
	select {
	case <-b.closed:
	default:
		close(b.closed)
	}
	return nil
}

// stallTransport answers every request with a 200 whose body stalls.
type stallTransport struct{ bodies chan *stallingBody }

func (st stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body := newStallingBody("partial")
	st.bodies <- body
	return &http.Response{
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Body:          body,
		ContentLength: 1000,
		Request:       req,
	}, nil
}

// TestRevokeStalledSuccessBody runs in a synctest bubble: time is fake, so
// the test measures the wait exactly and depends on no scheduling. Without
// the bound on the drain, Revoke blocks for ever on the body and synctest
// reports the deadlock.
func TestRevokeStalledSuccessBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := stallTransport{bodies: make(chan *stallingBody, 1)}
		c, err := NewClient("id", "secret", WithBaseURL("http://127.0.0.1:1"),
			WithHTTPClient(&http.Client{Transport: st}))
		require.NoError(t, err)
		start := time.Now()
		assert.NoError(t, c.Revoke(context.Background(), "tok", AccessTokenHint), "the server answered 200")
		assert.Equal(t, maxDrainTime, time.Since(start), "time Revoke took after the headers")
		body := <-st.bodies
		select {
		case <-body.closed:
		default:
			assert.Fail(t, "the stalled body was not closed")
		}
	})
}

// TestRevokeStalledSuccessBodyOverTCP is the same over a real connection,
// where net/http's body must give up its blocked Read when the drain's
// timer closes it. The server holds the body until the client has gone;
// the call has a deadline far beyond the test's patience only so that a
// broken drain shows as a failure, not as a hang.
func TestRevokeStalledSuccessBodyOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	clientGone := make(chan struct{})
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		buf := make([]byte, 4096)
		_, _ = conn.Read(buf) // the request, small enough for one read
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\npartial")
		_, _ = io.Copy(io.Discard, conn) // until the client closes
		close(clientGone)
	}()
	c, err := NewClient("id", "secret", WithBaseURL("http://"+ln.Addr().String()))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Revoke(ctx, "tok", AccessTokenHint) }()
	select {
	case err := <-done:
		assert.NoError(t, err, "the server answered 200")
	case <-time.After(time.Minute):
		require.Fail(t, "Revoke still waits for the stalled body of a 200")
	}
	<-clientGone // the connection was closed, not left to the pool
}

// TestRevokeEmptySuccessBodyKeepsConnection: the DOT answer
// (Content-Length: 0) goes back to the pool, so two revokes use one
// connection.
func TestRevokeEmptySuccessBodyKeepsConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	conns := make(chan struct{}, 8)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Length", "0")
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns <- struct{}{}
			}
		},
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c, err := NewClient("id", "secret", WithBaseURL("http://"+ln.Addr().String()),
		WithHTTPClient(&http.Client{Transport: NewTransport()}))
	require.NoError(t, err)
	for i := 0; i < 2; i++ {
		require.NoError(t, c.Revoke(context.Background(), "tok", AccessTokenHint))
	}
	assert.Equal(t, 1, len(conns), "connections")
}
