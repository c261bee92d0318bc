package cryptofuse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// A fleet is what one TokenSource does with the other instances of a
// service whose TokenPolicy.Store is a [SharedStore] under the same store
// key (the same origin, client id and scopes): together they keep one
// token. The record under the key is the fleet's truth: the current token,
// its generation (one more for every token an instance stored), and the
// tokens it replaced that are still to be revoked, each with its revoke_at.
//
// One token request per fleet: an instance that needs a token (its first,
// the refresh window, MaxAge, Rotate, a 401) reads the record and uses a
// token another instance stored since it last looked. Otherwise it takes
// the store lock (owner: its random instance id; ttl: fleetLockTTL, which
// covers one token request), reads again, requests a token, stores it as
// the next generation with the replaced token moved to the retired list,
// and unlocks. An instance that finds the lock held keeps its current token
// and reads again after a change notice or fleetLockPoll.
//
// One switch: a goroutine per TokenSource watches the key and reads the
// record on every notice, and every fleetPoll without one; a newer
// generation becomes the current token. The warm Token is unchanged: no
// I/O, no allocation, no clock.
//
// Revocation by the fleet: see fleet_revoke.go.
//
// The store may fail: an instance that cannot read or lock the record, or
// whose Put fails, uses a token of its own ("local"), which it revokes
// itself as it would without a store. Once the store answers again, the
// record wins: the next read adopts its token, or the next token stored
// becomes everyone's.

// Bounds of a fleet. They are documented on [SharedStore].
const (
	// fleetStoreTimeout bounds each call to the shared store.
	fleetStoreTimeout = 5 * time.Second
	// fleetMintTimeout bounds the token request made under the lock.
	fleetMintTimeout = DefaultTimeout
	// fleetLockTTL is how long the lock is held at most: one token request,
	// the read before it, the Put after it, and a margin.
	fleetLockTTL = fleetMintTimeout + 3*fleetStoreTimeout
	// fleetLockPoll is how often an instance that found the lock held
	// reads the record again, when no change notice came first.
	fleetLockPoll = time.Second
	// fleetNotice bounds how long a change notice takes to reach every
	// instance (DirStore polls its file every second; Redis pushes).
	fleetNotice = 2 * time.Second
	// fleetPoll is the poll fallback of the switch: without a notice, an
	// instance reads the record this often (jittered down by up to a tenth).
	fleetPoll = 30 * time.Second
	// fleetRotateWindow: Rotate uses a token another instance stored this
	// recently instead of requesting one more.
	fleetRotateWindow = 2 * time.Second // after a token stored by a Rotate
	// fleetLocalMargin: while the store fails, an instance keeps a token
	// that is still valid this long rather than request one of its own.
	fleetLocalMargin = 2 * time.Minute
	// fleetMemberTTL is how long an instance counts as present after its
	// last Join (renewed every third of it); a crashed instance counts as
	// gone this long after its last renewal. Only with RevokeOnClose.
	fleetMemberTTL = time.Minute
)

// fleetHost is the TokenSource as the fleet sees it.
type fleetHost interface {
	// adopt makes ft.tok, which another instance stored, the current token
	// (reason "fleet"), unless the source is closed or its current token is
	// newer (see fleetNewer); it reports whether it did.
	adopt(ft fleetToken) bool
	// bgHook runs a hook, recovering (and logging) its panic.
	bgHook(name string, call func())
	// revoked logs and reports a revocation (RevokeEvent).
	revoked(fp, when string, err error, bg bool)
	// finishing is the context of a revocation under way: Close lets it
	// finish, within Close's ctx.
	finishing() context.Context
}

