package cryptofuse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile input through the public API. Retries are being added to send:
// the servers here answer every request the same way, and no test counts the
// requests of a call that can be retried.

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

func TestHostile_TokenBytesSentIntact(t *testing.T) {
	// Every byte value but the control characters, which Revoke refuses
	// (ErrMalformedToken, malformed_test.go): C0 and DEL as bytes, and
	// 0xC2, the lead byte of the C1 controls' UTF-8. Invalid UTF-8 stays.
	binary := make([]byte, 0, 64<<10)
	for i := 0; len(binary) < 64<<10; i++ {
		if b := byte(i*31 + 7); b > 0x20 && b != 0x7f && b != 0xc2 {
			binary = append(binary, b)
		}
	}
	cases := []struct {
		name  string
		token string
	}{
		{"invalid UTF-8", "\xff\xfe\xc3\x28"},
		{"lone continuation byte", "\x80"},
		{"truncated rune", "ab\xe2\x82"},
		{"UTF-16 surrogate as UTF-8", "\xed\xa0\x80"},
		{"overlong NUL", "\xc0\x80"},
		{"form syntax", "a=b&token=c;d+e%20f"},
		{"one byte", "x"},
		{"one invalid byte", "\xff"},
		{"64 KiB of ASCII", strings.Repeat("t", 64<<10)},
		{"64 KiB of every byte value but controls", string(binary)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got [][]string
			c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseForm(); err != nil {
					t.Errorf("server: ParseForm: %v", err)
				}
				mu.Lock()
				got = append(got, r.PostForm["token"])
				mu.Unlock()
			})

			require.NoError(t, c.Revoke(context.Background(), tc.token, AccessTokenHint))

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, got, 1, "requests the server saw")
			require.Len(t, got[0], 1, "token values in the form")
			if got[0][0] != tc.token {
				t.Errorf("server decoded a %d-byte token %q, want the %d bytes %q",
					len(got[0][0]), abbrev(got[0][0]), len(tc.token), abbrev(tc.token))
			}
		})
	}
}

// abbrev shortens s for a failure message.
func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func TestHostile_EmptyTokenSendsNothing(t *testing.T) {
	var requests atomic.Int32
	c, _ := setupServer(t, func(http.ResponseWriter, *http.Request) { requests.Add(1) })

	err := c.Revoke(context.Background(), "", AccessTokenHint)
	assert.ErrorIs(t, err, ErrEmptyToken)
	tok, err := c.RotateToken(context.Background(), "")
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, ErrEmptyToken)
	if got := requests.Load(); got != 0 {
		t.Errorf("server saw %d requests, want 0", got)
	}
}

func TestHostile_ControlCharactersInCredentials(t *testing.T) {
	bad := []string{"\r", "\n", "\x00", "\x7f", "\t", "\x1b", "\r\nX-Injected: 1", "\n\nGET / HTTP/1.1"}
	for _, ctl := range bad {
		for _, place := range []struct{ name, prefix, suffix string }{
			{"alone", "", ""}, {"leading", "", "value"}, {"trailing", "value", ""}, {"inside", "va", "lue"},
		} {
			v := place.prefix + ctl + place.suffix
			t.Run("id "+place.name+" "+strings.ToValidUTF8(v, "?"), func(t *testing.T) {
				c, err := NewClient(v, testSecret)
				assert.Nil(t, c)
				assert.ErrorIs(t, err, ErrInvalidConfig)
				if err != nil {
					assert.NotContains(t, err.Error(), "X-Injected", "the value is echoed")
				}
			})
			t.Run("secret "+place.name+" "+strings.ToValidUTF8(v, "?"), func(t *testing.T) {
				c, err := NewClient(testID, v)
				assert.Nil(t, c)
				assert.ErrorIs(t, err, ErrInvalidConfig)
				if err != nil {
					assertNoSecret(t, err.Error(), v)
				}
			})
		}
	}
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

func TestHostile_NoHeaderInjection(t *testing.T) {
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
				if !wellFormed(line) {
					t.Errorf("malformed header line %q", line)
				}
				name, value, _ := strings.Cut(line, ": ")
				switch {
				case strings.EqualFold(name, "Authorization"):
					auth = append(auth, value)
				case strings.EqualFold(name, "X-Injected"):
					t.Errorf("injected header line %q", line)
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

func TestHostile_RetryAfterOn503(t *testing.T) {
	// Real time: the dates below are an hour off, so that a few seconds of
	// drift (or a retry) cannot move a result across zero.
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	cases := []struct {
		name       string
		retryAfter string        // "" sends none
		wantMin    time.Duration // RetryAfter of the *Error, within [wantMin, wantMax]
		wantMax    time.Duration
	}{
		{"absent", "", 0, 0},
		{"zero", "0", 0, 0},
		{"negative", "-1", 0, 0},
		{"huge negative", "-9999999999999", 0, 0},
		{"exponent", "1e20", 0, 0},
		{"fraction", "1.5", 0, 0},
		{"unit", "5s", 0, 0},
		{"hex", "0x10", 0, 0},
		{"plus sign", "+5", 0, 0},
		{"garbage", "soon", 0, 0},
		{"DOT header value", `Bearer error="invalid_client"`, 0, 0},
		{"an hour", "3600", time.Hour, time.Hour},
		{"huge", "9999999999999", maxRetryAfter, maxRetryAfter},
		{"beyond uint64", "99999999999999999999999", maxRetryAfter, maxRetryAfter},
		{"date in the past", past, 0, 0},
		{"date in the future", future, time.Hour - time.Minute, time.Hour},
		{"the epoch", "Thu, 01 Jan 1970 00:00:00 GMT", 0, 0},
		{"no such date", "Wed, 32 Nov 2026 12:01:00 GMT", 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var served atomic.Int32
			c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
				served.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `{"error": "temporarily_unavailable"}`)
			}, noRetry) // retry_test.go covers the waits; this is about parsing
			calls := map[string]func(context.Context) error{
				"revoke": func(ctx context.Context) error { return c.Revoke(ctx, testToken, AccessTokenHint) },
				"token":  func(ctx context.Context) error { _, err := c.Token(ctx); return err },
			}
			for op, call := range calls {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				err := call(ctx)
				cancel()
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("%s: got %v, want an *Error", op, err)
					continue
				}
				if e.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("%s: got status %d, want 503", op, e.StatusCode)
				}
				if e.RetryAfter < tc.wantMin || e.RetryAfter > tc.wantMax {
					t.Errorf("%s: Retry-After %q: got RetryAfter %v, want within [%v, %v]", op, tc.retryAfter, e.RetryAfter, tc.wantMin, tc.wantMax)
				}
			}
			if got := served.Load(); got != 2 {
				t.Errorf("requests served: got %d, want 2 (one per call)", got)
			}
		})
	}
}

