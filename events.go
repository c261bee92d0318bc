package cryptofuse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// Hooks are functions the SDK calls as it works, for metrics, traces and
// audit logs: every request attempt of a [Client], and, for a [TokenSource],
// every token it obtains and why, every store call, invalidation and
// revocation, and every failed refresh. Set them with [WithHooks]; the
// otelcryptofuse module builds OpenTelemetry metrics and spans on them.
//
// A nil field is skipped and costs nothing. Later versions may add fields,
// as net/http/httptrace's ClientTrace grows, so build Hooks with field
// names. Each event is a struct for the same reason.
//
// Hooks are called synchronously from the goroutine doing the work (a
// caller's, or a TokenSource's background goroutine), never while the SDK
// holds a lock, so a hook may call back into the SDK (a hook that calls
// [TokenSource.Token] works). They must be safe for concurrent use and
// should return quickly: a slow hook slows the call that reports. A hook
// that panics on a TokenSource's background goroutine is recovered and
// logged; one that panics on a caller's goroutine panics that call.
//
// No event holds a token or a credential: a token appears only as its
// [Fingerprint], and every Err is free of secrets, as all errors of this
// package are.
type Hooks struct {
	// Attempt is called after each HTTP request attempt of every call
	// (revoke, token, introspect), with its outcome.
	Attempt func(AttemptEvent)
	// TokenObtained is called when a TokenSource installs a new current
	// token, with the reason it needed one.
	TokenObtained func(TokenEvent)
	// RefreshFailed is called when a TokenSource failed to obtain a token.
	RefreshFailed func(RefreshFailedEvent)
	// Store is called after each call a TokenSource makes to its store.
	Store func(StoreEvent)
	// Invalidated is called when a TokenSource marks a token rejected (a
	// 401, a 403 for a token introspection found inactive under
	// TokenPolicy.Introspect403, or [TokenSource.Invalidate]).
	Invalidated func(InvalidateEvent)
	// Revoked is called after each revocation a TokenSource makes of a
	// token it replaced, rejected or held at Close, with its outcome.
	Revoked func(RevokeEvent)
}

// AttemptEvent describes one HTTP request attempt (RFC 6749 §4.4, RFC 7009
// §2.1 or RFC 7662 §2.1).
type AttemptEvent struct {
	// Context is the call's context, for a tracer's parent span.
	Context context.Context
	// Op is the operation: "revoke", "token" or "introspect".
	Op string
	// Method is the HTTP method, always "POST".
	Method string
	// URL is the endpoint's URL. It never holds credentials or a query:
	// NewClient refuses a base URL with either.
	URL string
	// ServerAddress and ServerPort are the endpoint's host and port (the
	// scheme's default when the URL names none).
	ServerAddress string
	ServerPort    int
	// Attempt is 1 for the first attempt of a call, 2 for its first
	// retry, and so on.
	Attempt int
	// StatusCode is the answer's HTTP status; 0 when none arrived.
	StatusCode int
	// Start is when the attempt began, and Duration how long it took.
	Start    time.Time
	Duration time.Duration
	// Err is the attempt's error; nil when it succeeded. An attempt is
	// judged by its HTTP exchange: a 2xx answer read in full has no Err
	// even when the call then refuses its token JSON (RFC 6749 §5.1) and
	// returns an error (no attempt follows then). Otherwise Err is the error
	// the call returns when no attempt follows, and the call completes it
	// (with the number of attempts) after the hook returns: read it in the
	// hook, do not hand it to another goroutine.
	Err error
	// Retry reports that the call retries after RetryIn. The wait may
	// still be cut short by the call's ctx, and then no attempt follows.
	Retry   bool
	RetryIn time.Duration
	// GaveUp says why no attempt follows a failed one: "not retryable",
	// "attempts exhausted", "context done", "wait would pass the
	// deadline" or "Retry-After exceeds MaxDelay"; "" after a success or
	// with Retry.
	GaveUp string
}

// TokenReason says why a TokenSource needed a token.
type TokenReason string

// The reasons of [TokenEvent] and [RefreshFailedEvent].
const (
	ReasonFirst    TokenReason = "first"          // the source had no token yet
	ReasonRefresh  TokenReason = "refresh_window" // the token neared its expiry
	ReasonExpired  TokenReason = "expired"        // the token had expired
	ReasonMaxAge   TokenReason = "max_age"        // the token reached TokenPolicy.MaxAge
	ReasonRotate   TokenReason = "rotate"         // TokenSource.Rotate
	ReasonRejected TokenReason = "rejected"       // the server rejected the token (401, 403 found dead, Invalidate)
	ReasonStore    TokenReason = "store"          // loaded from the store, not issued
	ReasonFleet    TokenReason = "fleet"          // another instance of the fleet issued it
)

