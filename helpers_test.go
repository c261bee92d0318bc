package cryptofuse

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Shared setup of the package's internal tests: clients wired to fake
// transports and servers, per-Client clocks, canned answers, and checks that
// no secret shows.

const (
	testID     = "svc-id"
	testSecret = "s3cr3t-value"
	testToken  = "AT-leaked-4e1f9c"
	revokePath = "/o/revoke_token/"
	tokenPath  = "/o/token/"
	mockBase   = "https://api.cryptofuse.io"
	tokenJSON1 = `{"access_token": "AT-1234567890abcdefghijklmnopq", "expires_in": 36000, "token_type": "Bearer", "scope": "read write"}`
)

// testNow is the fixed time of the tests that need one.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// setup returns a Client whose requests go to a fresh httpmock transport,
// never to the network.
func setup(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	opts = append([]Option{WithHTTPClient(&http.Client{Transport: mt})}, opts...)
	c, err := NewClient(testID, testSecret, opts...)
	require.NoError(t, err)
	return c, mt
}

// setupServer returns a Client wired to a real loopback server running h.
func setupServer(t *testing.T, h http.HandlerFunc, opts ...Option) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewClient(testID, testSecret, append([]Option{WithBaseURL(srv.URL)}, opts...)...)
	require.NoError(t, err)
	return c, srv
}

// pathOf is the endpoint path of an operation.
var pathOf = map[string]string{opRevoke: revokePath, opToken: tokenPath}

// callOp runs the call of op (Revoke with the access token hint, or Token)
// and returns its error.
func callOp(ctx context.Context, c *Client, op string) error {
	if op == opRevoke {
		return c.Revoke(ctx, testToken, AccessTokenHint)
	}
	_, err := c.Token(ctx)
	return err
}

// Clocks. Each option sets one field of the Client's clock; withClock keeps
// the others, so they combine.

// fixedNow makes the Client's clock read at.
func fixedNow(at time.Time) Option { return withClock(clock{now: func() time.Time { return at }}) }

// halfJitter makes every backoff wait half its ceiling, so waits are
// predictable.
var halfJitter = withClock(clock{jitter: func(n int64) int64 { return n / 2 }})

// callTimeout sets the bound of a call whose ctx has no deadline.
func callTimeout(d time.Duration) Option { return withClock(clock{timeout: d}) }

// recordSleep returns an option whose sleep records each wait and then runs
// then, and a function that returns the waits recorded so far.
func recordSleep(then func(ctx context.Context, d time.Duration) error) (Option, func() []time.Duration) {
	var mu sync.Mutex
	var waits []time.Duration
	opt := withClock(clock{sleep: func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return then(ctx, d)
	}})
	return opt, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), waits...)
	}
}

// fakeSleep records waits and does not sleep: each returns at once, with
// ctx.Err().
func fakeSleep() (Option, func() []time.Duration) {
	return recordSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() })
}

// noRetry turns retries off, for tests about a single attempt.
var noRetry = WithRetry(RetryPolicy{MaxAttempts: 1})

// manualDeadline is a context with a deadline that passes when the test calls
// expire, not at a time: a test can make it pass at an exact point of a call
// (after the headers arrived, say), whatever the scheduler does.
type manualDeadline struct {
	context.Context // context.Background(), for Value
	deadline        time.Time
	done            chan struct{}
	once            sync.Once
	expiredAt       atomic.Pointer[time.Time]
}

// newManualDeadline returns a manualDeadline whose Deadline reports
// deadline; it passes only on expire.
func newManualDeadline(deadline time.Time) *manualDeadline {
	return &manualDeadline{Context: context.Background(), deadline: deadline, done: make(chan struct{})}
}

func (c *manualDeadline) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *manualDeadline) Done() <-chan struct{}       { return c.done }
func (c *manualDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// expire makes the deadline pass.
func (c *manualDeadline) expire() {
	c.once.Do(func() {
		now := time.Now()
		c.expiredAt.Store(&now)
		close(c.done)
	})
}

// sinceExpiry is how long ago the deadline passed; 0 if it has not.
func (c *manualDeadline) sinceExpiry() time.Duration {
	if at := c.expiredAt.Load(); at != nil {
		return time.Since(*at)
	}
	return 0
}

// expireOnBodyRead is a RoundTripper that makes ctx's deadline pass when the
// caller first reads a response body, so that a test of a stalled body knows
// the headers had arrived. reads counts the Read calls.
type expireOnBodyRead struct {
	rt    http.RoundTripper
	ctx   *manualDeadline
	reads atomic.Int32
}

func (e *expireOnBodyRead) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := e.rt.RoundTrip(r)
	if resp != nil {
		resp.Body = &expiringBody{ReadCloser: resp.Body, e: e}
	}
	return resp, err
}

