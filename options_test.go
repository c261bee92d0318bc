package cryptofuse

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithHTTPClient_CopiedNotMutated(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
			t.Parallel()
			c, err := NewClient("id", "x", tc.opts...)
			require.NoError(t, err)
			assert.Equal(t, tc.wantTokenForm, c.tokenForm)
			assert.Equal(t, []string{tc.wantUA}, c.userAgent)
		})
	}
}

func TestWithScopes_CopiesItsArgument(t *testing.T) {
	t.Parallel()
	scopes := []string{"read", "write"}
	opt := WithScopes(scopes...)
	scopes[0] = "admin"
	c, err := NewClient("id", "x", opt)
	require.NoError(t, err)
	assert.Equal(t, "grant_type=client_credentials&scope=read+write", c.tokenForm)
}

// TestWithClock: withClock replaces the fields it is given and keeps the
// system clock's for the others; a later withClock adds to an earlier one.
func TestWithClock(t *testing.T) {
	t.Parallel()
	at := testNow
	now := func() time.Time { return at }
	jitter := func(n int64) int64 { return n } // outside [0, n): never what the system's jitter returns
	var slept []time.Duration
	sleep := func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	cases := []struct {
		name        string
		opts        []Option
		wantNow     bool // now is the fixed one
		wantJitter  bool
		wantSleep   bool
		wantTimeout time.Duration
	}{
		{"none", nil, false, false, false, DefaultTimeout},
		{"zero clock", []Option{withClock(clock{})}, false, false, false, DefaultTimeout},
		{"now only", []Option{withClock(clock{now: now})}, true, false, false, DefaultTimeout},
		{"timeout only", []Option{withClock(clock{timeout: time.Second})}, false, false, false, time.Second},
		{"each in turn", []Option{withClock(clock{now: now}), withClock(clock{jitter: jitter}), withClock(clock{sleep: sleep}), callTimeout(time.Minute)},
			true, true, true, time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient("id", "x", tc.opts...)
			require.NoError(t, err)
			k := c.clock
			assert.Equal(t, tc.wantNow, k.now().Equal(at), "now() = %v: fixed", k.now())
			assert.Equal(t, tc.wantJitter, k.jitter(1000) == 1000, "jitter is the test's")
			slept = nil
			if tc.wantSleep {
				require.NoError(t, k.sleep(context.Background(), time.Hour))
				assert.Equal(t, []time.Duration{time.Hour}, slept, "the test's sleep ran")
			} else {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				assert.ErrorIs(t, k.sleep(ctx, time.Hour), context.Canceled, "the system sleep")
				assert.Empty(t, slept, "the test's sleep ran")
			}
			assert.Equal(t, tc.wantTimeout, k.timeout, "timeout")
		})
	}
}