// TokenEvent describes a token a TokenSource installed as its current one.
type TokenEvent struct {
	ClientID    string
	Reason      TokenReason
	Fingerprint string    // the token's [Fingerprint]
	Expiry      time.Time // zero when the server sent no expires_in
	Scope       string
}

// RefreshFailedEvent describes a failed attempt of a TokenSource to obtain
// a token. The source keeps its current token while it is valid.
type RefreshFailedEvent struct {
	ClientID string
	Reason   TokenReason
	Err      error
	Failures int           // failures in a row, this one included
	NextTry  time.Duration // the backoff before the next try
}

// StoreOutcome is how a store call ended.
type StoreOutcome string

// The outcomes of [StoreEvent].
const (
	StoreHit      StoreOutcome = "hit"      // Get found a usable record
	StoreMiss     StoreOutcome = "miss"     // Get found nothing ([ErrStoreMiss])
	StoreUnusable StoreOutcome = "unusable" // Get found a record that did not open or was not usable
	StoreOK       StoreOutcome = "ok"       // any other call succeeded
	StoreLocked   StoreOutcome = "locked"   // Lock found another holder
	StoreError    StoreOutcome = "error"    // the call failed, timed out or panicked
)

// StoreEvent describes one call a TokenSource made to its store.
type StoreEvent struct {
	ClientID string
	Op       string // "get", "put", "delete", "lock", "unlock", "watch", "join" or "leave"
	Outcome  StoreOutcome
	Duration time.Duration
	Err      error
}

// InvalidateEvent describes a token a TokenSource marked as rejected.
type InvalidateEvent struct {
	ClientID    string
	Fingerprint string
	Cause       string // "401", "403" (an inactive token behind a 403) or "invalidate"
}

// RevokeEvent describes a revocation (RFC 7009) a TokenSource made.
type RevokeEvent struct {
	ClientID    string
	Fingerprint string
	When        string // "revoke_after" or "close"
	Err         error  // nil when the server answered 2xx
}

// WithHooks sets the functions the Client (and every TokenSource built on
// it) calls as it works; see [Hooks].
func WithHooks(h Hooks) Option {
	return func(c *config) error {
		c.hooks = h
		return nil
	}
}

// Fingerprint returns a short, stable name for token that does not reveal
// it: the first 12 hex digits of its SHA-256. Log lines and [Hooks] events
// name tokens this way, so that the lines of several instances can be
// matched up. A fingerprint cannot be turned back into a token of the
// length servers issue.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}

// serverAddr is the host and port of a Client's endpoints, as
// [AttemptEvent] reports them. NewClient computes it once.
type serverAddr struct {
	host string
	port int
}

// serverOf returns the host (without an IPv6 literal's brackets) and port
// of base, a URL parseBaseURL accepted; the port is the scheme's default
// when base names none.
func serverOf(base string) serverAddr {
	u, err := url.Parse(base)
	if err != nil {
		return serverAddr{}
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		port = 443
		if u.Scheme == "http" {
			port = 80
		}
	}
	return serverAddr{host: u.Hostname(), port: port}
}

// emitAttempt calls the Attempt hook with attempt n of k: its status,
// start, duration and error, and what follows it, as send decided (a wait
// >= 0 before the next attempt, or the reason to stop). send calls it
// outside every lock, and only when the hook is set.
func (c *Client) emitAttempt(ctx context.Context, k *call, n, status int, start time.Time, took time.Duration, err error, wait time.Duration, stop string) {
	ev := AttemptEvent{
		Context:       ctx,
		Op:            k.op,
		Method:        "POST",
		URL:           k.endpoint,
		ServerAddress: c.server.host,
		ServerPort:    c.server.port,
		Attempt:       n,
		StatusCode:    status,
		Start:         start,
		Duration:      took,
		Err:           err,
	}
	if err != nil {
		var e *Error
		if status == 0 && errors.As(err, &e) {
			ev.StatusCode = e.StatusCode // a 2xx whose body was unusable
		}
		if wait >= 0 {
			ev.Retry, ev.RetryIn = true, wait
		} else {
			ev.GaveUp = stop
		}
	}
	c.hooks.Attempt(ev)
}
