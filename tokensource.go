package cryptofuse

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// TokenPolicy says how a [TokenSource] keeps its token. The zero value is a
// good policy: refresh 5 minutes before expiry, no age limit, replaced tokens
// left to expire, nothing stored.
type TokenPolicy struct {
	// RefreshBefore is how long before expiry the token is refreshed: the
	// first caller inside that window starts one refresh in the background
	// and keeps getting the current token meanwhile. 0 means 5 minutes. It
	// is capped at half the token's lifetime and jittered down by up to a
	// quarter, so that many processes do not refresh together.
	RefreshBefore time.Duration
	// MaxAge replaces a token older than this even when it is far from
	// expiry, as a rotation schedule; 0 means no age limit.
	MaxAge time.Duration
	// RevokeAfter revokes a replaced token (RFC 7009) this long after it was
	// replaced, so that requests still in flight with it can finish; it is
	// never revoked sooner. 0 leaves replaced tokens to expire.
	RevokeAfter time.Duration
	// RevokeOnClose makes Close revoke the current token and every replaced
	// one not yet revoked.
	RevokeOnClose bool
	// Store keeps the current token between runs: a fresh stored token is
	// used without a request, and every new token is saved, in the
	// background (Close waits for the last save). nil keeps it in
	// memory only.
	Store TokenStore
}

// ErrClosed is returned by [TokenSource.Token], [TokenSource.Rotate] and the
// RoundTripper of [TokenSource.Transport] after [TokenSource.Close].
var ErrClosed error = &plainError{msg: "token source closed"}

// Defaults and bounds of a TokenSource.
const (
	defaultRefreshBefore = 5 * time.Minute
	// refreshBackoff and maxRefreshBackoff bound the wait after a failed
	// refresh before the next one may start.
	refreshBackoff    = time.Second
	maxRefreshBackoff = time.Minute
)

// TokenSource keeps one access token of the client credentials grant
// (RFC 6749 §4.4) fresh for a service: it issues a token on first use,
// refreshes it before it expires, replaces it early under the policy's
// MaxAge or on [TokenSource.Rotate], and revokes replaced tokens once requests
// in flight with them have had time to finish (RFC 7009). Build it with
// [Client.TokenSource].
//
// While the token is fresh, Token does no I/O, takes no lock and allocates
// nothing. At most one token request is in flight at a time, however many
// goroutines ask. A TokenSource is safe for concurrent use by multiple
// goroutines; Close it when done.
//
// Expiry is tracked with timers, so the hot path reads no clock. A timer runs
// on the monotonic clock, which on some systems stops while the machine
// sleeps: after a suspend the token may have expired before its timer fires.
// The server then rejects it; [TokenSource.Transport] handles that 401 by
// getting a new token and replaying the request, and [TokenSource.Invalidate]
// does the same for other callers.
type TokenSource struct {
	c      *Client
	policy TokenPolicy

	// cur is the current token. nil: none yet, or closed. The hot path
	// reads only cur and its entry's due flag.
	cur atomic.Pointer[entry]

	ctx    context.Context // canceled by Close: ends a token request in flight
	cancel context.CancelFunc
	// finish bounds the work Close lets end (a save, a revocation under
	// way): canceled only when Close's own ctx is done.
	finish       context.Context
	finishCancel context.CancelFunc
	done         chan struct{} // closed by Close
	wg           sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	flight   *flight // the token request in flight, if any
	loaded   bool    // the Store was consulted
	failures int     // refreshes failed in a row
	nextTry  time.Time
	lastErr  error
	timer    *time.Timer // marks the current entry due
	replaced []*replaced // tokens replaced but not revoked
	seq      uint64      // of the newest entry

	fleet *fleet // non-nil when Store is a SharedStore

	saveMu   sync.Mutex // one Store.Save at a time
	savedSeq uint64     // the newest entry saved; guarded by saveMu
}

