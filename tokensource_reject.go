package cryptofuse

import (
	"log/slog"
	"strconv"
	"time"
)

// Rejected tokens: what a 401 (RFC 6750 §3.1) or Invalidate does to the
// current token, and the backoff that keeps an endpoint answering 401 to
// every token from minting one token per request.

// Invalidate tells the TokenSource that the server rejected accessToken (a
// 401 from the API, RFC 6750 §3.1 invalid_token). If it is the current
// token, the next Token call gets a new one, and waits for it (see
// [TokenSource.Token] for the backoff when new tokens are rejected too);
// any other value is ignored, so that many callers reporting the same
// rejection cause one refresh.
//
// A 401 does not prove a token dead, so the rejected token is revoked under
// the policy like a replaced one (RevokeAfter, RevokeOnClose), and its
// record leaves the Store, so that the next start does not hand it out.
// Invalidate is safe for concurrent use.
func (ts *TokenSource) Invalidate(accessToken string) {
	if e := ts.cur.Load(); e != nil && e.tok.AccessToken == accessToken {
		ts.reject(e, "invalidate")
	}
}

// reject marks e rejected if it is still the current token, and starts a
// backoff step when e itself replaced a rejected token and was rejected
// soon after, without having served. cause is "401", "403" (Introspect403
// found the token inactive) or "invalidate".
func (ts *TokenSource) reject(e *entry, cause string) {
	ts.mu.Lock()
	if ts.closed || ts.cur.Load() != e || e.rejected.Load() {
		ts.mu.Unlock()
		return
	}
	e.rejected.Store(true)
	e.due.Store(true)
	now := ts.c.clock.now()
	streak := 1
	if e.reason == ReasonRejected && !e.served.Load() && now.Sub(e.at) < rejectedSoon {
		streak = e.streak + 1
	}
	e.streak = streak
	step := time.Duration(-1)
	if streak > 1 {
		wait := ts.backoff(streak - 1)
		if t := now.Add(wait); t.After(ts.nextTry) {
			ts.nextTry = t
			ts.lastErr = &plainError{msg: "token source: " + strconv.Itoa(streak) + " tokens in a row rejected", err: errRejected}
		}
		step = wait
	}
	// A fleet's record is flagged, never deleted (it holds the fleet's
	// pending revocations), and replaced by the next token.
	store := ts.policy.Store != nil
	if store {
		ts.wg.Add(1)
	}
	ts.mu.Unlock()

	attrs := []slog.Attr{slog.String("token", e.fp), slog.String("cause", cause), slog.Int("rejected_in_a_row", streak)}
	if step >= 0 {
		attrs = append(attrs, slog.Duration("next_token_in", step))
	}
	if store {
		// Started before the callbacks: one that panics (on the caller's
		// goroutine, which it then panics) must not leave ts.wg waiting.
		go func() {
			defer ts.wg.Done()
			if ts.fleet != nil {
				ts.fleet.markRejected(ts.ctx, e.tok)
				return
			}
			ts.writeStore(ts.ctx, e, true)
		}()
	}
	ts.c.logDebug(ts.ctx, "cryptofuse: token invalidated", attrs...)
	if h := ts.c.hooks.Invalidated; h != nil {
		h(InvalidateEvent{ClientID: ts.c.clientID, Fingerprint: e.fp, Cause: cause})
	}
}
