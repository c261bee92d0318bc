package cryptofuse

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by [TokenSource.Token], [TokenSource.Rotate] and the
// RoundTripper of [TokenSource.Transport] after [TokenSource.Close].
var ErrClosed error = &plainError{msg: "token source closed"}

// errRejected is wrapped by the error Token returns while new tokens are
// being rejected and the next one waits for its backoff step.
var errRejected = &plainError{msg: "the server rejected the newest tokens (401); the next one is issued after a backoff"}

// Defaults and bounds of a TokenSource.
const (
	defaultRefreshBefore = 5 * time.Minute
	// refreshBackoff and maxRefreshBackoff bound the wait after a failed
	// refresh, or after a new token was rejected at once, before the next
	// token request may start.
	refreshBackoff    = time.Second
	maxRefreshBackoff = time.Minute
	// minMaxAge is the smallest MaxAge a policy may set.
	minMaxAge = time.Second
	// rejectedSoon is how soon after its arrival a token that replaced a
	// rejected one must be rejected too for the backoff steps to go on.
	rejectedSoon = time.Minute
)

// TokenSource keeps one access token of the client credentials grant
// (RFC 6749 §4.4) fresh for a service: it issues a token on first use,
// refreshes it before it expires, replaces it early under the policy's
// MaxAge or on [TokenSource.Rotate], and revokes replaced tokens once requests
// in flight with them have had time to finish (RFC 7009). Build it with
// [Client.TokenSource].
//
// While the token is fresh, Token does no I/O, takes no lock, reads no clock
// and allocates nothing. At most one token request is in flight at a time,
// however many goroutines ask. A TokenSource is safe for concurrent use by
// multiple goroutines; Close it when done.
//
// The client's logger ([WithLogger]) and hooks ([WithHooks]) hear of every
// token obtained (by its [Fingerprint]), failure, store call, invalidation
// and revocation; they are never called while the TokenSource holds a lock,
// so they may call it. Formatting a TokenSource with any fmt verb prints its
// client's base URL and id and its policy, never a token or a credential.
//
// Expiry is tracked with timers, so the hot path reads no clock. A timer runs
// on the monotonic clock, which on some systems stops while the machine
// sleeps: after a suspend the token may have expired before its timer fires.
// The server then rejects it; [TokenSource.Transport] handles that 401 by
// getting a new token and replaying the request, and [TokenSource.Invalidate]
// does the same for other callers.
type TokenSource struct {
	c      *Client
	policy TokenPolicy // as given: RefreshBefore 0 stays 0
	// The mutable state lives behind a pointer, so that Format, which has
	// a value receiver, copies no lock and reads only the fields above.
	*tsState
}

// tsState is a TokenSource's mutable state.
type tsState struct {
	// cur is the current token. nil: none yet, or closed. The hot path
	// reads only cur and its entry's due flag.
	cur atomic.Pointer[entry]

	ctx    context.Context // canceled by Close: ends background work
	cancel context.CancelFunc
	// finish bounds a RevokeAfter revocation under way when Close runs:
	// canceled only when Close's own ctx is done.
	finish       context.Context
	finishCancel context.CancelFunc
	done         chan struct{} // closed by Close
	wg           bgGroup
	storeWG      sync.WaitGroup // every store call's goroutine
	key          string         // the store key; "" without a Store

	mu       sync.Mutex
	closed   bool
	flight   *flight // the token request in flight, if any
	loaded   bool    // the Store was consulted
	failures int     // refreshes failed in a row
	nextTry  time.Time
	lastErr  error
	timer    *time.Timer // marks the current entry due
	replaced []*replaced // tokens replaced (or rejected), not yet revoked
	late     []*Token    // tokens that arrived after Close: Close revokes them
	// lateTaken: Close took its last revocations; a token that arrives
	// later is revoked by the goroutine that got it.
	lateTaken bool
	seq       uint64 // of the newest entry
	fleet     *fleet // non-nil when the Store is a SharedStore (fleet_host.go)

	storeLock chan struct{} // one store write at a time
	savedSeq  uint64        // the newest entry written (or deleted); under storeLock
}

// entry is one token and what the TokenSource knows of it.
type entry struct {
	tok     *Token
	fp      string      // Fingerprint(tok.AccessToken)
	reason  TokenReason // why it was obtained
	at      time.Time   // when it was installed
	issued  time.Time   // when it was issued
	expiry  time.Time   // zero: the server sent no expires_in
	refresh time.Time   // when it becomes due; zero: never
	bearer  []string    // the Authorization header value, computed once
	seq     uint64      // the order of installation
	streak  int         // rejected tokens in a row before it
	aged    bool        // it becomes due by MaxAge, not by expiry
	gen     uint64      // its generation in the fleet's record; 0: none

	due      atomic.Bool
	rejected atomic.Bool // the server rejected it (a 401, Invalidate)
	served   atomic.Bool // the Transport got an answer other than 401 with it
	checked  atomic.Bool // Introspect403: a 403 with it was checked
}

// flight is a token request in flight; done is closed when it ends.
type flight struct {
	done   chan struct{}
	err    error
	stored bool   // it installed a token loaded from the Store
	old    *entry // the current entry when it started (fleet)
}

