package cryptofuse

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testID     = "svc-id"
	testSecret = "s3cr3t-value"
	testToken  = "AT-leaked-4e1f9c"
	revokePath = "/o/revoke_token/"
	tokenPath  = "/o/token/"
	mockBase   = "https://api.cryptofuse.io"
	tokenJSON1 = `{"access_token": "AT-1234567890abcdefghijklmnopq", "expires_in": 36000, "token_type": "Bearer", "scope": "read write"}`
)

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

// request is what a test server saw of one request.
type request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// record reads a request for later assertions.
func record(t *testing.T, r *http.Request) request {
	t.Helper()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("reading request body: %v", err)
	}
	return request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)}
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

func TestNewClient_BadInput(t *testing.T) {
	cases := []struct {
		name           string
		id, secret     string
		opts           []Option
		wantErrContain string
	}{
		{"empty id", "", "x", nil, "empty client id"},
		{"empty secret", "x", "", nil, "empty client secret"},
		{"newline in id", "id\n", "x", nil, "client id has a control character"},
		{"CRLF in secret", "id", "se\r\ncret", nil, "client secret has a control character"},
		{"relative base URL", "id", "x", []Option{WithBaseURL("/o/")}, "not absolute"},
		{"no scheme", "id", "x", []Option{WithBaseURL("api.cryptofuse.io")}, "not absolute"},
		{"ftp scheme", "id", "x", []Option{WithBaseURL("ftp://api.cryptofuse.io")}, "not absolute"},
		{"no host", "id", "x", []Option{WithBaseURL("https://")}, "no host"},
		{"opaque", "id", "x", []Option{WithBaseURL("https:api.cryptofuse.io")}, "no host"},
		{"query", "id", "x", []Option{WithBaseURL("https://api.cryptofuse.io/?x=1")}, "query"},
		{"empty query", "id", "x", []Option{WithBaseURL("https://api.cryptofuse.io/?")}, "query"},
		{"fragment", "id", "x", []Option{WithBaseURL("https://api.cryptofuse.io/#f")}, "fragment"},
		{"empty fragment", "id", "x", []Option{WithBaseURL("https://api.cryptofuse.io/#")}, "fragment"},
		{"user info", "id", "x", []Option{WithBaseURL("https://u:pw@api.cryptofuse.io")}, "user info"},
		{"plain http remote", "id", "x", []Option{WithBaseURL("http://api.cryptofuse.io")}, "plain http"},
		{"plain http private IP", "id", "x", []Option{WithBaseURL("http://10.0.0.1:8000")}, "plain http"},
		{"unparsable", "id", "x", []Option{WithBaseURL("https://bad host/")}, "base URL"},
		{"port out of range", "id", "x", []Option{WithBaseURL("https://api.cryptofuse.io:99999")}, "invalid port"},
		{"port zero", "id", "x", []Option{WithBaseURL("http://127.0.0.1:0")}, "invalid port"},
		{"nil http client", "id", "x", []Option{WithHTTPClient(nil)}, "nil *http.Client"},
		{"empty scope", "id", "x", []Option{WithScopes("read", "")}, "empty scope"},
		{"space in scope", "id", "x", []Option{WithScopes("read write")}, "each scope as its own argument"},
		{"quote in scope", "id", "x", []Option{WithScopes(`a"b`)}, "RFC 6749 §3.3"},
		{"empty user agent", "id", "x", []Option{WithUserAgent("")}, "empty user agent"},
		{"newline in user agent", "id", "x", []Option{WithUserAgent("a\r\nX-Evil: 1")}, "control character"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.id, tc.secret, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tc.wantErrContain)
		})
	}
}

