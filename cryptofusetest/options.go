package cryptofusetest

import (
	"strings"
	"time"
)

// defaultExpiresIn is the lifetime of an issued access token on the real
// server (django-oauth-toolkit's ACCESS_TOKEN_EXPIRE_SECONDS).
const defaultExpiresIn = 36000 * time.Second

// config holds what the options set. It is read-only once NewServer returns.
type config struct {
	scopes        []string
	defaultScopes []string
	expiresIn     time.Duration
	now           func() time.Time
}

func defaultConfig() config {
	return config{
		scopes:        []string{"read", "write"},
		defaultScopes: []string{"read"},
		expiresIn:     defaultExpiresIn,
		now:           time.Now,
	}
}

// Option configures a [Server] in [NewServer]. Options are applied in order,
// so a later one overrides an earlier one; a nil Option is ignored. An Option
// holds its own copy of its arguments, so one may be shared between servers
// and goroutines.
type Option func(*config)

// WithScopes sets the scopes the server knows (django-oauth-toolkit's SCOPES).
// A token request that names any other scope fails with invalid_scope. The
// default is "read" and "write".
func WithScopes(scopes ...string) Option {
	s := append([]string(nil), scopes...)
	return func(c *config) { c.scopes = s }
}

// WithDefaultScopes sets the scopes granted when a token request names none
// (DEFAULT_SCOPES). Each must be one of the server's scopes, or [NewServer]
// panics: the real server raises ImproperlyConfigured for such a setting.
// None at all is allowed, and grants the empty scope "". The default is
// "read".
func WithDefaultScopes(scopes ...string) Option {
	s := append([]string(nil), scopes...)
	return func(c *config) { c.defaultScopes = s }
}

// WithExpiresIn sets the lifetime of issued access tokens, rounded down to a
// whole second, which is also the expires_in the token endpoint answers. Zero
// or less issues tokens that are already expired. The default is
// 36000 seconds.
func WithExpiresIn(d time.Duration) Option {
	return func(c *config) { c.expiresIn = d.Truncate(time.Second) }
}

// WithClock sets the time source used to stamp and check token expiry, so a
// test can move time forward instead of sleeping. now must be safe for
// concurrent use, as the server calls it from its handlers. A nil now is
// ignored. The default is [time.Now].
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// knownScopes reports whether every scope in scopes is one the server knows
// (DOT's validate_scopes).
func (c *config) knownScopes(scopes []string) bool {
	for _, want := range scopes {
		known := false
		for _, have := range c.scopes {
			known = known || want == have
		}
		if !known {
			return false
		}
	}
	return true
}

// defaultScope is the scope granted when a request names none.
func (c *config) defaultScope() string {
	return strings.Join(c.defaultScopes, " ")
}
