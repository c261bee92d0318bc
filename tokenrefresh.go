package cryptofuse

import (
	"context"
	"log/slog"
	"time"
)

// The background work of a TokenSource: issuing a token, installing it,
// scheduling its refresh, and revoking the token it replaced. Every
// goroutine here is counted in ts.wg and ends with ts.ctx (or ts.finish),
// so that Close can wait for all of them. Logs and hooks run after ts.mu is
// released.

// startLocked starts a token request in the background and returns its
// flight. ts.mu is held.
func (ts *TokenSource) startLocked(reason TokenReason) *flight {
	f := &flight{done: make(chan struct{}), old: ts.cur.Load()}
	ts.flight = f
	// Rotate never takes a stored token, and leaves the store unread. A
	// fleet reads the store in obtain.
	loadStore := !ts.loaded && ts.policy.Store != nil && reason != ReasonRotate && ts.fleet == nil
	ts.loaded = true
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		ts.fly(f, reason, loadStore)
	}()
	return f
}

// fly runs one flight: the stored token when it is usable, else a new one
// from the token endpoint.
func (ts *TokenSource) fly(f *flight, reason TokenReason, loadStore bool) {
	var tok *Token
	var issued time.Time
	var err error
	if loadStore {
		if tok, issued = ts.load(); tok != nil {
			reason, f.stored = ReasonStore, true
		}
	}
	var ft fleetToken
	switch {
	case ts.fleet != nil:
		if ft, err = ts.obtainFleet(f, reason); err == nil {
			tok, issued, reason, f.stored = ft.tok, ft.issued, ft.why, ft.why == ReasonStore
		}
	case tok == nil:
		tok, err = ts.c.Token(ts.ctx)
	}
	ts.mu.Lock()
	if ts.closed {
		orphan := false
		if err == nil && !f.stored && !ts.fleetRevokes(tok) {
			// Issued while Close ran: nobody will use it, so Close
			// revokes it rather than leave it active; or, when Close
			// has already taken its last revocations (it stopped waiting
			// for this goroutine while a callback of the user's ran on
			// it), this goroutine does.
			if orphan = ts.lateTaken; !orphan {
				ts.late = append(ts.late, tok)
			}
		}
		f.err = ErrClosed
		ts.flight = nil
		ts.mu.Unlock()
		close(f.done)
		if orphan {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ts.finish), ts.c.clock.timeout)
			defer cancel()
			err := ts.c.Revoke(ctx, tok.AccessToken, AccessTokenHint)
			ts.revoked(Fingerprint(tok.AccessToken), "close", err, true)
		}
		return
	}
	if err != nil {
		f.err = err
		ts.failures++
		ts.lastErr = err
		wait := ts.backoff(ts.failures)
		ts.nextTry = ts.c.clock.now().Add(wait)
		n := ts.failures
		ts.flight = nil
		ts.mu.Unlock()
		close(f.done)
		ts.c.logWarn(ts.ctx, "cryptofuse: token refresh failed", err,
			slog.String("reason", string(reason)), slog.Int("failures", n), slog.Duration("next_try_in", wait))
		if h := ts.c.hooks.RefreshFailed; h != nil {
			ts.bgHook("RefreshFailed", func() {
				h(RefreshFailedEvent{ClientID: ts.c.clientID, Reason: reason, Err: err, Failures: n, NextTry: wait})
			})
		}
		return
	}
	ts.failures, ts.lastErr, ts.nextTry = 0, nil, time.Time{}
	if ts.fleet != nil && ts.stale(f, ft) {
		ts.flight = nil
		ts.mu.Unlock()
		close(f.done)
		return
	}
	e := ts.installLocked(tok, reason, issued)
	e.gen = ft.gen
	save := ts.policy.Store != nil && !f.stored && ts.fleet == nil
	if save {
		ts.wg.Add(1)
	}
	ts.flight = nil
	ts.mu.Unlock()
	close(f.done)

	msg := "cryptofuse: token refreshed"
	if f.stored {
		msg = "cryptofuse: token loaded from the store"
	}
	ts.c.logDebug(ts.ctx, msg, slog.String("reason", string(reason)), slog.Bool("from_store", f.stored),
		slog.Int64("expires_in", tok.ExpiresIn), slog.String("token", e.fp))
	if h := ts.c.hooks.TokenObtained; h != nil {
		ts.bgHook("TokenObtained", func() {
			h(TokenEvent{ClientID: ts.c.clientID, Reason: reason, Fingerprint: e.fp, Expiry: e.expiry, Scope: tok.Scope})
		})
	}
	if save {
		go func() {
			defer ts.wg.Done()
			ts.writeStore(ts.ctx, e, false)
		}()
	}
}

// reasonFor names why a refresh starts.
func reasonFor(e *entry, valid, rotate bool) TokenReason {
	switch {
	case rotate:
		return ReasonRotate
	case e == nil:
		return ReasonFirst
	case e.rejected.Load():
		return ReasonRejected
	case !valid:
		return ReasonExpired
	case e.aged:
		return ReasonMaxAge
	}
	return ReasonRefresh
}

// valid reports whether e may still be used at now.
func (e *entry) valid(now time.Time) bool {
	return !e.rejected.Load() && (e.expiry.IsZero() || now.Before(e.expiry))
}

// backoff is the wait after the nth failed refresh in a row (or the nth
// backoff step of rejected tokens): 1 s, doubling up to 1 min, with the
// upper half jittered.
func (ts *TokenSource) backoff(n int) time.Duration {
	d := maxRefreshBackoff
	if n-1 < 6 {
		d = min(refreshBackoff<<(n-1), maxRefreshBackoff)
	}
	return d/2 + time.Duration(ts.c.clock.jitter(int64(d/2)+1))
}

