package cryptofuse

import (
	"context"
	"errors"
	"log/slog"
)

// Close stops the TokenSource: it cancels a refresh in flight, stops every
// timer and background goroutine (none survives Close), lets a save of the
// newest token to the Store finish, and revokes at once the replaced tokens
// still waiting for RevokeAfter. With RevokeOnClose it
// also revokes the current token and every replaced one not yet revoked.
// ctx bounds those revocations; their errors are joined. Afterwards Token,
// Rotate and the Transport return [ErrClosed]. Close is safe to call more
// than once; later calls do nothing and return nil.
func (ts *TokenSource) Close(ctx context.Context) error {
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
	var revoke []*Token
	for _, r := range ts.replaced {
		if r.timer != nil {
			r.timer.Stop()
		}
		if r.taken {
			continue // its revocation is under way; Close waits for it
		}
		if r.timer != nil || ts.policy.RevokeOnClose {
			r.taken = true
			revoke = append(revoke, r.tok) // at once, if it was waiting for RevokeAfter
		}
	}
	ts.replaced = nil
	if cur != nil && ts.policy.RevokeOnClose && !cur.rejected.Load() && (ts.fleet == nil || ts.fleet.isLocal(cur.tok)) {
		revoke = append(revoke, cur.tok)
	}
	ts.cancel()
	close(ts.done)
	ts.mu.Unlock()
	// The token request in flight ends now; a save or a revocation under
	// way may finish, within ctx.
	stop := context.AfterFunc(ctx, ts.finishCancel)
	ts.wg.Wait()
	stop()
	ts.finishCancel()

	var errs []error
	if ts.fleet != nil {
		var last *Token
		if cur != nil {
			last = cur.tok
		}
		errs = append(errs, ts.fleet.leave(ctx, last))
	}
	for _, tok := range revoke {
		if err := ts.c.Revoke(ctx, tok.AccessToken, AccessTokenHint); err != nil {
			ts.c.logWarn(ctx, "cryptofuse: revoking a token on Close failed", err)
			errs = append(errs, err)
			continue
		}
		ts.c.logDebug(ctx, "cryptofuse: token revoked", slog.String("when", "close"))
	}
	return errors.Join(errs...)
}
