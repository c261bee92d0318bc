package cryptofuse

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Revoke and RotateToken refuse, before sending anything,
// what plainly is not a token, and send everything else as given.

// countingServer answers every revoke with 200 and every token request with
// a token, and counts the requests.
func countingServer(t *testing.T) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/o/token/") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"access_token":"new-token","token_type":"Bearer","expires_in":3600}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient("id", "secret", WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func TestMalformedToken(t *testing.T) {
	const tok = "AbC123-token"
	cases := []struct {
		name    string
		token   string
		refused bool
		why     string // a fragment of the message, when refused
	}{
		{"Bearer prefix", "Bearer " + tok, true, `scheme "Bearer"`},
		{"bearer prefix, lower case", "bearer " + tok, true, `scheme "Bearer"`},
		{"BEARER prefix, upper case", "BEARER " + tok, true, `scheme "Bearer"`},
		{"Bearer and two spaces", "Bearer  " + tok, true, `scheme "Bearer"`},
		{"Bearer and NBSP", "Bearer\u00a0" + tok, true, `scheme "Bearer"`},
		{"Basic prefix", "Basic " + tok, true, `scheme "Basic"`},
		{"DPoP prefix", "dpop " + tok, true, `scheme "DPoP"`},
		{"MAC prefix", "MAC " + tok, true, `scheme "MAC"`},
		{"Token prefix", "Token " + tok, true, `scheme "Token"`},
		{"header name", "Authorization: Bearer " + tok, true, `"Authorization:"`},
		{"trailing newline", tok + "\n", true, "trailing white space (U+000A)"},
		{"trailing CRLF", tok + "\r\n", true, "trailing white space (U+000A)"},
		{"leading space", " " + tok, true, "leading white space (U+0020)"},
		{"trailing tab", tok + "\t", true, "trailing white space (U+0009)"},
		{"leading BOM", "\ufeff" + tok, true, "leading white space (U+FEFF)"},
		{"trailing NBSP", tok + "\u00a0", true, "trailing white space (U+00A0)"},
		{"trailing zero-width space", tok + "\u200b", true, "trailing white space (U+200B)"},
		{"leading ideographic space", "\u3000" + tok, true, "leading white space (U+3000)"},
		{"trailing line separator", tok + "\u2028", true, "trailing white space (U+2028)"},
		{"NUL inside", "Ab\x00C", true, "control character U+0000 at byte 2"},
		{"CRLF inside", "Ab\r\nX-Injected: 1", true, "control character U+000D at byte 2"},
		{"DEL inside", "Ab\x7fC", true, "control character U+007F at byte 2"},
		{"C1 control inside", "Ab\u0085C", true, "control character U+0085 at byte 2"},
		{"ESC inside", "Ab\x1b[2JC", true, "control character U+001B at byte 2"},

		{"opaque", tok, false, ""},
		{"inner space", "abc def", false, ""},
		{"word that is no scheme, then a space", "Bearerish abc", false, ""},
		{"scheme without a space", "Bearerabc", false, ""},
		{"scheme alone", "Bearer", false, ""},
		{"b64token characters", "a+b/c=d.e~f-g_h==", false, ""},
		{"JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", false, ""},
		{"non-ASCII letters", "jeton-é-ß-токен-令牌", false, ""},
		{"invalid UTF-8", "\xff\xfe-token", false, ""},
		{"one byte", "x", false, ""},
		{"inner NBSP", "abc\u00a0def", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, call := range []struct {
				name string
				run  func(c *Client) error
				sent int32 // requests when the token goes out
			}{
				{"Revoke", func(c *Client) error { return c.Revoke(context.Background(), tc.token, AccessTokenHint) }, 1},
				{"RotateToken", func(c *Client) error { _, err := c.RotateToken(context.Background(), tc.token); return err }, 2},
			} {
				c, requests := countingServer(t)
				err := call.run(c)
				if !tc.refused {
					if err != nil {
						t.Errorf("%s: got %v, want nil", call.name, err)
					}
					if got := requests.Load(); got != call.sent {
						t.Errorf("%s: got %d requests, want %d", call.name, got, call.sent)
					}
					continue
				}
				if !errors.Is(err, ErrMalformedToken) {
					t.Errorf("%s: got %v, want ErrMalformedToken", call.name, err)
				}
				var rerr *RotateError
				if errors.As(err, &rerr) {
					t.Errorf("%s: got a *RotateError, want the plain refusal", call.name)
				}
				if got := requests.Load(); got != 0 {
					t.Errorf("%s: got %d requests, want 0", call.name, got)
				}
				if err == nil {
					continue
				}
				if msg := err.Error(); !strings.Contains(msg, tc.why) {
					t.Errorf("%s: got %q, want it to say %q", call.name, msg, tc.why)
				}
				if strings.Contains(err.Error(), "AbC") || strings.Contains(err.Error(), "X-Injected") {
					t.Errorf("%s: %q shows the token", call.name, err.Error())
				}
			}
		})
	}
}

func TestEmptyTokenIsNotMalformed(t *testing.T) {
	c, requests := countingServer(t)
	err := c.Revoke(context.Background(), "", AccessTokenHint)
	if !errors.Is(err, ErrEmptyToken) || errors.Is(err, ErrMalformedToken) {
		t.Errorf("got %v, want ErrEmptyToken alone", err)
	}
	if got := requests.Load(); got != 0 {
		t.Errorf("got %d requests, want 0", got)
	}
}