// fleet coordinates one TokenSource with the others sharing its record.
type fleet struct {
	c             *Client
	store         SharedStore
	key           string
	id            string // this instance, as lock owner and member
	revokeAfter   time.Duration
	revokeOnClose bool
	host          fleetHost

	// lockMu: one holder of the store lock as f.id in this process.
	lockMu sync.Mutex

	// mu orders the watch loop's adopt against obtain's result, so that an
	// older generation is never installed after a newer one.
	mu     sync.Mutex
	held   held
	minted string // the last token this instance stored

	localMu sync.Mutex
	local   map[string]bool // tokens of this instance alone (not in the record)

	noticeMu sync.Mutex
	notice   chan struct{} // closed on every change notice, then replaced

	sweepMu sync.Mutex
	sweepAt time.Time     // earliest revoke_at seen in the record; zero: none
	poke    chan struct{} // wakes the watch loop when sweepAt moved earlier
}

// fleetToken is a token as the fleet hands it to the TokenSource.
type fleetToken struct {
	tok    *Token
	gen    uint64      // its generation in the record; 0: this instance's own
	issued time.Time   // when it was issued (the record's), for MaxAge; zero: now
	why    TokenReason // ReasonFleet or ReasonStore when another instance issued it
}

// held is the token this instance hands out, as the fleet knows it.
type held struct {
	tok   *Token // nil: none yet
	gen   uint64 // the record generation it came from, or was newest when it was minted
	local bool   // minted while the store failed: not in the record
}

