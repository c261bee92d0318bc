package cryptofuse

import (
	"context"
	"errors"
	"sync"
)

// Close stops the TokenSource. It cancels a refresh in flight and every
// background store call, stops every timer, and waits for its goroutines
// within ctx, so that none survives it (only a store call that ignores its
// ctx is abandoned, at the store deadline).
//
// Then it spends ctx first on revocations (RFC 7009): the replaced and
// rejected tokens still waiting for RevokeAfter, those whose RevokeAfter
// revocation failed, any token that arrived after Close canceled its
// request, and with RevokeOnClose the current token and every replaced one
// not yet revoked. Each token is revoked once; expired ones are forgotten.
// A RevokeAfter revocation already under way is let finish within ctx.
// With a Store, it makes the store match, within ctx and the 5 s store
// deadline: the record is deleted (beside the revocations) when the current
// token is revoked or was rejected, or else the newest token is saved, after
// the revocations, if it was not yet.
//
// Revocation errors are joined and returned; store failures are logged.
// Afterwards Token, Rotate and the Transport return [ErrClosed]. Close is
// safe to call more than once; later calls do nothing and return nil. A nil
// ctx is an error, and the TokenSource stays open.
func (ts *TokenSource) Close(ctx context.Context) error {
	if ctx == nil {
		return &plainError{msg: "token source: Close: nil Context"}
	}
	if ts == nil || ts.tsState == nil {
		return &plainError{msg: "token source: Close: TokenSource not built by Client.TokenSource"}
	}
	ts.mu.Lock()
	if ts.closed {
		ts.mu.Unlock()
		return nil
	}
	ts.closed = true
	cur := ts.cur.Swap(nil)
	if ts.timer != nil {
		ts.timer.Stop()
	}
	for _, r := range ts.replaced {
		if r.timer != nil {
			r.timer.Stop()
		}
	}
	ts.cancel()
	close(ts.done)
	ts.mu.Unlock()

	// The revocations come first: what is to revoke now is taken at once,
	// and revoked before Close waits for the background work (a token
	// request that answers after all is revoked after the wait). So a
	// callback that calls Close from a background goroutine, which Close
	// then waits for until ctx is done, still gets its tokens revoked.
	ts.mu.Lock()
	revoke, seen := ts.toRevokeLocked(cur, nil)
	ts.mu.Unlock()

	// A revoked or rejected token's record goes whatever the revocations'
	// outcome: it is deleted beside them, and takes none of their time.
	var sctx context.Context
	var deleted chan struct{}
	store := ts.policy.Store != nil && ts.fleet == nil // a fleet's record is the fleet's (leaveFleet)
	if store && cur != nil && (ts.policy.RevokeOnClose || cur.rejected.Load()) {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, storeTimeout)
		defer cancel()
		deleted = make(chan struct{})
		go func() {
			defer close(deleted)
			ts.writeStore(sctx, cur, true)
		}()
	}
	errs := ts.revokeAll(ctx, revoke)

	// Background work ends now: the token request and store calls are
	// canceled; a revocation under way may finish, within ctx. A token that
	// arrived meanwhile is revoked after.
	stop := context.AfterFunc(ctx, ts.finishCancel)
	quiet := ts.wg.wait(ctx) // no background goroutine is left to start a store call
	stop()
	ts.finishCancel()
	if err := ts.leaveFleet(ctx, cur); err != nil { // after the fleet's goroutine
		errs = append(errs, err)
	}
	ts.mu.Lock()
	late, _ := ts.toRevokeLocked(nil, seen)
	ts.lateTaken = true
	ts.mu.Unlock()
	errs = append(errs, ts.revokeAll(ctx, late)...)
	if store {
		// The last save, and the wait for store calls still running
		// (canceled, they end at once unless the store ignores its ctx),
		// share one store deadline.
		if deleted != nil {
			<-deleted
		} else {
			var cancel context.CancelFunc
			sctx, cancel = context.WithTimeout(ctx, storeTimeout)
			defer cancel()
			if cur != nil {
				ts.writeStore(sctx, cur, false)
			}
		}
		if quiet {
			waitCtx(sctx, &ts.storeWG)
		}
	}
	return errors.Join(errs...)
}

// waitCtx waits for wg, or until ctx is done; it reports whether wg was
// done.
func waitCtx(ctx context.Context, wg *sync.WaitGroup) bool {
	waited := make(chan struct{})
	go func() {
		wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
		return true
	case <-ctx.Done():
		return false
	}
}

// revocation is a token Close revokes, with its fingerprint.
type revocation struct {
	tok *Token
	fp  string
}

// toRevokeLocked takes what Close is to revoke: cur (the current token at
// Close, or nil) only under RevokeOnClose and never otherwise, the replaced
// tokens whose revocation is not under way, and the tokens that arrived
// after Close; each once (seen holds those already taken, and is returned
// with these added), none expired. ts.mu is held.
func (ts *TokenSource) toRevokeLocked(cur *entry, seen map[string]bool) ([]revocation, map[string]bool) {
	if seen == nil {
		seen = make(map[string]bool)
	}
	now := ts.c.clock.now()
	var revoke []revocation
	add := func(tok *Token, fp string) {
		if seen[tok.AccessToken] || expired(tok, now) {
			return
		}
		seen[tok.AccessToken] = true
		if fp == "" {
			fp = Fingerprint(tok.AccessToken)
		}
		revoke = append(revoke, revocation{tok, fp})
	}
	if cur != nil {
		if ts.policy.RevokeOnClose && !ts.fleetRevokes(cur.tok) {
			add(cur.tok, cur.fp)
		} else {
			seen[cur.tok.AccessToken] = true // never revoke the current token
		}
	}
	for _, r := range ts.replaced {
		if !r.taken { // else its revocation is under way, past ctx
			r.taken = true
			add(r.tok, r.fp)
		}
	}
	for _, tok := range ts.late {
		add(tok, "")
	}
	ts.replaced, ts.late = nil, nil
	return revoke, seen
}

// revokeAll revokes each of revoke, as Close does, and returns the errors.
func (ts *TokenSource) revokeAll(ctx context.Context, revoke []revocation) []error {
	var errs []error
	for _, r := range revoke {
		err := ts.c.Revoke(ctx, r.tok.AccessToken, AccessTokenHint)
		ts.revoked(r.fp, "close", err, false)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