// installLocked makes tok the current token and schedules its refresh, and
// retires the token it replaces. issued is when a stored token was issued
// (zero for a new one: now). ts.mu is held.
func (ts *TokenSource) installLocked(tok *Token, reason TokenReason, issued time.Time) *entry {
	now := ts.c.clock.now()
	if issued.IsZero() || issued.After(now) {
		issued = now
	}
	ts.seq++
	e := &entry{tok: tok, fp: Fingerprint(tok.AccessToken), reason: reason, at: now, issued: issued,
		expiry: tok.Expiry, bearer: []string{"Bearer " + tok.AccessToken}, seq: ts.seq}
	e.refresh, e.aged = ts.refreshTime(e)
	old := ts.cur.Swap(e)
	if old != nil && old.rejected.Load() {
		e.streak = old.streak
	}
	if ts.timer != nil {
		ts.timer.Stop()
		ts.timer = nil
	}
	if !e.refresh.IsZero() {
		if d := e.refresh.Sub(now); d <= 0 {
			e.due.Store(true)
		} else {
			ts.timer = time.AfterFunc(d, func() { e.due.Store(true) })
		}
	}
	ts.forgetLocked(tok.AccessToken, now)
	if old != nil && old.tok.AccessToken != tok.AccessToken && !expired(old.tok, now) && !ts.fleetRetires(old.tok) {
		ts.retireLocked(old)
	}
	return e
}

// expired reports whether tok has expired at now.
func expired(tok *Token, now time.Time) bool {
	return !tok.Expiry.IsZero() && !now.Before(tok.Expiry)
}

// refreshTime is when e becomes due (see TokenPolicy): RefreshBefore (at
// most half the lifetime, jittered down by up to a quarter) before its
// expiry, or MaxAge (jittered down by up to a quarter) after it was issued
// (aged), whichever is first; zero when neither applies.
func (ts *TokenSource) refreshTime(e *entry) (at time.Time, aged bool) {
	p := ts.policy
	if !e.expiry.IsZero() {
		life := e.expiry.Sub(e.issued)
		lead := p.RefreshBefore
		if lead == 0 {
			lead = defaultRefreshBefore
			if p.MaxAge > 0 && p.MaxAge < life {
				lead = min(lead, life-p.MaxAge) // the default gives way to MaxAge
			}
		}
		lead = min(lead, life/2)
		if q := int64(lead / 4); q > 0 {
			lead -= time.Duration(ts.c.clock.jitter(q))
		}
		at = e.expiry.Add(-lead)
	}
	if p.MaxAge > 0 {
		age := p.MaxAge
		if q := int64(age / 4); q > 0 {
			age -= time.Duration(ts.c.clock.jitter(q))
		}
		if t := e.issued.Add(age); at.IsZero() || !t.After(at) {
			at, aged = t, true
		}
	}
	return at, aged
}

// retireLocked handles a replaced (or rejected) token under the policy:
// revoked after RevokeAfter, or kept (for RevokeOnClose) until it expires.
// ts.mu is held.
func (ts *TokenSource) retireLocked(old *entry) {
	r := &replaced{tok: old.tok, fp: old.fp}
	if ts.policy.RevokeAfter > 0 {
		r.timer = time.AfterFunc(ts.policy.RevokeAfter, func() { ts.revokeReplaced(r) })
	} else if !ts.policy.RevokeOnClose {
		return // left to expire; nothing to remember
	}
	ts.replaced = append(ts.replaced, r)
}

// forgetLocked drops the replaced tokens that have expired (nobody can use
// them, and revoking them is pointless) and any equal to current (the
// server answered with the same token again: it must not be revoked).
// ts.mu is held.
func (ts *TokenSource) forgetLocked(current string, now time.Time) {
	kept := ts.replaced[:0]
	for _, r := range ts.replaced {
		if !r.taken && (expired(r.tok, now) || r.tok.AccessToken == current) {
			if r.timer != nil {
				r.timer.Stop()
			}
			continue
		}
		kept = append(kept, r)
	}
	clear(ts.replaced[len(kept):])
	ts.replaced = kept
}

// revokeReplaced revokes r once its RevokeAfter has passed, unless Close
// took it over. A failed revocation is kept for Close to retry.
func (ts *TokenSource) revokeReplaced(r *replaced) {
	ts.mu.Lock()
	if ts.closed || r.taken {
		ts.mu.Unlock()
		return // Close revokes it
	}
	if cur := ts.cur.Load(); cur != nil && cur.tok.AccessToken == r.tok.AccessToken {
		ts.forgetLocked(r.tok.AccessToken, ts.c.clock.now())
		ts.mu.Unlock()
		return // it is current again: never revoked
	}
	r.taken = true
	ts.wg.Add(1)
	ts.mu.Unlock()
	defer ts.wg.Done()
	// Under ts.finish: Close lets a revocation under way finish.
	err := ts.c.Revoke(ts.finish, r.tok.AccessToken, AccessTokenHint)
	ts.mu.Lock()
	r.taken = false
	r.timer = nil
	if err == nil {
		for i, x := range ts.replaced {
			if x == r {
				ts.replaced = append(ts.replaced[:i], ts.replaced[i+1:]...)
				break
			}
		}
	}
	ts.mu.Unlock()
	ts.revoked(r.fp, "revoke_after", err, true)
}
