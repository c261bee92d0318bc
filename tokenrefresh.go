package cryptofuse

import (
	"errors"
	"log/slog"
	"time"
)

// The background work of a TokenSource: issuing a token, installing it,
// scheduling its refresh, saving it, and revoking the token it replaced.
// Every goroutine here is counted in ts.wg and ends with ts.ctx, so that
// Close can wait for all of them.

// startLocked starts a token request in the background and returns its
// flight. ts.mu is held.
func (ts *TokenSource) startLocked(reason string) *flight {
	f := &flight{done: make(chan struct{}), old: ts.cur.Load()}
	ts.flight = f
	loadStore := !ts.loaded && ts.policy.Store != nil && ts.fleet == nil
	ts.loaded = true
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		ts.fly(f, reason, loadStore)
	}()
	return f
}

// fly runs one flight: the stored token when it is fresh, else a new one
// from the token endpoint.
func (ts *TokenSource) fly(f *flight, reason string, loadStore bool) {
	var tok *Token
	var err error
	fromStore := false
	if loadStore {
		if tok = ts.load(); tok != nil {
			fromStore = true
		}
	}
	var gen uint64
	switch {
	case ts.fleet != nil:
		var old *Token // the token that was due when the flight started
		if f.old != nil {
			old = f.old.tok
		}
		var why TokenReason
		tok, gen, why, err = ts.fleet.obtain(ts.ctx, fleetReason(reason), old)
		fromStore = why == ReasonStore || why == ReasonFleet
	case tok == nil:
		tok, err = ts.c.Token(ts.ctx)
	}
	ts.mu.Lock()
	defer func() {
		ts.flight = nil
		ts.mu.Unlock()
		close(f.done)
	}()
	if ts.closed {
		f.err = ErrClosed
		return
	}
	if err != nil {
		f.err = err
		ts.failures++
		ts.lastErr = err
		wait := ts.backoff(ts.failures)
		ts.nextTry = ts.c.clock.now().Add(wait)
		ts.c.logWarn(ts.ctx, "cryptofuse: token refresh failed", err,
			slog.String("reason", reason), slog.Int("failures", ts.failures), slog.Duration("next_try_in", wait))
		return
	}
	ts.failures, ts.lastErr, ts.nextTry = 0, nil, time.Time{}
	if cur := ts.cur.Load(); cur != nil && ts.fleet != nil && (cur.tok.AccessToken == tok.AccessToken || (cur != f.old && !fleetNewer(gen, cur.gen))) {
		return // the watch loop installed it, or a newer one, meanwhile
	}
	ts.installLocked(tok, gen, reason, fromStore)
}

// backoff is the wait after the nth failed refresh in a row: 1 s, doubling
// up to 1 min, with the upper half jittered.
func (ts *TokenSource) backoff(n int) time.Duration {
	d := maxRefreshBackoff
	if n-1 < 6 {
		d = min(refreshBackoff<<(n-1), maxRefreshBackoff)
	}
	return d/2 + time.Duration(ts.c.clock.jitter(int64(d/2)+1))
}

// load returns the stored token if it is still valid, else nil. A failure
// is logged: a store is a cache, never a reason to fail.
func (ts *TokenSource) load() *Token {
	// Minimal port to the 0.3 store contract (stores helper); the
	// hardening helper owns what follows.
	var tok *Token
	key := ts.c.storeKey()
	data, err := ts.policy.Store.Get(ts.ctx, key)
	if err == nil {
		var r *record
		if r, err = ts.c.openRecord(key, data); err == nil {
			tok = r.Token
		}
	}
	switch {
	case errors.Is(err, ErrStoreMiss):
		return nil
	case err != nil:
		ts.c.logWarn(ts.ctx, "cryptofuse: loading the stored token failed", err)
		return nil
	case tok == nil || tok.AccessToken == "":
		return nil
	case tok.Expiry.IsZero() || !ts.c.clock.now().Before(tok.Expiry):
		// Without an expiry there is no telling how old it is.
		ts.c.logDebug(ts.ctx, "cryptofuse: stored token not used", slog.Bool("expired", !tok.Expiry.IsZero()))
		return nil
	}
	ts.c.logDebug(ts.ctx, "cryptofuse: stored token used", slog.Time("expiry", tok.Expiry))
	return tok
}