type expiringBody struct {
	io.ReadCloser
	e *expireOnBodyRead
}

func (b *expiringBody) Read(p []byte) (int, error) {
	b.e.reads.Add(1)
	b.e.ctx.expire()
	return b.ReadCloser.Read(p)
}

// request is what a test server saw of one request.
type request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// recordRequest reads a request for later assertions.
func recordRequest(t *testing.T, r *http.Request) request {
	t.Helper()
	body, err := io.ReadAll(r.Body)
	assert.NoError(t, err, "reading request body")
	return request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)}
}

// capture registers a responder for POST urlStr that records each request
// and answers with a.
func capture(t *testing.T, mt *httpmock.MockTransport, urlStr string, a answer) func() []request {
	t.Helper()
	var mu sync.Mutex
	var got []request
	mt.RegisterResponder(http.MethodPost, urlStr, func(r *http.Request) (*http.Response, error) {
		rec := recordRequest(t, r)
		mu.Lock()
		got = append(got, rec)
		mu.Unlock()
		return a.responder()(r)
	})
	return func() []request {
		mu.Lock()
		defer mu.Unlock()
		return append([]request(nil), got...)
	}
}

// unquotePlus decodes like Python's urllib.parse.unquote_plus, as
// django-oauth-toolkit does for each half of the Basic credentials.
func unquotePlus(t *testing.T, s string) string {
	t.Helper()
	v, err := url.QueryUnescape(s)
	require.NoError(t, err)
	return v
}

// decodeBasic decodes an Authorization header the way django-oauth-toolkit
// does: exact "Basic" scheme, base64, split at the first ':', unquote_plus.
func decodeBasic(t *testing.T, header string) (id, secret string) {
	t.Helper()
	scheme, b64, ok := strings.Cut(header, " ")
	require.True(t, ok, "Authorization %q has no scheme", header)
	require.Equal(t, "Basic", scheme)
	raw, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	id, secret, ok = strings.Cut(string(raw), ":")
	require.True(t, ok, "credentials have no ':'")
	return unquotePlus(t, id), unquotePlus(t, secret)
}

// assertNoSecret fails if s holds any secret, raw, form-encoded or in the
// Basic header's base64.
func assertNoSecret(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		for _, form := range []string{sec, url.QueryEscape(sec), base64.StdEncoding.EncodeToString([]byte(sec))} {
			assert.NotContains(t, s, form, "%q contains the secret %q", s, form)
		}
	}
}

// abbrev shortens s for a failure message.
func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// answer is a canned HTTP answer.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) response() *http.Response {
	resp := httpmock.NewStringResponse(a.status, a.body)
	for k, v := range a.header {
		resp.Header[k] = v
	}
	return resp
}

func (a answer) responder() httpmock.Responder {
	return func(*http.Request) (*http.Response, error) { return a.response(), nil }
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

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

// sentinels are the package's error-code sentinels, by name.
var sentinels = map[string]error{
	"ErrInvalidRequest":       ErrInvalidRequest,
	"ErrInvalidClient":        ErrInvalidClient,
	"ErrInvalidGrant":         ErrInvalidGrant,
	"ErrUnauthorizedClient":   ErrUnauthorizedClient,
	"ErrUnsupportedGrantType": ErrUnsupportedGrantType,
	"ErrInvalidScope":         ErrInvalidScope,
	"ErrUnsupportedTokenType": ErrUnsupportedTokenType,
}

// hang blocks a handler until its client goes away or the test ends. It
// reads the request body first, so that the server notices a closed
// connection.
func hang(t *testing.T) func(http.ResponseWriter, *http.Request) {
	t.Helper()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
}

// logCapture returns a debug-level logger writing text lines to a buffer.
func logCapture(t *testing.T) (*slog.Logger, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// syncBuffer is a bytes.Buffer that concurrent calls may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rawServer is a loopback server that speaks HTTP/1.1 by hand, so that it can
// misbehave in ways net/http will not: serve gets each connection after its
// request has been read, with the request's bytes, and writes what it likes.
type rawServer struct {
	URL string

	mu       sync.Mutex
	requests [][]byte
}

// newRawServer starts a rawServer that answers each request with serve. At
// the end of the test it closes the listener and every connection, and waits
// for serve to return.
func newRawServer(t *testing.T, serve func(conn net.Conn, req []byte)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &rawServer{URL: "http://" + ln.Addr().String()}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				var raw bytes.Buffer
				req, err := http.ReadRequest(bufio.NewReader(io.TeeReader(conn, &raw)))
				if err != nil {
					return
				}
				if _, err := io.Copy(io.Discard, req.Body); err != nil {
					return
				}
				s.mu.Lock()
				s.requests = append(s.requests, bytes.Clone(raw.Bytes()))
				s.mu.Unlock()
				serve(conn, raw.Bytes())
			}()
		}
	}()
	return s
}