// entry is one token and what the TokenSource knows of it.
type entry struct {
	tok      *Token
	issued   time.Time // when it was received (or Expiry - ExpiresIn)
	expiry   time.Time // zero: the server sent no expires_in
	refresh  time.Time // when it becomes due; zero: never
	bearer   []string  // the Authorization header value, computed once
	seq      uint64    // the order of installation
	gen      uint64    // its generation in the fleet's record; 0: not shared
	aged     bool      // it becomes due by MaxAge, not by expiry
	due      atomic.Bool
	rejected atomic.Bool // Invalidate named it
}

// flight is a token request in flight; done is closed when it ends.
type flight struct {
	done chan struct{}
	err  error
	old  *entry // the current entry when it started
}

// replaced is a token that was replaced and is still to be revoked.
type replaced struct {
	tok   *Token
	timer *time.Timer // the RevokeAfter timer; nil: RevokeAfter is 0
	taken bool        // its revocation was started (by the timer or Close); guarded by ts.mu
}

// TokenSource returns a TokenSource that keeps a token of this client under
// policy p. It sends nothing: the first token is issued on the first call
// that needs it. A policy with a negative duration is an error wrapping
// [ErrInvalidConfig].
func (c *Client) TokenSource(p TokenPolicy) (*TokenSource, error) {
	if p.RefreshBefore < 0 || p.MaxAge < 0 || p.RevokeAfter < 0 {
		return nil, fmt.Errorf("%w: TokenPolicy: negative duration (RefreshBefore %v, MaxAge %v, RevokeAfter %v)", ErrInvalidConfig, p.RefreshBefore, p.MaxAge, p.RevokeAfter)
	}
	if p.RefreshBefore == 0 {
		p.RefreshBefore = defaultRefreshBefore
	}
	ts := &TokenSource{c: c, policy: p, done: make(chan struct{})}
	ts.ctx, ts.cancel = context.WithCancel(context.Background())
	ts.finish, ts.finishCancel = context.WithCancel(context.Background())
	if ts.fleet = newFleet(c, p, ts); ts.fleet != nil {
		ts.wg.Add(1)
		go func() {
			defer ts.wg.Done()
			ts.fleet.run(ts.ctx)
		}()
	}
	return ts, nil
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
				// Backing off after a failure.
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
			if e := ts.cur.Load(); e != nil {
				return e, nil
			}
			return nil, ErrClosed
		}
	}
}

// reasonFor names why a refresh starts, for the log.
func reasonFor(e *entry, valid, rotate bool) string {
	switch {
	case rotate:
		return "rotate"
	case e == nil:
		return "first token"
	case e.rejected.Load():
		return "invalidated"
	case !valid:
		return "expired"
	case e.aged:
		return "max age"
	}
	return "refresh window"
}

// valid reports whether e may still be used at now.
func (e *entry) valid(now time.Time) bool {
	return !e.rejected.Load() && (e.expiry.IsZero() || now.Before(e.expiry))
}

// Rotate replaces the token now, whatever its age: it issues a new token
// and waits for it, as long as ctx allows, and returns it. The replaced
// token is handled as the policy says (revoked after RevokeAfter, or left to
// expire). If a refresh is already in flight, Rotate waits for it and
// returns its token. After Close, Rotate returns [ErrClosed].
func (ts *TokenSource) Rotate(ctx context.Context) (*Token, error) {
	e, err := ts.slowToken(ctx, true)
	if err != nil {
		return nil, err
	}
	return e.tok, nil
}

// Invalidate tells the TokenSource that the server rejected accessToken (a
// 401 from the API, RFC 6750 §3.1 invalid_token). If it is the current
// token, the next Token call gets a new one, and waits for it; any other
// value is ignored, so that many callers reporting the same rejection cause
// one refresh. The rejected token is not revoked: the server already refuses
// it.
func (ts *TokenSource) Invalidate(accessToken string) {
	if e := ts.cur.Load(); e != nil && e.tok.AccessToken == accessToken {
		e.rejected.Store(true)
		e.due.Store(true)
		ts.c.logDebug(ts.ctx, "cryptofuse: token invalidated")
	}
}
