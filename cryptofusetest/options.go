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
	dot170        bool // WithDOT170: answer as 1.7.0 does, not as 3.4.1
	noListener    bool // WithoutListener: no socket, Transport only
	// ResourcePath: WithDOTResource answers refusals with DOT's empty 403;
	// WithResourceScopes lists the scopes a token needs.
	dotResource    bool
	resourceScopes []string
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

// WithDOT170 makes the server answer as django-oauth-toolkit 1.7.0 does
// (Debian bookworm's, on Django 3.2 and oauthlib 3.2.2) instead of as 3.4.1
// does (on Django 5.2 and oauthlib 3.3.1), the default. Choose it to test a
// client against a server that still runs 1.7.0. Where the two differ:
//
//   - Revocation: 1.7.0 revokes any client's token (no ownership check, so
//     any client can revoke it), and revoking an access token leaves its
//     refresh token usable; 3.4.1 answers 200 for another client's token but
//     leaves it valid (RFC 7009 §2.1), and revoking an access token revokes
//     its refresh token too.
//   - A query string on /o/token/: 1.7.0 crashes with a 500 HTML page;
//     3.4.1 answers 400 invalid_request.
//   - A wrong Basic secret plus client_id and client_secret in the body:
//     1.7.0 compares the body's secret with the secret of the client the
//     Basic credentials named, whatever client_id the body names; 3.4.1
//     authenticates the body's client_id with the body's secret. A
//     "client" parameter crashes 1.7.0 (500) and is ignored by 3.4.1.
//   - Introspection without a token parameter: 1.7.0 answers 200
//     {"active": false}; 3.4.1 answers 400 invalid_request.
//   - Content-Type: 1.7.0 compares the media type case-sensitively, so
//     "Application/X-WWW-Form-Urlencoded" is no form and the body is
//     ignored; 3.4.1 reads it as a form.
//   - Django's HTML error pages are sent as "text/html" by 1.7.0 and as
//     "text/html; charset=utf-8" by 3.4.1.
//   - RFC 8414 metadata: 3.4.1 serves it at
//     /o/.well-known/oauth-authorization-server ([MetadataPath]); 1.7.0
//     answers 404 there.
func WithDOT170() Option {
	return func(c *config) { c.dot170 = true }
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