// Requests returns the raw bytes of every request read so far.
func (s *rawServer) Requests() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.requests...)
}

// writeThen returns a serve function that writes raw and then either closes
// the connection (hang false) or holds it open until the client goes away.
func writeThen(raw string, hang bool) func(net.Conn, []byte) {
	return func(conn net.Conn, _ []byte) {
		if _, err := io.WriteString(conn, raw); err != nil || !hang {
			return
		}
		_, _ = io.Copy(io.Discard, conn) // returns when the client closes
	}
}

// countingTransport counts the response body bytes its caller reads.
type countingTransport struct {
	rt   http.RoundTripper
	read atomic.Int64
}

func (ct *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := ct.rt.RoundTrip(r)
	if resp != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &ct.read}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// Fuzzing. The fuzz targets (FuzzRetryAfter in retry_test.go, FuzzErrorBody
// in errorbody_test.go, FuzzTokenBody in token_test.go) check properties of
// the parsers that turn server bytes into results. Their seed corpus (the
// f.Add calls and testdata/fuzz/Fuzz*) runs as ordinary tests; fuzz one of
// them with, for example,
//
//	go test -run '^$' -fuzz FuzzErrorBody -fuzztime 2m .

// The secret and the token the fuzz targets know. A server echoes them, so
// they must never reach an error. Both need form-encoding, so that the raw
// and the encoded forms differ.
const (
	fuzzSecret = "p+ss:w%rd&/=é-SECRET-9f2c"
	fuzzToken  = "tok+en/=&%-TOKEN-é-41d7"
)

// maxErrorText bounds the length of Error(): the SDK's own words plus the
// capped code and description.
const maxErrorText = 1024

// fuzzClient returns a Client holding fuzzSecret, whose clock reads
// testNow. It sends nothing.
func fuzzClient(t testing.TB) *Client {
	t.Helper()
	c, err := NewClient(testID, fuzzSecret, fixedNow(testNow))
	require.NoError(t, err, "NewClient")
	return c
}

// forbidden lists the forms in which the client secret and the given tokens
// could be echoed back: raw, form-encoded, and the Basic credentials (which
// are base64).
func forbidden(c *Client, tokens ...string) []string {
	forms := []string{fuzzSecret, url.QueryEscape(fuzzSecret), strings.TrimPrefix(c.secret.authorization[0], "Basic ")}
	for _, tok := range tokens {
		forms = append(forms, tok, url.QueryEscape(tok))
	}
	return forms
}

// echoes returns server texts that echo the secret and the token in every
// form a server could have them in: raw, form-encoded, in the Basic header,
// and JSON-escaped by the server's encoder.
func echoes(c *Client, token string) []string {
	escaped, _ := json.Marshal(fuzzSecret + " " + token) // \u0026 and friends
	return []string{
		fuzzSecret,
		url.QueryEscape(fuzzSecret),
		c.secret.authorization[0],
		"Authorization: " + c.secret.authorization[0] + " token=" + url.QueryEscape(token) + "&token_type_hint=access_token",
		token,
		url.QueryEscape(token),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(testID) + ":" + url.QueryEscape(fuzzSecret))),
		strings.Trim(string(escaped), `"`),
		fuzzSecret + fuzzSecret + token + token,            // back to back
		"x" + fuzzSecret[:5] + fuzzSecret + fuzzSecret[5:], // nested in itself
	}
}

