package cryptofuse

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClient_BadInput(t *testing.T) {
	t.Parallel()
	type badInput struct {
		name           string
		id, secret     string
		opts           []Option
		wantErrContain string
	}
	cases := []badInput{
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
	// Every control character, in every place of a credential, is refused,
	// and the value is never echoed.
	for _, ctl := range []string{"\r", "\n", "\x00", "\x7f", "\t", "\x1b", "\r\nX-Injected: 1", "\n\nGET / HTTP/1.1"} {
		for _, place := range []struct{ name, prefix, suffix string }{
			{"alone", "", ""}, {"leading", "", "value"}, {"trailing", "value", ""}, {"inside", "va", "lue"},
		} {
			v := place.prefix + ctl + place.suffix
			shown := strings.ToValidUTF8(v, "?")
			cases = append(cases,
				badInput{"id " + place.name + " " + shown, v, testSecret, nil, "client id has a control character"},
				badInput{"secret " + place.name + " " + shown, testID, v, nil, "client secret has a control character"})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tc.id, tc.secret, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tc.wantErrContain)
			assert.NotContains(t, err.Error(), "X-Injected", "the value is echoed")
			if strings.ContainsFunc(tc.secret, isCTL) {
				assertNoSecret(t, err.Error(), tc.secret)
			}
			if strings.ContainsFunc(tc.id, isCTL) {
				assertNoSecret(t, err.Error(), tc.id)
			}
		})
	}
}

func TestNewClient_UserInfoNotEchoed(t *testing.T) {
	t.Parallel()
	_, err := NewClient("id", "x", WithBaseURL("https://user:hunter2@api.cryptofuse.io"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestNewClient_BaseURL(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			c, err := NewClient("id", "x", WithBaseURL(tc.base))
			require.NoError(t, err)
			assert.Equal(t, tc.wantRevoke, c.revokeURL)
			assert.Equal(t, tc.wantToken, c.tokenURL)
		})
	}
}

func TestNewClient_Defaults(t *testing.T) {
	t.Parallel()
	c, err := NewClient("id", "x")
	require.NoError(t, err)
	assert.Equal(t, DefaultBaseURL+revokePath, c.revokeURL)
	assert.Equal(t, DefaultBaseURL+tokenPath, c.tokenURL)
	assert.Equal(t, "grant_type=client_credentials&scope=read+write", c.tokenForm)
	assert.Equal(t, []string{"cryptofuse-go/" + Version}, c.userAgent)
	assert.Equal(t, DefaultRetryPolicy, c.retry)
	assert.Nil(t, c.logger, "no logger")
	assert.False(t, c.issueFirst, "revoke first")
	assert.Equal(t, DefaultTimeout, c.clock.timeout, "call timeout")
	assert.Same(t, defaultHTTPClient(), c.hc, "clients without WithHTTPClient share one pool")
	assert.True(t, c.boundCalls, "the default client has no Timeout, so calls without a deadline get DefaultTimeout")
	assert.NotNil(t, c.hc.CheckRedirect)
	// transport_test.go checks the default client's transport.
}

func TestNewClient_BasicAuthEncoding(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			c, err := NewClient(tc.id, tc.secret)
			require.NoError(t, err)
			require.Len(t, c.secret.authorization, 1)
			if tc.wantHeader != "" {
				assert.Equal(t, tc.wantHeader, c.secret.authorization[0])
			}
			id, secret := decodeBasic(t, c.secret.authorization[0])
			assert.Equal(t, tc.id, id, "client id after the server's decoding")
			assert.Equal(t, tc.secret, secret, "client secret after the server's decoding")
		})
	}
}

