package cryptofuse

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// capture registers a responder for method+URL that records each request and
// answers with a.
func capture(t *testing.T, mt *httpmock.MockTransport, urlStr string, a answer) *[]request {
	t.Helper()
	var got []request
	mt.RegisterResponder(http.MethodPost, urlStr, func(r *http.Request) (*http.Response, error) {
		got = append(got, record(t, r))
		return a.responder()(r)
	})
	return &got
}

func TestRevoke_Wire(t *testing.T) {
	cases := []struct {
		name     string
		token    string
		hint     TokenTypeHint
		wantForm string
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
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := setup(t)
			got := capture(t, mt, mockBase+revokePath, answer{200, nil, ""})

			require.NoError(t, c.Revoke(context.Background(), tc.token, tc.hint))

			require.Len(t, *got, 1, "requests sent")
			r := (*got)[0]
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, revokePath, r.Path)
			assert.Empty(t, r.RawQuery, "query string")
			assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
			assert.Equal(t, "cryptofuse-go/"+Version, r.Header.Get("User-Agent"))
			id, secret := decodeBasic(t, r.Header.Get("Authorization"))
			assert.Equal(t, testID, id)
			assert.Equal(t, testSecret, secret)
			assert.Equal(t, tc.wantForm, r.Body, "form body")

			form, err := url.ParseQuery(r.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.token, form.Get("token"), "token after the server's decoding")
			assert.NotContains(t, form, "client_id", "credentials must only be in the header")
			assert.NotContains(t, form, "client_secret", "credentials must only be in the header")
		})
	}
}

func TestRevoke_LargeToken(t *testing.T) {
	c, mt := setup(t)
	got := capture(t, mt, mockBase+revokePath, answer{200, nil, ""})
	tok := strings.Repeat("t", 64<<10)
	require.NoError(t, c.Revoke(context.Background(), tok, AccessTokenHint))
	require.Len(t, *got, 1)
	assert.Equal(t, "token="+tok+"&token_type_hint=access_token", (*got)[0].Body)
}

func TestRevoke_Success(t *testing.T) {
	for _, a := range []answer{
		{200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, ""}, // what DOT sends
		{200, nil, "ignored body"},
		{204, nil, ""},
		{299, nil, ""},
	} {
		t.Run(http.StatusText(a.status), func(t *testing.T) {
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodPost, mockBase+revokePath, a.responder())
			assert.NoError(t, c.Revoke(context.Background(), testToken, AccessTokenHint))
		})
	}
}

func TestEmptyTokenSendsNothing(t *testing.T) {
	c, mt := setup(t)
	err := c.Revoke(context.Background(), "", AccessTokenHint)
	assert.True(t, errors.Is(err, ErrEmptyToken), "got %v, want ErrEmptyToken", err)
	tok, err := c.RotateToken(context.Background(), "")
	assert.Nil(t, tok)
	assert.True(t, errors.Is(err, ErrEmptyToken), "got %v, want ErrEmptyToken", err)
	assert.Zero(t, mt.GetTotalCallCount(), "requests sent")
}

func TestRevoke_PathPrefix(t *testing.T) {
	c, mt := setup(t, WithBaseURL("https://gw.example.com/auth/"))
	got := capture(t, mt, "https://gw.example.com/auth/o/revoke_token/", answer{200, nil, ""})
	require.NoError(t, c.Revoke(context.Background(), testToken, ""))
	assert.Len(t, *got, 1)
}
