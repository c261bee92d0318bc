package cryptofuse

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRevoke_Wire checks the request Revoke sends: the exact wire form over a
// mock transport, and the token as a real net/http server decodes it, byte
// for byte.
func TestRevoke_Wire(t *testing.T) {
	t.Parallel()
	// Every byte value but the control characters, which Revoke refuses
	// (ErrMalformedToken): C0 and DEL as bytes, and 0xC2, the lead byte of
	// the C1 controls' UTF-8. Invalid UTF-8 stays.
	binary := make([]byte, 0, 64<<10)
	for i := 0; len(binary) < 64<<10; i++ {
		if b := byte(i*31 + 7); b > 0x20 && b != 0x7f && b != 0xc2 {
			binary = append(binary, b)
		}
	}
	large := strings.Repeat("t", 64<<10)
	cases := []struct {
		name     string
		token    string
		hint     TokenTypeHint
		wantForm string // "": the form is checked by decoding only
	}{
		{"access token hint", "abc123", AccessTokenHint, "token=abc123&token_type_hint=access_token"},
		{"refresh token hint", "abc123", RefreshTokenHint, "token=abc123&token_type_hint=refresh_token"},
		{"no hint", "abc123", "", "token=abc123"},
		{"extension hint sent as given", "abc123", "id_token", "token=abc123&token_type_hint=id_token"},
		{"hint that needs encoding", "abc123", "a b&c", "token=abc123&token_type_hint=a+b%26c"},
		{"token that needs encoding", "a+b/c=d&e f%", AccessTokenHint, "token=a%2Bb%2Fc%3Dd%26e+f%25&token_type_hint=access_token"},
		{"non-ASCII token", "tök", "", "token=t%C3%B6k"},
		{"invalid UTF-8 token", "a\xffb", "", "token=a%FFb"},
		{"one-byte token", "x", "", "token=x"},
		{"inner space", "a b", "", "token=a+b"},
		{"64 KiB of ASCII", large, AccessTokenHint, "token=" + large + "&token_type_hint=access_token"},
		{"invalid UTF-8", "\xff\xfe\xc3\x28", AccessTokenHint, ""},
		{"lone continuation byte", "\x80", AccessTokenHint, ""},
		{"truncated rune", "ab\xe2\x82", AccessTokenHint, ""},
		{"UTF-16 surrogate as UTF-8", "\xed\xa0\x80", AccessTokenHint, ""},
		{"overlong NUL", "\xc0\x80", AccessTokenHint, ""},
		{"form syntax", "a=b&token=c;d+e%20f", AccessTokenHint, ""},
		{"one invalid byte", "\xff", AccessTokenHint, ""},
		{"64 KiB of every byte value but controls", string(binary), AccessTokenHint, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			t.Run("mock", func(t *testing.T) {
				t.Parallel()
				c, mt := setup(t)
				got := capture(t, mt, mockBase+revokePath, answer{200, nil, ""})

				require.NoError(t, c.Revoke(context.Background(), tc.token, tc.hint))

				reqs := got()
				require.Len(t, reqs, 1, "requests sent")
				r := reqs[0]
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, revokePath, r.Path)
				assert.Empty(t, r.RawQuery, "query string")
				assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
				assert.Equal(t, "cryptofuse-go/"+Version, r.Header.Get("User-Agent"))
				id, secret := decodeBasic(t, r.Header.Get("Authorization"))
				assert.Equal(t, testID, id)
				assert.Equal(t, testSecret, secret)
				if tc.wantForm != "" {
					assert.Equal(t, tc.wantForm, r.Body, "form body")
				}

				form, err := url.ParseQuery(r.Body)
				require.NoError(t, err)
				assert.Equal(t, tc.token, form.Get("token"), "token after decoding")
				assert.Equal(t, string(tc.hint), form.Get("token_type_hint"), "hint after decoding")
				assert.NotContains(t, form, "client_id", "credentials must only be in the header")
				assert.NotContains(t, form, "client_secret", "credentials must only be in the header")
			})
			t.Run("server", func(t *testing.T) {
				t.Parallel()
				var mu sync.Mutex
				var got [][]string
				c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
					assert.NoError(t, r.ParseForm(), "server: ParseForm")
					mu.Lock()
					got = append(got, r.PostForm["token"])
					mu.Unlock()
				})

				require.NoError(t, c.Revoke(context.Background(), tc.token, tc.hint))

				mu.Lock()
				defer mu.Unlock()
				require.Len(t, got, 1, "requests the server saw")
				require.Len(t, got[0], 1, "token values in the form")
				assert.True(t, got[0][0] == tc.token, "server decoded a %d-byte token %q, want the %d bytes %q",
					len(got[0][0]), abbrev(got[0][0]), len(tc.token), abbrev(tc.token))
			})
		})
	}
}

func TestRevoke_Success(t *testing.T) {
	t.Parallel()
	for _, a := range []answer{
		{200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, ""}, // what DOT sends
		{200, nil, "ignored body"},
		{204, nil, ""},
		{299, nil, ""},
	} {
		t.Run(http.StatusText(a.status)+" "+a.body, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodPost, mockBase+revokePath, a.responder())
			assert.NoError(t, c.Revoke(context.Background(), testToken, AccessTokenHint))
		})
	}
}

// TestEmptyTokenSendsNothing: Revoke and RotateToken refuse an empty token
// with ErrEmptyToken before sending anything, to a mock or to a real server.
func TestEmptyTokenSendsNothing(t *testing.T) {
	t.Parallel()
	var served atomic.Int32
	cs, _ := setupServer(t, func(http.ResponseWriter, *http.Request) { served.Add(1) })
	cm, mt := setup(t)
	cases := []struct {
		name string
		call func(c *Client) (*Token, error)
	}{
		{"revoke", func(c *Client) (*Token, error) { return nil, c.Revoke(context.Background(), "", AccessTokenHint) }},
		{"rotate", func(c *Client) (*Token, error) { return c.RotateToken(context.Background(), "") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []*Client{cm, cs} {
				tok, err := tc.call(c)
				assert.Nil(t, tok)
				assert.ErrorIs(t, err, ErrEmptyToken)
				assert.EqualError(t, err, "cryptofuse: empty token")
			}
		})
	}
	assert.Equal(t, 0, mt.GetTotalCallCount(), "requests the mock saw")
	assert.Equal(t, int32(0), served.Load(), "requests the server saw")
}

func TestRevoke_PathPrefix(t *testing.T) {
	t.Parallel()
	c, mt := setup(t, WithBaseURL("https://gw.example.com/auth/"))
	got := capture(t, mt, "https://gw.example.com/auth/o/revoke_token/", answer{200, nil, ""})
	require.NoError(t, c.Revoke(context.Background(), testToken, ""))
	assert.Len(t, got(), 1)
}