// newFleet returns the fleet of a TokenSource, or nil when the policy's
// store is not a SharedStore.
func newFleet(c *Client, p TokenPolicy, host fleetHost) *fleet {
	s, ok := any(p.Store).(SharedStore)
	if !ok || s == nil {
		return nil
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &fleet{
		c: c, store: s, key: c.storeKey(), id: hex.EncodeToString(b[:]),
		revokeAfter: p.RevokeAfter, revokeOnClose: p.RevokeOnClose, host: host,
		local: map[string]bool{}, notice: make(chan struct{}), poke: make(chan struct{}, 1),
	}
}

// obtain is what a TokenSource calls instead of Client.Token: the token that
// replaces old (nil: none yet) for the given reason, and the reason to
// report (ReasonFleet or ReasonStore when another instance issued it). It
// runs on the source's flight goroutine; ctx ends with the source.
//
// gen is the token's generation in the record, 0 for a token of this
// instance's own; the TokenSource keeps it with the token and installs the
// result unless, while obtain ran, the watch loop installed a newer
// generation (see fleetNewer).
func (f *fleet) obtain(ctx context.Context, reason TokenReason, old *Token) (fleetToken, error) {
	start := f.c.clock.now()
	for {
		wake := f.noticeChan()
		rec, err := f.read(ctx)
		if err != nil {
			return f.mintLocal(ctx, reason, old, err)
		}
		if ft, ok := f.usable(rec, reason, old, start); ok {
			return ft, nil
		}
		f.lockMu.Lock()
		switch err := f.lock(ctx, f.id); {
		case errors.Is(err, ErrLocked):
			// Another instance is getting a token: wait for its Put.
			f.lockMu.Unlock()
			t := time.NewTimer(fleetLockPoll)
			select {
			case <-wake:
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return fleetToken{}, ctx.Err()
			}
			t.Stop()
			continue
		case err != nil:
			f.lockMu.Unlock()
			return f.mintLocal(ctx, reason, old, err)
		}
		ft, err := f.obtainLocked(ctx, reason, old, start)
		f.unlock(ctx, f.id)
		f.lockMu.Unlock()
		return ft, err
	}
}

// obtainLocked is obtain's part under the lock: read again, then request a
// token and store it as the next generation.
func (f *fleet) obtainLocked(ctx context.Context, reason TokenReason, old *Token, start time.Time) (fleetToken, error) {
	rec, err := f.read(ctx)
	if err != nil {
		return f.mintLocal(ctx, reason, old, err)
	}
	if ft, ok := f.usable(rec, reason, old, start); ok {
		return ft, nil
	}
	rejections, err := f.rejectionStep(rec, reason)
	if err != nil {
		return fleetToken{}, err
	}
	tok, err := f.mint(ctx)
	if err != nil {
		if reason == ReasonRejected && rec != nil && old != nil && !rec.Rejected && rec.Token.AccessToken == old.AccessToken {
			// No replacement for now: flag the rejected token, under the
			// lock this instance holds, so that no start takes it.
			rec.Rejected = true
			_ = f.write(ctx, rec)
		}
		return fleetToken{}, err
	}
	f.mu.Lock()
	heldGen := f.held.gen
	f.mu.Unlock()
	next := f.nextRecord(rec, tok, heldGen, f.c.clock.now())
	next.Rotated, next.Rejections = reason == ReasonRotate, rejections
	if err := f.write(ctx, next); err != nil {
		f.setLocal(tok)
		return fleetToken{tok: tok, why: reason}, nil
	}
	f.setHeld(tok, next.Gen)
	f.mu.Lock()
	f.minted = tok.AccessToken
	f.mu.Unlock()
	f.noteRetired(next)
	f.c.logDebug(ctx, "cryptofuse: fleet token stored", slog.String("token", Fingerprint(tok.AccessToken)),
		slog.Uint64("gen", next.Gen), slog.Int("retired", len(next.Retired)))
	return fleetToken{tok: tok, gen: next.Gen, issued: next.Issued, why: reason}, nil
}

// usable returns the record's token when this instance may use it instead
// of requesting one: it has not expired, and it is not old, or, for Rotate,
// a Rotate stored it within fleetRotateWindow. It records it as held.
func (f *fleet) usable(rec *record, reason TokenReason, old *Token, start time.Time) (fleetToken, bool) {
	if rec == nil {
		return fleetToken{}, false
	}
	t, now := rec.Token, f.c.clock.now()
	switch {
	case !alive(t, now), rec.Rejected:
		return fleetToken{}, false
	case reason == ReasonRotate:
		// Rotations of several instances at once make one token: the
		// record's, when a Rotate of another instance stored it within
		// fleetRotateWindow, also when this instance already adopted it.
		// Two Rotates of one instance make two tokens.
		if !rec.Rotated || rec.Issued.Before(start.Add(-fleetRotateWindow)) || t.AccessToken == f.lastMinted() {
			return fleetToken{}, false
		}
	case old != nil && t.AccessToken == old.AccessToken:
		return fleetToken{}, false
	}
	f.setHeld(t, rec.Gen)
	f.noteRetired(rec)
	ft := fleetToken{tok: t, gen: rec.Gen, issued: rec.Issued, why: ReasonFleet}
	if old == nil && reason != ReasonRotate && rec.Issued.Before(start) {
		ft.why = ReasonStore // loaded at start, as without a fleet
	}
	return ft, true
}

// mint requests a token from the server, bounded by fleetMintTimeout.
func (f *fleet) mint(ctx context.Context) (*Token, error) {
	ctx, cancel := context.WithTimeout(ctx, fleetMintTimeout)
	defer cancel()
	return f.c.Token(ctx)
}

// mintLocal requests a token of this instance's own, because the store
// failed (cause): callers see no error while the token endpoint answers.
// An instance whose old token is still valid for fleetLocalMargin and that
// was not asked to Rotate keeps it instead: it returns an error, the
// TokenSource keeps handing out old and tries again after its backoff, so
// that a short outage of the store costs no token.
func (f *fleet) mintLocal(ctx context.Context, reason TokenReason, old *Token, cause error) (fleetToken, error) {
	if reason != ReasonRotate && reason != ReasonRejected && old != nil &&
		(old.Expiry.IsZero() || old.Expiry.Sub(f.c.clock.now()) > fleetLocalMargin) {
		return fleetToken{}, &plainError{msg: "shared store unavailable; the current token is kept", err: cause}
	}
	f.c.logDebug(ctx, "cryptofuse: shared store unavailable; requesting a token of this instance's own")
	tok, err := f.mint(ctx)
	if err != nil {
		return fleetToken{}, err
	}
	f.setLocal(tok)
	return fleetToken{tok: tok, why: reason}, nil
}
