package cryptofuse

import (
	"context"
	"log/slog"
)

// The TokenSource's side of a fleet (see fleet.go): the few places where a
// TokenSource over a SharedStore differs from one over a plain store.

// startFleet makes ts one of the fleet sharing its store, when the policy's
// Store is a SharedStore: it starts the fleet's goroutine. It returns ts.
func startFleet(ts *TokenSource) *TokenSource {
	if ts.fleet = newFleet(ts.c, ts.policy, ts); ts.fleet == nil {
		return ts
	}
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		ts.fleet.run(ts.ctx)
	}()
	return ts
}

// obtainFleet is fly's token request over a fleet: the token another
// instance stored, or a new one this instance stores for all.
func (ts *TokenSource) obtainFleet(f *flight, reason TokenReason) (fleetToken, error) {
	var old *Token // the token that was current when the flight started
	if f.old != nil {
		old = f.old.tok
	}
	return ts.fleet.obtain(ts.ctx, reason, old)
}

// stale reports whether a flight's token over a fleet must not be
// installed: it is the current token already, or the watch loop installed a
// newer one while the flight ran. ts.mu is held.
func (ts *TokenSource) stale(f *flight, ft fleetToken) bool {
	cur := ts.cur.Load()
	return cur != nil && (cur.tok.AccessToken == ft.tok.AccessToken || (cur != f.old && !fleetNewer(ft.gen, cur.gen)))
}

// adopt implements fleetHost: the switch to a token another instance
// stored.
func (ts *TokenSource) adopt(ft fleetToken) bool {
	ts.mu.Lock()
	cur := ts.cur.Load()
	if ts.closed || (cur != nil && (cur.tok.AccessToken == ft.tok.AccessToken || !fleetNewer(ft.gen, cur.gen))) {
		ts.mu.Unlock()
		return false
	}
	e := ts.installLocked(ft.tok, ReasonFleet, ft.issued)
	e.gen = ft.gen
	ts.mu.Unlock()
	ts.c.logDebug(ts.ctx, "cryptofuse: token refreshed", slog.String("reason", string(ReasonFleet)), slog.Bool("from_store", true),
		slog.Int64("expires_in", ft.tok.ExpiresIn), slog.String("token", e.fp))
	if h := ts.c.hooks.TokenObtained; h != nil {
		ts.bgHook("TokenObtained", func() {
			h(TokenEvent{ClientID: ts.c.clientID, Reason: ReasonFleet, Fingerprint: e.fp, Expiry: e.expiry, Scope: ft.tok.Scope})
		})
	}
	return true
}

// finishing implements fleetHost.
func (ts *TokenSource) finishing() context.Context { return ts.finish }

// fleetRevokes reports whether the fleet, not this TokenSource, revokes
// tok, a token this instance replaced or holds at Close: every token in
// the fleet's record is the fleet's; one this instance got on its own
// while the store failed is its own.
func (ts *TokenSource) fleetRevokes(tok *Token) bool {
	return ts.fleet != nil && !ts.fleet.isLocal(tok)
}

// fleetRetires is fleetRevokes for a token this instance replaced: the
// fleet forgets it as this instance's own, which the TokenSource then
// retires as without a fleet. ts.mu may be held.
func (ts *TokenSource) fleetRetires(tok *Token) bool {
	return ts.fleet != nil && ts.fleet.retire(tok)
}

// leaveFleet is Close's part for the fleet (see fleet.leave), after the
// fleet's goroutine ended.
func (ts *TokenSource) leaveFleet(ctx context.Context, cur *entry) error {
	if ts.fleet == nil {
		return nil
	}
	var tok *Token
	if cur != nil {
		tok = cur.tok
	}
	return ts.fleet.leave(ctx, tok)
}
