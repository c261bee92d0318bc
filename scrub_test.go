package cryptofuse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClean(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "Missing token parameter.", 64, "Missing token parameter."},
		{"newline", "a\nb\r\nc", 64, "a\uFFFDb\uFFFD\uFFFDc"},
		{"escape sequence", "\x1b[31mred", 64, "\uFFFD[31mred"},
		{"invalid UTF-8", "a\xffb", 64, "a\uFFFDb"},
		{"non-ASCII kept", "clé invalide", 64, "clé invalide"},
		{"cut", "abcdef", 3, "abc…"},
		{"cut on a rune boundary", "aé", 2, "a…"},
		// C1 controls: U+0085 is NEL, a line break; U+009B is CSI, which
		// terminals that honour C1 read as the start of an escape sequence.
		{"NEL", "a\u0085b", 64, "a\uFFFDb"},
		{"CSI", "\u009b2J", 64, "\uFFFD2J"},
		{"C1 bounds", "x\u0080\u009fy", 64, "x\uFFFD\uFFFDy"},
		{"DEL and NUL", "a\x7fb\x00", 64, "a\uFFFDb\uFFFD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := clean(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("clean(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if i := strings.IndexFunc(got, unicode.IsControl); i >= 0 {
				t.Errorf("clean(%q) = %q has a control character at byte %d", tc.in, got, i)
			}
		})
	}
}

// TestScrubber: the client secret and the given tokens are replaced in
// server text in every form a server could echo them in.
func TestScrubber(t *testing.T) {
	t.Parallel()
	const secret = "p+ss:w%rd&/=é-SECRET"
	c, err := NewClient(testID, secret)
	require.NoError(t, err)
	creds := strings.TrimPrefix(c.authorization[0], "Basic ")
	// The base64 padding is left: it tells nothing.
	padding := creds[len(strings.TrimRight(creds, "=")):]
	const token = "AT-\xff-0123456789abcdefghij"
	cases := []struct {
		name, in, want string
	}{
		{"raw secret", "bad " + secret, "bad [redacted]"},
		{"form-encoded secret", "bad " + url.QueryEscape(secret), "bad [redacted]"},
		{"Basic credentials", "Authorization: Basic " + creds, "Authorization: Basic [redacted]" + padding},
		{"raw token", "token " + token, "token [redacted]"},
		{"form-encoded token", "token=" + url.QueryEscape(token), "token=[redacted]"},
		{"token decoded leniently", "token " + strings.ToValidUTF8(token, "\uFFFD"), "token [redacted]"},
		{"back to back", secret + token, "[redacted][redacted]"},
		{"nothing to scrub", "Missing token parameter.", "Missing token parameter."},
	}
	scrub := c.scrubber(token)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := scrub(tc.in); got != tc.want {
				t.Errorf("scrub(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got := c.scrubber()(""); got != "" {
		t.Errorf("scrub(\"\") = %q, want \"\"", got)
	}
}

// TestSecretsNeverLeak provokes every kind of failure from a hostile server
// that echoes what it knows, and checks that no error shows a secret.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const secret = "p+ss:w%rd&/=é-SECRET"
	const defaultToken = "tok+en/=&%-TOKEN-é"
	cases := []struct {
		name       string
		status     int // 0: the handler below writes its own answer
		handler    http.HandlerFunc
		revokeFine bool     // a 2xx revoke is a success, not an error
		token      string   // "": defaultToken
		forbid     []string // more that no error may show: parts of the token
	}{
		{name: "4xx echoing everything", status: 401},
		{name: "200 with an error echoing everything", status: 200, revokeFine: true},
		{name: "5xx HTML echoing everything", handler: func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(500)
			fmt.Fprintf(w, "<html>%s %s %s</html>", r.Header.Get("Authorization"), body, secret)
		}},
		{name: "redirect carrying everything", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://evil.example/?"+url.QueryEscape(secret+defaultToken))
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
			t.Parallel()
			token := tc.token
			if token == "" {
				token = defaultToken
			}
			echoed := strings.ToValidUTF8(token, "\uFFFD")
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
					assertNoSecret(t, fmt.Sprintf(verb, err), secret, token, echoed, creds)
				}
				for _, part := range tc.forbid {
					assert.NotContains(t, err.Error(), part, "Error() shows part of the token")
				}
				var e *Error
				if errors.As(err, &e) {
					for _, field := range []string{e.Code, e.Description, e.URI} {
						assertNoSecret(t, field, secret, token, echoed, creds)
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

// A long token echoed back with one byte changed makes every position of
// the text a long near-match. The matcher's budget bounds that work, and
// text it could not check is replaced whole rather than shown.
func TestScrubber_BudgetOnHostileText(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testID, testSecret)
	require.NoError(t, err)
	tok := strings.Repeat("a", 64<<10)
	cases := []struct{ name, in, want string }{
		{"near-echo of a 64 KiB token", strings.Repeat("a", 64<<10-1) + "b", redacted},
		{"exact echo", "x" + tok + "y", "x" + redacted + "y"},
		{"plain text", strings.Repeat("b", 64<<10), strings.Repeat("b", 64<<10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := c.scrubber(tok)(tc.in); got != tc.want {
				t.Errorf("scrub: got %q, want %q", abbrev(got), abbrev(tc.want))
			}
		})
	}
}