func TestNewClient_UserInfoNotEchoed(t *testing.T) {
	_, err := NewClient("id", "x", WithBaseURL("https://user:hunter2@api.cryptofuse.io"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestNewClient_BaseURL(t *testing.T) {
	cases := []struct {
		base       string
		wantRevoke string
		wantToken  string
	}{
		{"https://api.cryptofuse.io", "https://api.cryptofuse.io/o/revoke_token/", "https://api.cryptofuse.io/o/token/"},
		{"https://api.cryptofuse.io/", "https://api.cryptofuse.io/o/revoke_token/", "https://api.cryptofuse.io/o/token/"},
		{"https://host/auth", "https://host/auth/o/revoke_token/", "https://host/auth/o/token/"},
		{"https://host/auth/", "https://host/auth/o/revoke_token/", "https://host/auth/o/token/"},
		{"https://host:8443/a/b//", "https://host:8443/a/b/o/revoke_token/", "https://host:8443/a/b/o/token/"},
		{"HTTPS://Host/auth", "https://Host/auth/o/revoke_token/", "https://Host/auth/o/token/"},
		{"https://host/a%20b", "https://host/a%20b/o/revoke_token/", "https://host/a%20b/o/token/"},
		{"http://127.0.0.1:8000", "http://127.0.0.1:8000/o/revoke_token/", "http://127.0.0.1:8000/o/token/"},
		{"http://127.1.2.3", "http://127.1.2.3/o/revoke_token/", "http://127.1.2.3/o/token/"},
		{"http://localhost:8000/x", "http://localhost:8000/x/o/revoke_token/", "http://localhost:8000/x/o/token/"},
		{"http://[::1]:8000", "http://[::1]:8000/o/revoke_token/", "http://[::1]:8000/o/token/"},
	}
	for _, tc := range cases {
		t.Run(tc.base, func(t *testing.T) {
			c, err := NewClient("id", "x", WithBaseURL(tc.base))
			require.NoError(t, err)
			assert.Equal(t, tc.wantRevoke, c.revokeURL)
			assert.Equal(t, tc.wantToken, c.tokenURL)
		})
	}
}

func TestNewClient_Defaults(t *testing.T) {
	c, err := NewClient("id", "x")
	require.NoError(t, err)
	assert.Equal(t, DefaultBaseURL+revokePath, c.revokeURL)
	assert.Equal(t, DefaultBaseURL+tokenPath, c.tokenURL)
	assert.Equal(t, "grant_type=client_credentials&scope=read+write", c.tokenForm)
	assert.Equal(t, []string{"cryptofuse-go/" + Version}, c.userAgent)
	assert.Same(t, defaultHTTPClient(), c.hc, "clients without WithHTTPClient share one pool")
	assert.True(t, c.boundCalls, "the default client has no Timeout, so calls without a deadline get DefaultTimeout")

	tr, ok := c.hc.Transport.(*http.Transport)
	require.True(t, ok, "default transport is %T", c.hc.Transport)
	assert.GreaterOrEqual(t, tr.MaxIdleConnsPerHost, 64, "idle connections per host")
	assert.Equal(t, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost, "connections per host: capped, and all of them may idle")
	assert.NotZero(t, tr.ResponseHeaderTimeout)
	assert.NotZero(t, tr.TLSHandshakeTimeout)
	assert.NotZero(t, tr.IdleConnTimeout)
	assert.NotNil(t, c.hc.CheckRedirect)
}

func TestNewClient_BasicAuthEncoding(t *testing.T) {
	cases := []struct {
		name, id, secret string
		wantHeader       string // "" to check by decoding only
	}{
		{"plain", "id", "secret", "Basic aWQ6c2VjcmV0"},
		// RFC 6749 §2.3.1: "a:b" → "a%3Ab", "p+q" → "p%2Bq", then base64.
		{"colon and plus", "a:b", "p+q", "Basic " + base64.StdEncoding.EncodeToString([]byte("a%3Ab:p%2Bq"))},
		{"space", "my id", "my secret", "Basic " + base64.StdEncoding.EncodeToString([]byte("my+id:my+secret"))},
		{"all specials", "id:+%&/=é", "se:+%&/=écret", ""},
		{"percent sequences", "%41", "%2B%zz", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.id, tc.secret)
			require.NoError(t, err)
			require.Len(t, c.authorization, 1)
			if tc.wantHeader != "" {
				assert.Equal(t, tc.wantHeader, c.authorization[0])
			}
			id, secret := decodeBasic(t, c.authorization[0])
			assert.Equal(t, tc.id, id, "client id after the server's decoding")
			assert.Equal(t, tc.secret, secret, "client secret after the server's decoding")
		})
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
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

// TestConnectionReuse checks that sequential calls, with error answers and
// their bodies among them, go over one TCP connection.
func TestConnectionReuse(t *testing.T) {
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

// TestHugeBodiesAreCapped sends a 100 MiB answer and checks how much of it the
// client reads and allocates.
func TestHugeBodiesAreCapped(t *testing.T) {
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

func TestContextDeadline(t *testing.T) {
	stalled := func(status int, partial string) func(t *testing.T) http.HandlerFunc {
		return func(t *testing.T) http.HandlerFunc {
			wait := hang(t)
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "100")
				w.WriteHeader(status)
				io.WriteString(w, partial)
				w.(http.Flusher).Flush()
				wait(w, r)
			}
		}
	}
	cases := []struct {
		name       string
		handler    func(t *testing.T) http.HandlerFunc
		wantStatus int // of the *Error; 0: no *Error
	}{
		{"no headers", func(t *testing.T) http.HandlerFunc { return hang(t) }, 0},
		{"stalled token body", stalled(200, `{"access_token": "`), 200}, // issue 11: a token may have been issued
		{"stalled error body", stalled(400, `{"error": "invalid_`), 400},
		{"stalled redirect body", stalled(302, `<html>`), 302},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(nil)
			t.Cleanup(srv.Close)
			srv.Config.Handler = tc.handler(t) // its cleanup runs before Close
			srv.Start()
			c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = c.Token(ctx)
			require.Error(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), 5*time.Second, "the call outlived its deadline")
			var e *Error
			if tc.wantStatus == 0 {
				assert.False(t, errors.As(err, &e), "got an *Error for a call that got no answer: %v", err)
			} else if assert.ErrorAs(t, err, &e) {
				assert.Equal(t, tc.wantStatus, e.StatusCode)
				assert.Contains(t, err.Error(), "reading the response body")
				if tc.wantStatus/100 == 3 {
					assert.Contains(t, err.Error(), "redirect not followed; ")
				}
			}
		})
	}
}