const stalledHeaders = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"

func TestHostile_BodyStallsAfter200(t *testing.T) {
	for _, partial := range []string{"", `{"access_token": "AT-partial`} {
		t.Run("token after "+strings.ToValidUTF8(partial, "?")+"", func(t *testing.T) {
			srv := newRawServer(t, writeThen(stalledHeaders+partial, true))
			c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			tok, err := c.Token(ctx)
			assert.Nil(t, tok)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), 5*time.Second, "the call outlived its deadline")
		})
	}

	// A 2xx revoke is a success whatever its body: the server has revoked the
	// token. send drains the body to reuse the connection, so today Revoke
	// returns nil, but only when its ctx ends (see TestBug_RevokeWaitsForStalled2xxBody).
	t.Run("revoke", func(t *testing.T) {
		srv := newRawServer(t, writeThen(stalledHeaders, true))
		c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = c.Revoke(ctx, testToken, AccessTokenHint)
		assert.NoError(t, err, "the server answered 200: the token is revoked")
		assert.Less(t, time.Since(start), 5*time.Second, "the call outlived its deadline")
	})

	t.Run("revoke 400", func(t *testing.T) {
		srv := newRawServer(t, writeThen("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"error\": \"invalid_requ", true))
		c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err = c.Revoke(ctx, testToken, AccessTokenHint)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		var e *Error
		if assert.ErrorAs(t, err, &e) {
			assert.Equal(t, http.StatusBadRequest, e.StatusCode)
		}
	})
}

func TestHostile_CloseAfterHeaders(t *testing.T) {
	cases := []struct {
		name       string
		raw        string
		wantStatus int // of the token call's *Error (issue 11: a cut-off 2xx is one too)
	}{
		{"200, no body", stalledHeaders, http.StatusOK},
		{"200, part of the body", stalledHeaders + `{"access_token": "AT-partial", "expires_in": 36000}`, http.StatusOK},
		{"200, whole JSON but short of Content-Length", stalledHeaders + tokenJSON1, http.StatusOK},
		{"200, chunked, cut in a chunk", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n{\"access_token\": \"AT", http.StatusOK},
		{"503, part of the body", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1000\r\n\r\n{\"error\": \"temporarily_unavailable\"}", http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fakeSleep(t)
			var served atomic.Int32
			answer := writeThen(tc.raw, false)
			srv := newRawServer(t, func(conn net.Conn, req []byte) {
				served.Add(1)
				answer(conn, req)
			})
			c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			// A cut-off 2xx token answer may have issued a token: not
			// retried. A 503 is, cut off or not.
			wantServed := int32(1)
			if tc.wantStatus == http.StatusServiceUnavailable {
				wantServed = int32(DefaultRetryPolicy.MaxAttempts)
			}

			tok, err := c.Token(ctx)
			assert.Equal(t, wantServed, served.Swap(0), "token requests served")
			assert.Nil(t, tok, "a token from a cut-off answer")
			require.Error(t, err)
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
			var e *Error
			if assert.ErrorAs(t, err, &e) {
				assert.Equal(t, tc.wantStatus, e.StatusCode)
			}

			// Revoke reads no 2xx body: the status is the answer. A cut-off
			// 200 is a success, a cut-off 503 an *Error.
			err = c.Revoke(ctx, testToken, AccessTokenHint)
			assert.Equal(t, wantServed, served.Load(), "revoke requests served")
			if tc.wantStatus == http.StatusOK {
				assert.NoError(t, err)
			} else if assert.ErrorAs(t, err, &e) {
				assert.Equal(t, tc.wantStatus, e.StatusCode)
			}
		})
	}
}
