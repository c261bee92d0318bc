package cryptofuse

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithHTTPClient_CopiedNotMutated(t *testing.T) {
	follow := func(*http.Request, []*http.Request) error { return nil }
	hc := &http.Client{Timeout: 5 * time.Second, CheckRedirect: follow}
	c, err := NewClient("id", "x", WithHTTPClient(hc))
	require.NoError(t, err)

	assert.NotSame(t, hc, c.hc)
	assert.Equal(t, 5*time.Second, hc.Timeout)
	assert.Equal(t, fmt.Sprintf("%p", follow), fmt.Sprintf("%p", hc.CheckRedirect), "caller's CheckRedirect replaced")
	assert.Equal(t, 5*time.Second, c.hc.Timeout, "the copy keeps the caller's Timeout")
	assert.False(t, c.boundCalls, "a client with its own Timeout is not given DefaultTimeout")
	assert.ErrorIs(t, c.hc.CheckRedirect(nil, nil), http.ErrUseLastResponse)
}

func TestOptions(t *testing.T) {
	scopes := []string{"read", "write"}
	cases := []struct {
		name          string
		opts          []Option
		wantTokenForm string
		wantUA        string
	}{
		{"none", nil, "grant_type=client_credentials&scope=read+write", "cryptofuse-go/" + Version},
		{"nil option is skipped", []Option{nil}, "grant_type=client_credentials&scope=read+write", "cryptofuse-go/" + Version},
		{"scopes", []Option{WithScopes(scopes...)}, "grant_type=client_credentials&scope=read+write", "cryptofuse-go/" + Version},
		{"no scopes", []Option{WithScopes()}, "grant_type=client_credentials", "cryptofuse-go/" + Version},
		{"user agent", []Option{WithUserAgent("svc/1.2 (+ops@example.com)")}, "grant_type=client_credentials&scope=read+write", "svc/1.2 (+ops@example.com)"},
		{"last wins", []Option{WithUserAgent("a"), WithUserAgent("b"), WithScopes("x"), WithScopes("y")}, "grant_type=client_credentials&scope=y", "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient("id", "x", tc.opts...)
			require.NoError(t, err)
			assert.Equal(t, tc.wantTokenForm, c.tokenForm)
			assert.Equal(t, []string{tc.wantUA}, c.userAgent)
		})
	}
}

func TestWithScopes_CopiesItsArgument(t *testing.T) {
	scopes := []string{"read", "write"}
	opt := WithScopes(scopes...)
	scopes[0] = "admin"
	c, err := NewClient("id", "x", opt)
	require.NoError(t, err)
	assert.Equal(t, "grant_type=client_credentials&scope=read+write", c.tokenForm)
}