// replaced is a token that was replaced and is still to be revoked.
type replaced struct {
	tok   *Token
	fp    string
	timer *time.Timer // the RevokeAfter timer; nil: RevokeAfter is 0
	taken bool        // its revocation is under way; guarded by ts.mu
}

// TokenSource returns a TokenSource that keeps a token of this client under
// policy p. It sends nothing: the first token is issued (or loaded from the
// Store) on the first call that needs it. A policy with a negative duration
// or a MaxAge below 1 s is an error wrapping [ErrInvalidConfig], as is a
// Client not built by [NewClient].
func (c *Client) TokenSource(p TokenPolicy) (*TokenSource, error) {
	if c == nil || c.hc == nil {
		return nil, fmt.Errorf("%w: TokenSource: Client not built by NewClient", ErrInvalidConfig)
	}
	if p.RefreshBefore < 0 || p.MaxAge < 0 || p.RevokeAfter < 0 {
		return nil, fmt.Errorf("%w: TokenPolicy: negative duration (RefreshBefore %v, MaxAge %v, RevokeAfter %v)", ErrInvalidConfig, p.RefreshBefore, p.MaxAge, p.RevokeAfter)
	}
	if p.MaxAge > 0 && p.MaxAge < minMaxAge {
		return nil, fmt.Errorf("%w: TokenPolicy: MaxAge %v is below %v", ErrInvalidConfig, p.MaxAge, minMaxAge)
	}
	st := &tsState{done: make(chan struct{}), storeLock: make(chan struct{}, 1)}
	bg := context.WithValue(context.Background(), bgKey{}, &st.wg)
	st.ctx, st.cancel = context.WithCancel(bg)
	st.finish, st.finishCancel = context.WithCancel(bg)
	if p.Store != nil {
		st.key = c.storeKey()
	}
	return startFleet(&TokenSource{c: c, policy: p, tsState: st}), nil
}

// Token returns the current token, issuing one first if there is none that
// is still valid. Inside the refresh window it starts a refresh in the
// background and returns the current token; only a caller that finds no
// valid token waits, as long as ctx allows. After a failed refresh, callers
// keep the current token while it is valid; once none is left, Token
// returns the last refresh's error until the backoff after it has passed
// (1 s, doubling up to 1 min, each jittered down to as little as half), so
// that an outage is not hammered.
//
// Rejected tokens follow the same backoff: the first rejection of a token
// (a 401 through the Transport, or [TokenSource.Invalidate]) is answered at
// once with a new token, but when that new token is rejected too before it
// has served, Token returns an error at once (it does not wait) until the
// next backoff step has passed, and then issues one new token. The steps
// end once a token has served (or is rejected long after it came).
//
// The token is shared: callers must not modify it. After Close, Token
// returns [ErrClosed].
func (ts *TokenSource) Token(ctx context.Context) (*Token, error) {
	if e := ts.cur.Load(); e != nil && !e.due.Load() {
		return e.tok, nil
	}
	e, err := ts.slowToken(ctx, false)
	if err != nil {
		return nil, err
	}
	return e.tok, nil
}

// slowToken is Token's path when the current token is missing or due, and
// Rotate's (rotate set): it starts a refresh when one is needed and waits
// for it when no valid token is left.
func (ts *TokenSource) slowToken(ctx context.Context, rotate bool) (*entry, error) {
	if ctx == nil {
		return nil, &plainError{msg: "token source: nil Context"}
	}
	for {
		ts.mu.Lock()
		if ts.closed {
			ts.mu.Unlock()
			return nil, ErrClosed
		}
		e := ts.cur.Load()
		now := ts.c.clock.now()
		valid := e != nil && e.valid(now)
		if valid && !rotate && !e.due.Load() {
			ts.mu.Unlock()
			return e, nil
		}
		f := ts.flight
		if f == nil {
			if !rotate && now.Before(ts.nextTry) {
				// Backing off after a failure or a rejection.
				err := ts.lastErr
				ts.mu.Unlock()
				if valid {
					return e, nil
				}
				return nil, err
			}
			f = ts.startLocked(reasonFor(e, valid, rotate))
		}
		ts.mu.Unlock()
		if valid && !rotate {
			return e, nil // the refresh runs in the background
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, &plainError{msg: "token source: waiting for a token", err: ctx.Err()}
		case <-ts.done:
			return nil, ErrClosed
		}
		if f.err != nil {
			if rotate {
				return nil, f.err
			}
			if e := ts.cur.Load(); e != nil && e.valid(ts.c.clock.now()) {
				return e, nil
			}
			return nil, f.err
		}
		if rotate {
			if f.stored {
				continue // a stored token is no rotation: issue one
			}
			if e := ts.cur.Load(); e != nil {
				return e, nil
			}
			return nil, ErrClosed
		}
	}
}

// Rotate replaces the token now, whatever its age: it issues a new token
// and waits for it, as long as ctx allows, and returns it. It always asks
// the server, also as the first call of a TokenSource with a Store (a
// stored token is not a rotation). The replaced token is handled as the
// policy says (revoked after RevokeAfter, or left to expire). If a refresh
// is already in flight, Rotate waits for it and returns its token. After
// Close, Rotate returns [ErrClosed].
func (ts *TokenSource) Rotate(ctx context.Context) (*Token, error) {
	e, err := ts.slowToken(ctx, true)
	if err != nil {
		return nil, err
	}
	return e.tok, nil
}