func TestClientFormatIsRedacted(t *testing.T) {
	t.Parallel()
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

// TestConcurrentUse shares one Client between goroutines that revoke, issue
// and rotate against a real server.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
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

// TestConcurrentCallsUnderFaults shares one Client between many goroutines
// that revoke, issue and rotate while the fake server answers some requests
// with 503 and 429 and drops some connections. With enough attempts every
// call succeeds, and the server's state agrees with what the calls returned.
// Run it with -race.
func TestConcurrentCallsUnderFaults(t *testing.T) {
	t.Parallel()
	sleep, waits := fakeSleep()
	srv := cryptofusetest.NewServer(testID, testSecret)
	t.Cleanup(srv.Close)
	// Every other token's first revoke loses its connection; of the other
	// revokes, one in 3 is answered 503 with Retry-After; one token request
	// in 4 is answered 429. A request goes to the first fault that matches
	// it, so the first, OncePerToken, takes each token's first revoke and
	// the second takes its retries. A retry is another request, which a
	// fault may take again: 20 attempts make the chance that all of one
	// call's attempts fail negligible.
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Drop: true, OncePerToken: true, Every: 2})
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable, RetryAfter: "1", Every: 3})
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Status: http.StatusTooManyRequests, Every: 4})
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), WithRetry(RetryPolicy{MaxAttempts: 20}), sleep)
	require.NoError(t, err)

	const goroutines, rounds = 16, 12
	type result struct {
		revoked, issued, rotatedOld, rotatedNew []string
		errs                                    []error
	}
	results := make([]result, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := &results[g]
			for i := range rounds {
				switch i % 3 {
				case 0:
					tok := srv.IssueToken(testID, "")
					if err := c.Revoke(ctx, tok, AccessTokenHint); err != nil {
						r.errs = append(r.errs, err)
						continue
					}
					r.revoked = append(r.revoked, tok)
				case 1:
					tok, err := c.Token(ctx)
					if err != nil {
						r.errs = append(r.errs, err)
						continue
					}
					r.issued = append(r.issued, tok.AccessToken)
				case 2:
					old := srv.IssueToken(testID, "")
					tok, err := c.RotateToken(ctx, old)
					if err != nil {
						r.errs = append(r.errs, err)
						continue
					}
					r.rotatedOld = append(r.rotatedOld, old)
					r.rotatedNew = append(r.rotatedNew, tok.AccessToken)
				}
			}
		}()
	}
	wg.Wait()

	var calls int
	for g, r := range results {
		for _, err := range r.errs {
			assert.NoError(t, err, "goroutine %d", g)
			assertNoSecret(t, err.Error(), testSecret)
		}
		for _, tok := range append(r.revoked, r.rotatedOld...) {
			assert.False(t, srv.Active(tok), "revoked token still active")
		}
		for _, tok := range append(r.issued, r.rotatedNew...) {
			assert.True(t, srv.Active(tok), "issued token not active")
		}
		calls += len(r.revoked) + len(r.issued) + len(r.rotatedOld)
	}
	assert.Equal(t, goroutines*rounds, calls, "calls that succeeded")

	n := srv.Counts()
	t.Logf("server saw %+v", n)
	// Every faulted request was retried once more, so the requests sent
	// are the calls' own plus one per fault: 4 revokes (one per revoke
	// call, one per rotation) and 4 token requests (one per token call,
	// one per rotation) per 3 rounds.
	wantRevokes, wantTokens := goroutines*rounds*2/3, goroutines*rounds*2/3
	assert.Equal(t, wantRevokes+wantTokens+n.Faulted, n.Revoke+n.Token, "requests sent: one per call step, plus one per fault")
	assert.Greater(t, n.Faulted, goroutines*rounds/4, "faults injected")
	assert.Len(t, waits(), n.Faulted, "one wait per fault")
	assert.LessOrEqual(t, n.Connections, goroutines+n.Faulted, "connections: reused, but for the dropped ones")
}

// TestConcurrentCallsUnderFaults_GiveUp: with the default policy and a
// server that always answers 503, every call gives up with a typed error
// after 3 attempts, and none leaks a secret.
func TestConcurrentCallsUnderFaults_GiveUp(t *testing.T) {
	t.Parallel()
	sleep, _ := fakeSleep()
	srv := cryptofusetest.NewServer(testID, testSecret)
	t.Cleanup(srv.Close)
	srv.InjectFault(-1, cryptofusetest.Fault{Status: http.StatusServiceUnavailable})
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), sleep)
	require.NoError(t, err)

	const goroutines = 16
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch g % 3 {
			case 0:
				errs[g] = c.Revoke(context.Background(), testToken, "")
			case 1:
				_, errs[g] = c.Token(context.Background())
			case 2:
				_, errs[g] = c.RotateToken(context.Background(), testToken)
			}
		}()
	}
	wg.Wait()
	for g, err := range errs {
		var e *Error
		require.ErrorAs(t, err, &e, "goroutine %d", g)
		assert.Equal(t, http.StatusServiceUnavailable, e.StatusCode)
		assert.Equal(t, 3, e.attempts, "attempts")
		var re *RotateError
		assert.Equal(t, g%3 == 2, errors.As(err, &re), "a RotateError from RotateToken only")
		assertNoSecret(t, err.Error(), testSecret, testToken)
	}
	assert.Equal(t, goroutines*3, srv.Counts().Revoke+srv.Counts().Token, "requests: 3 attempts per call")
}
