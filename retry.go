package cryptofuse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says how often, and after how long a wait, [Client.Revoke] and
// [Client.Token] retry a failed request: only a failure that a later attempt
// can fix is retried, and which failures those are depends on the call (see
// below). Set it with [WithRetry]; a
// Client without that option uses [DefaultRetryPolicy]. A RetryPolicy is a
// plain value, safe to share.
//
// What is retried depends on the call:
//
//   - Revoke retries a connection that failed or dropped before a response
//     arrived, and the statuses 429, 500, 502, 503 and 504. Revocation is
//     idempotent (RFC 7009 §2.1: revoking a token that is already revoked
//     succeeds), so sending it twice is harmless, whatever the first attempt
//     did on the server.
//   - Token retries only what cannot have issued a token: a dial failure
//     (the request never left this host) and the statuses 429 and 503, with
//     which a server or proxy refuses work it has not done. It does not retry
//     a connection that broke after the request was sent, a 500, 502 or 504:
//     the server may have issued a token whose answer was lost, and a retry
//     would leave that token alive, unseen and unrevocable, until it expires.
//     The caller, who knows whether that matters, may retry such a failure.
//   - Introspect retries what Revoke retries: it changes nothing on the
//     server (RFC 7662 §2.1).
//   - None retries any other 4xx, a 429 that carries an RFC 6749 §5.2
//     error code (invalid_request, invalid_client and the others), a
//     redirect, or a TLS certificate failure: another attempt gets the same
//     answer.
//
// Waits between attempts are exponential backoff with full jitter: before
// attempt n+1 the call sleeps a random time in [0, min(MaxDelay,
// BaseDelay·2ⁿ⁻¹)), so that many clients failing together do not retry
// together. An answer of 429 or 503 with Retry-After (RFC 7009 §2.2.1,
// RFC 9110 §10.2.3), as seconds or as an HTTP date, sets the wait instead; a
// Retry-After of 0, in the past or unparsable counts as none.
//
// A wait is never slept if it would pass the context's deadline (or the
// [DefaultTimeout] bound of a ctx without one), or if a Retry-After asks for
// more than MaxDelay, however much: the call returns at once with the last
// error, whose
// [Error.RetryAfter] tells the caller when to try again. Cancelling ctx ends
// a wait at once; the error then wraps both the last failure and the
// context's error.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, the first included.
	// 1 turns retries off; 0 means DefaultRetryPolicy's. It must not be
	// negative.
	MaxAttempts int
	// BaseDelay is the cap of the first backoff wait; each later cap
	// doubles. 0 means DefaultRetryPolicy's. It must not be negative.
	BaseDelay time.Duration
	// MaxDelay caps every backoff wait, and is the longest Retry-After the
	// call will sleep. 0 means DefaultRetryPolicy's. It must not be
	// negative.
	MaxDelay time.Duration
}

// DefaultRetryPolicy is the policy of a Client built without [WithRetry].
//
// Three attempts ride out what is common in production: a dropped keep-alive
// connection, a proxy's 502 or 503 during a deploy, a brief 429. They bound
// the extra load a failing server gets to twice the normal, and the extra
// latency a logout handler sees when the server is down to under a second of
// backoff (at most 200 ms, then at most 400 ms). A server that asks, with
// Retry-After, for up to 10 s is waited for, within the call's deadline.
var DefaultRetryPolicy = RetryPolicy{
	MaxAttempts: 3,
	BaseDelay:   200 * time.Millisecond,
	MaxDelay:    10 * time.Second,
}

// withDefaults checks p and fills its zero fields from DefaultRetryPolicy.
func (p RetryPolicy) withDefaults() (RetryPolicy, error) {
	if p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 {
		return p, fmt.Errorf("%w: WithRetry: negative field in %+v", ErrInvalidConfig, p)
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultRetryPolicy.MaxAttempts
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = DefaultRetryPolicy.BaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = DefaultRetryPolicy.MaxDelay
	}
	return p, nil
}