// installLocked makes tok the current token, schedules its refresh, saves
// it, and retires the token it replaces. ts.mu is held.
func (ts *TokenSource) installLocked(tok *Token, gen uint64, reason string, fromStore bool) {
	now := ts.c.clock.now()
	ts.seq++
	e := &entry{tok: tok, issued: now, expiry: tok.Expiry, bearer: []string{"Bearer " + tok.AccessToken}, seq: ts.seq, gen: gen}
	if tok.ExpiresIn > 0 && !tok.Expiry.IsZero() {
		e.issued = tok.Expiry.Add(-time.Duration(tok.ExpiresIn) * time.Second)
	}
	e.refresh, e.aged = ts.refreshTime(e)
	old := ts.cur.Swap(e)
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
	ts.c.logDebug(ts.ctx, "cryptofuse: token refreshed", slog.String("reason", reason),
		slog.Bool("from_store", fromStore), slog.Int64("expires_in", tok.ExpiresIn))
	if old != nil && !old.rejected.Load() && old.valid(now) && (ts.fleet == nil || !ts.fleet.retire(old.tok)) {
		ts.retireLocked(old.tok)
	}
	if ts.policy.Store != nil && !fromStore && ts.fleet == nil {
		ts.wg.Add(1)
		go func() {
			defer ts.wg.Done()
			ts.save(e)
		}()
	}
}

// save stores e's token, unless a newer one was saved first: saves run one
// at a time, and an older token never overwrites a newer one. It runs under
// ts.finish, so that Close lets it finish (within Close's ctx): a token
// issued just before Close is kept for the next run.
func (ts *TokenSource) save(e *entry) {
	ts.saveMu.Lock()
	defer ts.saveMu.Unlock()
	if e.seq <= ts.savedSeq {
		return
	}
	key := ts.c.storeKey()
	data, err := ts.c.sealRecord(key, &record{Token: e.tok, Issued: e.issued})
	if err == nil {
		err = ts.policy.Store.Put(ts.finish, key, data)
	}
	if err != nil {
		ts.c.logWarn(ts.finish, "cryptofuse: saving the token failed", err)
		return
	}
	ts.savedSeq = e.seq
}

// refreshTime is when e becomes due: RefreshBefore (at most half the
// lifetime, jittered down by up to a quarter) before its expiry, or MaxAge
// after it was issued (aged), whichever is first; zero when neither applies.
func (ts *TokenSource) refreshTime(e *entry) (at time.Time, aged bool) {
	if !e.expiry.IsZero() {
		lead := min(ts.policy.RefreshBefore, e.expiry.Sub(e.issued)/2)
		if q := int64(lead / 4); q > 0 {
			lead -= time.Duration(ts.c.clock.jitter(q))
		}
		at = e.expiry.Add(-lead)
	}
	if ts.policy.MaxAge > 0 {
		if t := e.issued.Add(ts.policy.MaxAge); at.IsZero() || t.Before(at) {
			at, aged = t, true
		}
	}
	return at, aged
}

// retireLocked handles a replaced token under the policy: revoked after
// RevokeAfter, or kept (for RevokeOnClose) and left to expire. ts.mu is
// held.
func (ts *TokenSource) retireLocked(tok *Token) {
	r := &replaced{tok: tok}
	if ts.policy.RevokeAfter > 0 {
		r.timer = time.AfterFunc(ts.policy.RevokeAfter, func() { ts.revokeReplaced(r) })
	} else if !ts.policy.RevokeOnClose {
		return // left to expire; nothing to remember
	}
	ts.replaced = append(ts.replaced, r)
}

// revokeReplaced revokes r once its RevokeAfter has passed, unless Close
// took it over.
func (ts *TokenSource) revokeReplaced(r *replaced) {
	ts.mu.Lock()
	if ts.closed || r.taken {
		ts.mu.Unlock()
		return // Close revokes it
	}
	r.taken = true
	ts.wg.Add(1)
	ts.mu.Unlock()
	defer ts.wg.Done()
	// Under ts.finish: Close lets a revocation under way finish.
	err := ts.c.Revoke(ts.finish, r.tok.AccessToken, AccessTokenHint)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if err != nil {
		ts.c.logWarn(ts.finish, "cryptofuse: revoking a replaced token failed; it is left to expire", err)
	} else {
		ts.c.logDebug(ts.finish, "cryptofuse: token revoked", slog.String("when", "revoke_after"))
	}
	for i, x := range ts.replaced {
		if x == r {
			ts.replaced = append(ts.replaced[:i], ts.replaced[i+1:]...)
			break
		}
	}
}