func TestZeroClient(t *testing.T) {
	var c Client // not built by NewClient: an error, not a panic
	err := c.Revoke(context.Background(), testToken, "")
	assert.ErrorContains(t, err, "not built by NewClient")
	_, err = c.Token(context.Background())
	assert.ErrorContains(t, err, "not built by NewClient")
}

func TestDefaultTimeoutWithoutDeadline(t *testing.T) {
	old := defaultTimeout
	defaultTimeout = 100 * time.Millisecond
	t.Cleanup(func() { defaultTimeout = old })
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	srv.Config.Handler = http.HandlerFunc(hang(t))
	srv.Start()
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL))
	require.NoError(t, err)
	err = c.Revoke(context.Background(), testToken, "")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestCancelledContextSendsNothing(t *testing.T) {
	var hits atomic.Int32
	c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Revoke(ctx, testToken, AccessTokenHint)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = c.Token(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, hits.Load(), "requests sent")
}

func TestNilContext(t *testing.T) {
	c, mt := setup(t)
	//lint:ignore SA1012 testing the nil-context guard
	err := c.Revoke(nil, testToken, "")
	assert.ErrorContains(t, err, "nil Context")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestTransportErrorWrapsCause(t *testing.T) {
	c, mt := setup(t)
	cause := errors.New("connection reset by peer")
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, httpmock.NewErrorResponder(cause))
	err := c.Revoke(context.Background(), testToken, "")
	assert.ErrorIs(t, err, cause)
	var uerr *url.Error
	assert.ErrorAs(t, err, &uerr)
	assert.True(t, strings.HasPrefix(err.Error(), "cryptofuse: revoke: "), "got %q", err)
}

func TestConcurrentUse(t *testing.T) {
	var tokens, revokes atomic.Int32
	c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case tokenPath:
			tokens.Add(1)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, tokenJSON1)
		case revokePath:
			revokes.Add(1)
		default:
			http.NotFound(w, r)
		}
	})
	const workers, calls = 32, 20
	var wantRevokes, wantTokens int32
	for i := 0; i < calls; i++ {
		switch i % 3 {
		case 0:
			wantRevokes++
		case 1:
			wantTokens++
		case 2: // a rotation revokes, then issues
			wantRevokes++
			wantTokens++
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				var err error
				switch i % 3 {
				case 0:
					err = c.Revoke(context.Background(), fmt.Sprintf("tok-%d-%d", w, i), AccessTokenHint)
				case 1:
					_, err = c.Token(context.Background())
				case 2:
					_, err = c.RotateToken(context.Background(), "old")
				}
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, workers*wantRevokes, revokes.Load(), "revoke requests")
	assert.Equal(t, workers*wantTokens, tokens.Load(), "token requests")
}