// backoff is the full-jitter wait before the attempt after attempt n (n ≥ 1).
// jitter returns a random number in [0, n).
func (p RetryPolicy) backoff(n int, jitter func(int64) int64) time.Duration {
	ceiling := p.MaxDelay
	if n-1 < 62 && p.BaseDelay <= p.MaxDelay>>(n-1) {
		ceiling = p.BaseDelay << (n - 1)
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(jitter(int64(ceiling)))
}

// retryable reports whether the failed attempt's error err may be retried
// for op, and whether its Retry-After is to be honoured.
func retryable(op string, err error) (retry, honourRetryAfter bool) {
	var e *Error
	if errors.As(err, &e) {
		switch e.StatusCode {
		case http.StatusTooManyRequests:
			// A 4xx that names an RFC 6749 error is a verdict, not
			// congestion.
			return !verdictCodes[e.Code], true
		case http.StatusServiceUnavailable:
			return true, true
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
			return op != opToken, false
		}
		return false, false
	}
	var ce *connError
	if !errors.As(err, &ce) || certificateError(ce.cause) {
		return false, false
	}
	if op != opToken {
		return true, false // revoke and introspect are idempotent
	}
	var oe *net.OpError
	return errors.As(ce.cause, &oe) && (oe.Op == "dial" || oe.Op == "proxyconnect"), false
}

// verdictCodes are the error codes of RFC 6749 §5.2 and RFC 7009 §2.2.1 that
// judge the request itself: another attempt gets the same answer. A 429 that
// carries one is not retried; one that carries another code (slow_down,
// temporarily_unavailable, a server's own) is.
// They are the codes of the package's sentinels.
var verdictCodes = func() map[string]bool {
	m := make(map[string]bool)
	for _, s := range []error{ErrInvalidRequest, ErrInvalidClient, ErrInvalidGrant, ErrUnauthorizedClient,
		ErrUnsupportedGrantType, ErrInvalidScope, ErrUnsupportedTokenType} {
		m[s.(*plainError).code] = true
	}
	return m
}()

// certificateError reports whether err is a failed TLS certificate check,
// which no retry can fix.
func certificateError(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
	)
	return errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// Why a retryable failure was not retried, as the debug log says it.
const (
	stopAttempts = "attempts exhausted"
	stopDeadline = "wait would pass the deadline"
	stopMaxDelay = "Retry-After exceeds MaxDelay"
	stopContext  = "context done"
	stopFinal    = "not retryable"
)

// nextWait decides what follows the failed attempt n: the wait before the
// next attempt, or, with wait < 0, the reason to stop.
// The clock k supplies the randomness and the time.
func (p RetryPolicy) nextWait(ctx context.Context, k *clock, op string, n int, err error) (wait time.Duration, stop string) {
	retry, honour := retryable(op, err)
	if !retry {
		return -1, stopFinal
	}
	if ctx.Err() != nil {
		return -1, stopContext
	}
	if n >= p.MaxAttempts {
		return -1, stopAttempts
	}
	var e *Error
	if honour && errors.As(err, &e) && e.RetryAfter > 0 {
		if e.RetryAfter > p.MaxDelay {
			return -1, stopMaxDelay
		}
		wait = e.RetryAfter
	} else {
		wait = p.backoff(n, k.jitter)
	}
	if deadline, ok := ctx.Deadline(); ok && k.until(deadline) <= wait {
		return -1, stopDeadline
	}
	return wait, ""
}

// maxRetryAfter bounds a Retry-After so that it cannot overflow a Duration.
const maxRetryAfter = math.MaxInt64 / time.Second * time.Second

// parseRetryAfter parses a Retry-After value (RFC 9110 §10.2.3): a number of
// seconds or an HTTP date, relative to t. It returns 0 for an absent,
// negative, past or unparsable value.
func parseRetryAfter(v string, t time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		if strings.Trim(v, "0123456789") != "" {
			return 0 // digits, then garbage: ParseUint could report a range error first
		}
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return maxRetryAfter
			}
			return 0
		}
		if secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	date, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d := date.Sub(t); d > 0 {
		return min(d, maxRetryAfter) // Sub saturates above the clamp
	}
	return 0
}
