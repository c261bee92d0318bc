package cryptofuse

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// DefaultBaseURL is the base URL of the Cryptofuse API. [NewClient] uses it
// unless [WithBaseURL] says otherwise.
const DefaultBaseURL = "https://api.cryptofuse.io"

// Version is the version of this SDK. It is part of the default User-Agent,
// "cryptofuse-go/" + Version.
const Version = "0.3.0"

// DefaultTimeout bounds a call whose context has no deadline, when the
// *http.Client in use has no Timeout of its own (the default client has none;
// see [NewClient]). A caller who wants another bound sets a deadline on ctx.
const DefaultTimeout = 30 * time.Second

// defaultScopes is what the token grant asks for unless [WithScopes] says
// otherwise.
var defaultScopes = []string{"read", "write"}

// ErrInvalidConfig is wrapped by every error [NewClient] returns for bad
// input: an empty client id or secret, a bad base URL, a bad scope, a bad user
// agent or a nil *http.Client.
var ErrInvalidConfig = errors.New("cryptofuse: invalid configuration")

// Option configures a [Client] in [NewClient]. Options are applied in order;
// a later option overrides an earlier one of the same kind.
type Option func(*config) error

// config collects what the options set. NewClient validates it and turns it
// into an immutable Client.
type config struct {
	baseURL    string
	httpClient *http.Client // nil: the default client
	scopes     []string
	userAgent  string
	retry      RetryPolicy
	logger     *slog.Logger
	issueFirst bool
	hooks      Hooks
	clock      clock // tests set it through withClock
}

// WithBaseURL sets the base URL of the API, such as "https://api.cryptofuse.io"
// or "https://host/auth" (a path prefix is kept: the token endpoint is then
// "https://host/auth/o/token/"). It must be absolute, must not carry user info,
// a query or a fragment, and must use https unless its host is a loopback
// address ("localhost", 127.0.0.0/8 or ::1), as in tests.
func WithBaseURL(rawURL string) Option {
	return func(c *config) error {
		c.baseURL = rawURL
		return nil
	}
}

// WithHTTPClient sets the *http.Client that sends requests. The client is
// copied, never mutated: the copy's CheckRedirect refuses every redirect,
// because a redirect could carry the credentials elsewhere. Its Transport,
// Jar and Timeout are used as given. hc must not be nil.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return fmt.Errorf("%w: WithHTTPClient: nil *http.Client", ErrInvalidConfig)
		}
		c.httpClient = hc
		return nil
	}
}

// WithScopes sets the scopes that [Client.Token] asks for (RFC 6749 §3.3).
// The default is "read" and "write". With no scopes at all, the request names
// none and the server grants its default scopes. Each scope is one scope-token:
// non-empty, with no spaces, quotes, backslashes or control characters.
func WithScopes(scopes ...string) Option {
	// Copied now, not when NewClient applies the option: the caller may
	// reuse the slice in between. Never nil, even when empty: nil in config
	// means "not set" (the default).
	own := append(make([]string, 0, len(scopes)), scopes...)
	return func(c *config) error {
		for _, s := range own {
			if err := validScopeToken(s); err != nil {
				return err
			}
		}
		c.scopes = own
		return nil
	}
}

// WithUserAgent sets the User-Agent header sent with every request. The
// default is "cryptofuse-go/" + [Version].
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if ua == "" {
			return fmt.Errorf("%w: WithUserAgent: empty user agent", ErrInvalidConfig)
		}
		if i := strings.IndexFunc(ua, isCTL); i >= 0 {
			return fmt.Errorf("%w: WithUserAgent: control character at byte %d", ErrInvalidConfig, i)
		}
		c.userAgent = ua
		return nil
	}
}

// WithRetry sets the retry policy of [Client.Revoke] and [Client.Token]
// (RotateToken runs both). Zero fields take [DefaultRetryPolicy]'s values, so
// WithRetry(RetryPolicy{MaxAttempts: 1}) turns retries off and keeps the
// rest. A negative field is an error. See [RetryPolicy] for what is retried.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		p, err := p.withDefaults()
		if err != nil {
			return err
		}
		c.retry = p
		return nil
	}
}

// WithLogger makes the Client write one debug-level line per attempt to l:
// the operation, the attempt number, the status (0 when no answer came), the
// duration, and for a failed attempt the error and either the wait before
// the next attempt (retry_wait) or why there is none (gave_up: "not
// retryable", "attempts exhausted", "Retry-After exceeds MaxDelay", "wait
// would pass the deadline" or "context done"). No line ever holds the client
// secret or a token.
//
// Without this option, or with a nil l, the Client logs nothing; it never
// falls back to [slog.Default].
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithIssueFirst makes [Client.RotateToken] issue the new token first and
// revoke the old one after, instead of the documented revoke-then-issue
// order. A service that keeps using the old token until it holds the new one
// is then never without a valid token; the price is that both are valid for
// the length of one request, and that the old one stays valid if its revoke
// fails (RotateToken says so in its error).
func WithIssueFirst() Option {
	return func(c *config) error {
		c.issueFirst = true
		return nil
	}
}

// validScopeToken reports whether s is a scope-token of RFC 6749 §3.3:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func validScopeToken(s string) error {
	if s == "" {
		return fmt.Errorf("%w: WithScopes: empty scope", ErrInvalidConfig)
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b == '"' || b == '\\' || b > 0x7e {
			return fmt.Errorf("%w: WithScopes: scope %q has a character RFC 6749 §3.3 does not allow at byte %d (pass each scope as its own argument)", ErrInvalidConfig, s, i)
		}
	}
	return nil
}

// isCTL reports whether r is a control character, which must never reach a
// header.
func isCTL(r rune) bool { return r < 0x20 || r == 0x7f }

// withClock replaces the Client's clock: the time, the randomness of the
// backoff, the sleep between attempts and the call timeout. It is
// unexported: tests reach it (export_test.go), users never need it. A zero
// field keeps the system clock's.
func withClock(k clock) Option {
	return func(c *config) error {
		if k.now != nil {
			c.clock.now = k.now
		}
		if k.jitter != nil {
			c.clock.jitter = k.jitter
		}
		if k.sleep != nil {
			c.clock.sleep = k.sleep
		}
		if k.timeout != 0 {
			c.clock.timeout = k.timeout
		}
		return nil
	}
}
