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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
			creds := c.secret.authorization[0][len("Basic "):]

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