// checkErrorText fails if e's text shows a forbidden string, is not valid
// UTF-8, holds a control character or is too long.
func checkErrorText(t *testing.T, e *Error, forbid []string) {
	t.Helper()
	fields := map[string]struct {
		s   string
		max int
	}{
		"Error()":     {e.Error(), maxErrorText},
		"Code":        {e.Code, maxCodeLen + len("…")},
		"Description": {e.Description, maxDescriptionLen + len("…")},
		"URI":         {e.URI, maxURILen + len("…")},
	}
	for name, f := range fields {
		assert.True(t, utf8.ValidString(f.s), "%s = %q is not valid UTF-8", name, f.s)
		i := strings.IndexFunc(f.s, unicode.IsControl)
		assert.Equal(t, -1, i, "%s = %q has a control character at byte %d", name, f.s, i)
		assert.LessOrEqual(t, len(f.s), f.max, "%s is %d bytes long", name, len(f.s))
		for _, s := range forbid {
			assert.NotContains(t, f.s, s, "%s = %q contains the secret %q", name, f.s, s)
		}
	}
}

// leaks reports whether text shows tok, a token the server sent. Only tokens
// that cannot occur in the SDK's own words by chance are checked: at least 8
// bytes of token characters, with no space, ':', '(' or brackets, so that tok
// cannot span a separator or hide in "[redacted]".
func leaks(text, tok string) bool {
	if len(tok) < 8 || strings.IndexFunc(tok, func(r rune) bool {
		return !(r < utf8.RuneSelf && (r == '-' || r == '.' || r == '_' || r == '~' || r == '+' || r == '/' ||
			'0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'))
	}) >= 0 {
		return false
	}
	return strings.Contains(strings.ReplaceAll(text, redacted, "\x00"), tok)
}

// skeleton is e.Error() without the server's text (a registered code is
// public, so it stays): what an error shows of its own accord.
func skeleton(e *Error) string {
	s := *e
	if !registeredCodes[s.Code] {
		s.Code = ""
	}
	s.Description = ""
	return s.Error()
}

// statusIn maps any int into [lo, hi].
func statusIn(n, lo, hi int) int {
	if lo <= n && n <= hi {
		return n
	}
	span := hi - lo + 1
	return lo + ((n%span)+span)%span
}

// dotBodies are answers a real django-oauth-toolkit server gives, plus its
// introspection answers.
var dotBodies = []string{
	`{"access_token": "Zx8dQ2mLk7pR4tW9vB3nF6hJ1sC5yE", "expires_in": 36000, "token_type": "Bearer", "scope": "read"}`,
	`{"access_token": "Zx8dQ2mLk7pR4tW9vB3nF6hJ1sC5yE", "expires_in": 36000, "token_type": "Bearer", "scope": "read write"}`,
	`{"error": "invalid_scope"}`,
	`{"error": "invalid_client"}`,
	`{"error": "unsupported_grant_type"}`,
	`{"error": "invalid_grant", "error_description": "Invalid credentials given."}`,
	`{"error": "invalid_request", "error_description": "Missing token parameter."}`,
	`{"error": "invalid_request", "error_description": "URL query parameters are not allowed"}`,
	`{"active": false}`,
	`{"active": true, "scope": "read write", "exp": 1795608000, "client_id": "svc-id"}`,
	"", // revoke's 200, the 405 and DOT's 403
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n",
}

// dotHeaderValues are header values django-oauth-toolkit sends. None is a
// Retry-After (DOT never sends one), which makes them garbage for it.
var dotHeaderValues = []string{
	`Bearer error="invalid_client"`,
	`Bearer realm="api",error="invalid_token"`,
	"POST, OPTIONS",
	"text/html; charset=utf-8",
	"application/json",
	"no-store",
	"no-cache",
}

// retryAfterSeeds are Retry-After values, good and bad.
var retryAfterSeeds = []string{
	"", "0", "1", "120", " 5 ", "-1", "+5", "1.5", "5s", "abc", "1e20", "0x10",
	"9999999999", "9999999999999", "18446744073709551615", "18446744073709551616",
	"99999999999999999999999", "9223372036", "9223372037", "00000000000000000000001",
	"Wed, 25 Nov 2026 12:01:00 GMT",          // a minute after testNow
	"Wed, 25 Nov 2026 11:59:00 GMT",          // in the past
	"Wednesday, 25-Nov-26 12:01:00 GMT",      // RFC 850
	"Wed Nov 25 12:01:00 2026",               // asctime
	"Wed, 32 Nov 2026 12:01:00 GMT",          // no such day
	"Thu, 01 Jan 1970 00:00:00 GMT",          // the epoch
	"Mon, 01 Jan 0001 00:00:00 GMT",          // year 1
	"Sun, 01 Jan 2317 00:00:00 GMT",          // near the Duration limit
	"\t7\r\n", "\u00a09", "٣", "１２", "7\x00", // odd spaces and digits
}
