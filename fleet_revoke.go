package cryptofuse

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Revocation by the fleet. A token the fleet replaced stays in the record's
// retired list with its revoke_at: RevokeAfter after the switch, which
// takes fleetNotice when change notices arrive (0 with RevokeAfter 0: it
// waits for the last Close under RevokeOnClose, or expires). An instance
// that lost the notice switches within fleetPoll: with RevokeAfter of
// fleetPoll or more, no instance hands out a token after its revocation
// even then; with less, such an instance may, and its next request gets a
// 401, which the Transport answers with the fleet's new token. Every live
// instance keeps a timer for the earliest revoke_at it has seen, jittered
// by up to fleetSweepJitter; the first to fire takes the lock, revokes what
// is due, and puts the record back without it. The others find nothing due.
// So each token is revoked once, by whichever instance is alive: the one
// that replaced it may have crashed. An instance that crashes between the
// revocation and the Put leaves the token in the list, and the next sweep
// revokes it a second time, which is harmless (RFC 7009 §2.2: the server
// answers 200 for a token that is no longer valid). A revocation that fails
// is tried again after fleetRevokeRetry, until the token expires.
const (
	fleetSweepJitter = 2 * time.Second
	fleetRevokeRetry = time.Minute
)

// sweep revokes the retired tokens whose revoke_at has passed: store calls
// under ctx, revocations under rctx.
func (f *fleet) sweep(ctx, rctx context.Context) {
	f.sweepMu.Lock()
	f.sweepAt = time.Time{}
	f.sweepMu.Unlock()
	rec, err := f.read(ctx)
	if err != nil || rec == nil || !hasDue(rec, f.c.clock.now()) {
		if rec != nil {
			f.noteRetired(rec)
		} else if err != nil {
			f.retrySweep(fleetPoll)
		}
		return
	}
	switch err := f.lock(ctx, f.sweeper()); {
	case errors.Is(err, ErrLocked):
		f.retrySweep(fleetLockPoll) // maybe another instance's sweep
		return
	case err != nil:
		f.retrySweep(fleetPoll)
		return
	}
	defer f.unlock(ctx, f.sweeper())
	if rec, err = f.read(ctx); err != nil || rec == nil {
		return
	}
	n, _ := f.revokeRetired(rctx, rec, false, "revoke_after")
	// What was revoked is recorded even when ctx ended meanwhile (Close):
	// else the next sweep would revoke it again.
	if err := f.write(context.WithoutCancel(ctx), n); err != nil {
		f.retrySweep(fleetPoll)
		return
	}
	f.noteRetired(n)
}

// sweeper is this instance's lock owner for revocations.
func (f *fleet) sweeper() string { return f.id + "-sweep" }

// retrySweep makes the watch loop sweep again after d.
func (f *fleet) retrySweep(d time.Duration) {
	f.noteRetired(&record{Retired: []retired{{RevokeAt: f.c.clock.now().Add(d)}}})
}

// hasDue reports whether a retired token of rec is due for revocation.
func hasDue(rec *record, now time.Time) bool {
	for _, r := range rec.Retired {
		if !r.RevokeAt.IsZero() && !now.Before(r.RevokeAt) {
			return true
		}
	}
	return false
}

// revokeRetired revokes rec's retired tokens that are due (all of them,
// with all set), never the current one, and returns rec without the
// revoked and expired ones; a failed revocation stays, to be tried again
// after fleetRevokeRetry. The caller holds the lock; it is renewed before
// each revocation after the first.
func (f *fleet) revokeRetired(ctx context.Context, rec *record, all bool, when string) (*record, error) {
	n := *rec
	n.Retired = nil
	var errs []error
	renew := false
	for _, r := range rec.Retired {
		now := f.c.clock.now()
		switch {
		case r.Token == "" || (!r.Expiry.IsZero() && !now.Before(r.Expiry)) || r.Token == rec.Token.AccessToken:
			continue
		case !all && (r.RevokeAt.IsZero() || now.Before(r.RevokeAt)):
			n.Retired = append(n.Retired, r)
			continue
		}
		if renew {
			_ = f.lock(ctx, f.sweeper())
		}
		renew = true
		if err := f.revoke(ctx, r.Token, when); err != nil {
			errs = append(errs, err)
			r.RevokeAt = now.Add(fleetRevokeRetry)
			n.Retired = append(n.Retired, r)
		}
	}
	return &n, errors.Join(errs...)
}

// revoke revokes one token of the fleet and reports it.
func (f *fleet) revoke(ctx context.Context, access, when string) error {
	err := f.c.Revoke(ctx, access, AccessTokenHint)
	f.host.revoked(Fingerprint(access), when, err, true)
	return err
}

// leave is the fleet's part of Close, after run has ended. cur is the
// token the source handed out last (nil: none). Without RevokeOnClose it
// sweeps once (the retired tokens already due) and leaves the rest to the
// fleet. With RevokeOnClose it leaves the membership; the instance that
// sees no other member left revokes the current token and every retired
// one, and deletes the record. An instance that cannot tell (Leave failed)
// revokes nothing the others may use. ctx bounds it all.
func (f *fleet) leave(ctx context.Context, cur *Token) error {
	if !f.revokeOnClose {
		f.sweep(ctx, ctx)
		return nil
	}
	remaining, err := storeCall(f, ctx, "leave", func(ctx context.Context) (int, error) { return f.store.Leave(ctx, f.key, f.id) })
	if err != nil {
		f.c.logWarn(ctx, "cryptofuse: leaving the fleet failed; its tokens are left to the others", err)
		return nil
	}
	if remaining > 0 {
		f.c.logDebug(ctx, "cryptofuse: left the fleet", slog.Int("remaining", remaining))
		return nil
	}
	// The last one: whoever holds the lock (a crashed instance) does not
	// matter any more.
	if f.lock(ctx, f.sweeper()) == nil {
		defer f.unlock(ctx, f.sweeper())
	}
	rec, err := f.read(ctx)
	if err != nil || rec == nil {
		if cur != nil && !f.isLocal(cur) {
			return f.revoke(ctx, cur.AccessToken, "close")
		}
		return nil
	}
	all := *rec
	all.Retired = append([]retired{{Token: rec.Token.AccessToken, Expiry: rec.Token.Expiry}}, rec.Retired...)
	all.Token = &Token{}
	if cur != nil && cur.AccessToken != rec.Token.AccessToken && !f.isLocal(cur) {
		all.Retired = append(all.Retired, retired{Token: cur.AccessToken, Expiry: cur.Expiry})
	}
	_, rerr := f.revokeRetired(ctx, dedupRetired(&all), true, "close")
	derr := f.call(ctx, "delete", func(ctx context.Context) error { return f.store.Delete(ctx, f.key) })
	if derr != nil {
		f.c.logWarn(ctx, "cryptofuse: deleting the fleet's record failed", derr)
	}
	return rerr
}

// dedupRetired drops repeated tokens from rec's retired list, so that none
// is revoked twice.
func dedupRetired(rec *record) *record {
	seen := map[string]bool{}
	out := rec.Retired[:0:0]
	for _, r := range rec.Retired {
		if r.Token != "" && !seen[r.Token] {
			seen[r.Token] = true
			out = append(out, r)
		}
	}
	rec.Retired = out
	return rec
}