func TestClientFormatIsRedacted(t *testing.T) {
	c, err := NewClient("my-client", testSecret, WithBaseURL("https://host/auth"))
	require.NoError(t, err)
	want := `cryptofuse.Client{BaseURL:"https://host/auth", ClientID:"my-client", ClientSecret:[redacted]}`
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, arg := range []any{c, *c, struct{ C *Client }{c}, []*Client{c}} {
			got := fmt.Sprintf(verb, arg)
			assert.Contains(t, got, want, "Sprintf(%q, %T)", verb, arg)
			assertNoSecret(t, got, testSecret)
		}
	}
}

// assertNoSecret fails if s holds any secret, raw, form-encoded or in the
// Basic header's base64.
func assertNoSecret(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		for _, form := range []string{sec, url.QueryEscape(sec), base64.StdEncoding.EncodeToString([]byte(sec))} {
			if strings.Contains(s, form) {
				t.Errorf("%q contains the secret %q", s, form)
			}
		}
	}
}

// TestSecretsNeverLeak provokes every kind of failure from a hostile server
// that echoes what it knows, and checks that no error shows a secret.
func TestSecretsNeverLeak(t *testing.T) {
	const secret = "p+ss:w%rd&/=é-SECRET"
	const token = "tok+en/=&%-TOKEN-é"
	cases := []struct {
		name       string
		status     int // 0: the handler below writes its own answer
		handler    http.HandlerFunc
		revokeFine bool // a 2xx revoke is a success, not an error
	}{
		{name: "4xx echoing everything", status: 401},
		{name: "200 with an error echoing everything", status: 200, revokeFine: true},
		{name: "5xx HTML echoing everything", handler: func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(500)
			fmt.Fprintf(w, "<html>%s %s %s</html>", r.Header.Get("Authorization"), body, secret)
		}},
		{name: "redirect carrying everything", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://evil.example/?"+url.QueryEscape(secret+token))
			w.WriteHeader(307)
		}},
		{name: "connection dropped", handler: func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}},
		{name: "non-JSON 200 echoing the request", revokeFine: true, handler: func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s", r.Header.Get("Authorization"), body)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string // tokens the server was sent: it may echo them later
			h := tc.handler
			if h == nil {
				h = func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					form, _ := url.ParseQuery(string(body))
					mu.Lock()
					if tok := form.Get("token"); tok != "" {
						seen = append(seen, tok)
					}
					all := r.Header.Get("Authorization") + " " + string(body) + " " + secret + " " + url.QueryEscape(secret) + " " + strings.Join(seen, " ")
					mu.Unlock()
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tc.status)
					_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client " + all, "error_description": all, "error_uri": "https://x/" + all})
				}
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			c, err := NewClient(testID, secret, WithBaseURL(srv.URL))
			require.NoError(t, err)
			creds := c.authorization[0][len("Basic "):]

			// Token first: it cannot scrub a token it was never given, and the
			// server has seen none yet. RotateToken's issue step can, and must.
			_, tokenErr := c.Token(context.Background())
			revokeErr := c.Revoke(context.Background(), token, AccessTokenHint)
			_, rotateErr := c.RotateToken(context.Background(), token)
			errs := []error{tokenErr, rotateErr}
			if tc.revokeFine {
				assert.NoError(t, revokeErr)
			} else {
				errs = append(errs, revokeErr)
			}
			for _, err := range errs {
				require.Error(t, err)
				for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
					assertNoSecret(t, fmt.Sprintf(verb, err), secret, token, creds)
				}
				var e *Error
				if errors.As(err, &e) {
					for _, field := range []string{e.Code, e.Description, e.URI} {
						assertNoSecret(t, field, secret, token, creds)
					}
				}
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				assertNoSecret(t, fmt.Sprintf(verb, c), secret, creds)
				assertNoSecret(t, fmt.Sprintf(verb, *c), secret, creds)
			}
		})
	}
}
