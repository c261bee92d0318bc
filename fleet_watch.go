package cryptofuse

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// run is the fleet's goroutine of one TokenSource, until ctx ends (Close):
// it watches the record and reads it on every change notice and, without
// one, every fleetPoll (jittered), adopting a newer generation; it sweeps
// the retired tokens when the earliest revoke_at it saw has passed; and,
// with RevokeOnClose, it renews this instance's membership every third of
// fleetMemberTTL.
func (f *fleet) run(ctx context.Context) {
	watchRetry := time.NewTimer(0)
	poll := time.NewTimer(f.jitterDown(fleetPoll, 10))
	sweep := time.NewTimer(time.Hour)
	sweep.Stop()
	var join *time.Timer
	var joinC <-chan time.Time
	if f.revokeOnClose {
		f.join(ctx)
		join = time.NewTimer(fleetMemberTTL / 3)
		joinC = join.C
	}
	// Sweeps run beside the loop, one at a time, so that revocations
	// never hold back the switch.
	var sweeping sync.WaitGroup
	swept := make(chan struct{}, 1)
	busy := false
	defer sweeping.Wait()
	defer func() {
		watchRetry.Stop()
		poll.Stop()
		sweep.Stop()
		if join != nil {
			join.Stop()
		}
	}()
	var watch <-chan struct{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-watchRetry.C:
			ch, err := f.watch(ctx)
			if err != nil {
				watchRetry.Reset(f.jitterDown(fleetPoll, 10))
				continue
			}
			watch = ch
			f.refresh(ctx) // what changed before the watch began
		case _, ok := <-watch:
			if !ok {
				// The store ended the watch: poll until it is back.
				watch = nil
				watchRetry.Reset(f.jitterDown(fleetPoll, 10))
				continue
			}
			f.noticed()
			f.refresh(ctx)
		case <-poll.C:
			f.refresh(ctx)
			poll.Reset(f.jitterDown(fleetPoll, 10))
		case <-joinC:
			f.join(ctx)
			join.Reset(fleetMemberTTL / 3)
		case <-f.poke:
			f.scheduleSweep(sweep)
		case <-sweep.C:
			if busy {
				continue // the sweep under way reschedules
			}
			busy = true
			sweeping.Go(func() {
				// Close lets the revocations under way finish.
				f.sweep(ctx, f.host.finishing())
				swept <- struct{}{}
			})
		case <-swept:
			busy = false
			f.scheduleSweep(sweep)
		}
	}
}

// watch asks the store for change notices of the key. The channel lives
// with ctx, not with the call's deadline.
func (f *fleet) watch(ctx context.Context) (<-chan struct{}, error) {
	ch, err := storeCall(f, ctx, "watch", func(context.Context) (<-chan struct{}, error) { return f.store.Watch(ctx, f.key) })
	if err != nil {
		f.c.logWarn(ctx, "cryptofuse: watching the shared store failed; polling", err)
	}
	return ch, err
}

// refresh reads the record and adopts its token when it is another token of
// the generation this instance holds or a newer one, or when this instance holds
// a token of its own and another instance stored one since: that is the
// switch. An instance that holds a token of its own and finds no newer
// record (the store is back) stores its token for the others (publish).
func (f *fleet) refresh(ctx context.Context) {
	rec, err := f.read(ctx)
	if err != nil {
		return
	}
	f.mu.Lock()
	h := f.held
	f.mu.Unlock()
	if h.tok == nil {
		return
	}
	if h.local && (rec == nil || rec.Gen <= h.gen) {
		f.publish(ctx, h)
		return
	}
	if rec == nil {
		return
	}
	f.noteRetired(rec)
	t := rec.Token
	if t.AccessToken == h.tok.AccessToken || (rec.Gen < h.gen && !h.local) || !alive(t, f.c.clock.now()) {
		return
	}
	if !f.host.adopt(fleetToken{tok: t, gen: rec.Gen, issued: rec.Issued, why: ReasonFleet}) {
		return
	}
	f.mu.Lock()
	if f.held == h {
		f.held = held{tok: t, gen: rec.Gen}
	}
	f.mu.Unlock()
	f.c.logDebug(ctx, "cryptofuse: fleet token adopted", slog.String("token", Fingerprint(t.AccessToken)), slog.Uint64("gen", rec.Gen))
}

// publish stores h's token, which this instance got on its own while the
// store failed, as the fleet's next generation, unless another instance
// stored one first. The record's token it replaces is retired.
func (f *fleet) publish(ctx context.Context, h held) {
	f.lockMu.Lock()
	defer f.lockMu.Unlock()
	if f.lock(ctx, f.id) != nil {
		return
	}
	defer f.unlock(ctx, f.id)
	rec, err := f.read(ctx)
	f.mu.Lock()
	same := f.held == h
	f.mu.Unlock()
	now := f.c.clock.now()
	if err != nil || !same || (rec != nil && rec.Gen > h.gen) || !alive(h.tok, now) {
		return
	}
	next := f.nextRecord(rec, h.tok, h.gen, now)
	if f.write(ctx, next) != nil {
		return
	}
	f.localMu.Lock()
	delete(f.local, h.tok.AccessToken)
	f.localMu.Unlock()
	f.mu.Lock()
	if f.held == h {
		f.held = held{tok: h.tok, gen: next.Gen}
	}
	f.mu.Unlock()
	f.noteRetired(next)
	f.c.logDebug(ctx, "cryptofuse: fleet token stored", slog.String("token", Fingerprint(h.tok.AccessToken)),
		slog.Uint64("gen", next.Gen), slog.String("reason", "store back"))
}

// join renews this instance's membership (RevokeOnClose only).
func (f *fleet) join(ctx context.Context) {
	if err := f.call(ctx, "join", func(ctx context.Context) error { return f.store.Join(ctx, f.key, f.id, fleetMemberTTL) }); err != nil {
		f.c.logWarn(ctx, "cryptofuse: joining the fleet in the shared store failed", err)
	}
}

// noteRetired remembers the earliest revoke_at of rec's retired tokens, and
// wakes the watch loop when it moved earlier.
func (f *fleet) noteRetired(rec *record) {
	var at time.Time
	for _, r := range rec.Retired {
		if !r.RevokeAt.IsZero() && (at.IsZero() || r.RevokeAt.Before(at)) {
			at = r.RevokeAt
		}
	}
	f.sweepMu.Lock()
	earlier := !at.IsZero() && (f.sweepAt.IsZero() || at.Before(f.sweepAt))
	if earlier {
		f.sweepAt = at
	}
	f.sweepMu.Unlock()
	if earlier {
		select {
		case f.poke <- struct{}{}:
		default:
		}
	}
}

// scheduleSweep sets t to fire at the earliest revoke_at seen, plus a
// random delay of up to fleetSweepJitter, so that the instances of a fleet
// do not all reach for the lock at once.
func (f *fleet) scheduleSweep(t *time.Timer) {
	f.sweepMu.Lock()
	at := f.sweepAt
	f.sweepMu.Unlock()
	t.Stop()
	if at.IsZero() {
		return
	}
	d := at.Sub(f.c.clock.now()) + fleetSweepJitter - f.jitterDown(fleetSweepJitter, 1)
	t.Reset(max(d, 0))
}
