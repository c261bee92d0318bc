package cryptofuse

import (
	"context"
	"strconv"
	"time"
)

// What the fleet knows of the tokens of one instance, and the records it
// writes.

// setHeld records the token this instance now hands out.
func (f *fleet) setHeld(tok *Token, gen uint64) {
	f.mu.Lock()
	f.held = held{tok: tok, gen: gen}
	f.mu.Unlock()
}

// rejectionStep applies the 401 backoff of DESIGN.md ("A 401 is bounded")
// to the whole fleet: a token that replaces a rejected one is issued at
// once, but when the record's token was itself issued for a rejection and
// is rejected within rejectedSoon after its step, the next one waits for
// the backoff step after the record's (1 s, doubling up to 1 min): until
// then obtain fails at once, whichever instance asks. It returns the count
// to record.
func (f *fleet) rejectionStep(rec *record, reason TokenReason) (int, error) {
	if reason != ReasonRejected {
		return 0, nil
	}
	if rec == nil || rec.Rejections == 0 {
		return 1, nil
	}
	now := f.c.clock.now()
	step := maxRefreshBackoff
	if n := rec.Rejections - 1; n < 6 {
		step = min(refreshBackoff<<n, maxRefreshBackoff)
	}
	if now.Sub(rec.Issued) >= step+rejectedSoon {
		return 1, nil // the rejected token lasted: the steps are over
	}
	if now.Before(rec.Issued.Add(step)) {
		return 0, &plainError{msg: "token source: " + strconv.Itoa(rec.Rejections+1) + " fleet tokens in a row rejected", err: errRejected}
	}
	return rec.Rejections + 1, nil
}

// lastMinted is the last token this instance requested and stored.
func (f *fleet) lastMinted() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.minted
}

// setLocal records tok as this instance's own: not in the record, so the
// TokenSource revokes it itself (see retire). The generation it knew is
// kept, so that the next record stored is newer still.
func (f *fleet) setLocal(tok *Token) {
	f.localMu.Lock()
	f.local[tok.AccessToken] = true
	f.localMu.Unlock()
	f.mu.Lock()
	f.held = held{tok: tok, gen: f.held.gen, local: true}
	f.mu.Unlock()
}

// fleetNewer reports whether a TokenSource installs another token of
// generation gen over its current one of generation cur, when its current
// one changed while it obtained it: a token of the instance's own (gen 0)
// always, one from the record unless the current one is older (two tokens
// of one generation: the record lost and written again; the later wins).
func fleetNewer(gen, cur uint64) bool { return gen == 0 || cur == 0 || gen >= cur }

// retire tells the fleet that the TokenSource replaced tok. It reports
// whether the fleet revokes tok (it is in the record, or was replaced there
// by the instance that stored its successor); false means tok is this
// instance's own and the TokenSource handles it as without a fleet. It
// takes no lock the watch loop holds while adopting, so the TokenSource may
// call it under its own lock.
func (f *fleet) retire(tok *Token) (fleetRevokes bool) {
	f.localMu.Lock()
	defer f.localMu.Unlock()
	if f.local[tok.AccessToken] {
		delete(f.local, tok.AccessToken)
		return false
	}
	return true
}

// isLocal reports whether tok is this instance's own (see retire).
func (f *fleet) isLocal(tok *Token) bool {
	f.localMu.Lock()
	defer f.localMu.Unlock()
	return f.local[tok.AccessToken]
}

// nextRecord is the record that makes tok the current token after rec:
// the next generation, with rec's token retired (when the policy revokes
// replaced tokens at all) and expired retired tokens dropped.
//
// Its generation is one more than both the record's and heldGen, the
// newest this instance knew: a store that lost the record (a Redis
// restarted without persistence) must not send the fleet's generations back.
func (f *fleet) nextRecord(rec *record, tok *Token, heldGen uint64, now time.Time) *record {
	n := &record{Token: tok, Issued: now, Gen: heldGen + 1}
	if rec == nil {
		return n
	}
	n.Gen = max(rec.Gen, heldGen) + 1
	for _, r := range rec.Retired {
		if r.Token != "" && (r.Expiry.IsZero() || now.Before(r.Expiry)) {
			n.Retired = append(n.Retired, r)
		}
	}
	old := rec.Token
	if old == nil || old.AccessToken == tok.AccessToken || !alive(old, now) || (f.revokeAfter == 0 && !f.revokeOnClose) {
		return n
	}
	r := retired{Token: old.AccessToken, Expiry: old.Expiry}
	if f.revokeAfter > 0 {
		// No earlier than RevokeAfter after the fleet switched, which
		// takes fleetNotice when the change notices arrive.
		r.RevokeAt = now.Add(fleetNotice + f.revokeAfter)
	}
	n.Retired = append(n.Retired, r)
	return n
}

// alive reports whether tok has not expired at now (a token without an
// expiry counts as alive).
func alive(tok *Token, now time.Time) bool {
	return tok.Expiry.IsZero() || now.Before(tok.Expiry)
}

// noticeChan is closed at the next change notice.
func (f *fleet) noticeChan() <-chan struct{} {
	f.noticeMu.Lock()
	defer f.noticeMu.Unlock()
	return f.notice
}

// noticed wakes everyone waiting in obtain for the lock holder's Put.
func (f *fleet) noticed() {
	f.noticeMu.Lock()
	close(f.notice)
	f.notice = make(chan struct{})
	f.noticeMu.Unlock()
}

// markRejected flags the record's token as rejected when it is tok, so that
// no instance (a start among them) takes it before the next token replaces
// the record. Best effort: when another instance holds the lock, it is
// storing that next token already.
func (f *fleet) markRejected(ctx context.Context, tok *Token) {
	owner := f.id + "-reject"
	if f.lock(ctx, owner) != nil {
		return
	}
	defer f.unlock(ctx, owner)
	rec, err := f.read(ctx)
	if err != nil || rec == nil || rec.Rejected || rec.Token.AccessToken != tok.AccessToken {
		return
	}
	rec.Rejected = true
	_ = f.write(ctx, rec)
}
