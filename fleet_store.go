package cryptofuse

import (
	"context"
	"errors"
	"time"
)

// The fleet's calls to its SharedStore. Each has a deadline
// (fleetStoreTimeout), runs on a goroutine of its own so that a store that
// ignores its ctx cannot hang the caller, and recovers a panic of the store
// as an error. Each is reported to Hooks.Store.

// call runs one store call.
func (f *fleet) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	_, err := storeCall(f, ctx, op, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })
	return err
}

// storeCall runs one store call that returns a value, and reports it.
func storeCall[T any](f *fleet, ctx context.Context, op string, fn func(ctx context.Context) (T, error)) (T, error) {
	start := f.c.clock.now()
	v, err := storeRun(f, ctx, op, fn)
	out := StoreOK
	switch {
	case errors.Is(err, ErrStoreMiss):
		out = StoreMiss
	case errors.Is(err, ErrLocked):
		out = StoreLocked
	case err != nil:
		out = StoreError
	}
	f.report(op, out, start, err)
	return v, err
}

// report tells Hooks.Store of a store call.
func (f *fleet) report(op string, out StoreOutcome, start time.Time, err error) {
	if h := f.c.hooks.Store; h != nil {
		ev := StoreEvent{ClientID: f.c.clientID, Op: op, Outcome: out, Duration: f.c.clock.now().Sub(start), Err: err}
		f.host.bgHook("Store", func() { h(ev) })
	}
}

// storeRun runs one store call that returns a value. The value travels
// with the error over a channel, so that a call that returns after its
// deadline writes nothing the caller reads.
func storeRun[T any](f *fleet, ctx context.Context, op string, fn func(ctx context.Context) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ctx, cancel := context.WithTimeout(ctx, fleetStoreTimeout)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		defer func() {
			if recover() != nil {
				done <- result{err: &plainError{msg: "store: " + op + " panicked"}}
			}
		}()
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r.err = &plainError{msg: "store: " + op, err: ctx.Err()}
	}
	return r.v, r.err
}

// read returns the record, nil when there is none or it does not open (a
// record this client cannot use is a miss, replaced by the next Put), and
// an error only when the store failed.
func (f *fleet) read(ctx context.Context) (*record, error) {
	start := f.c.clock.now()
	data, err := storeRun(f, ctx, "get", func(ctx context.Context) ([]byte, error) { return f.store.Get(ctx, f.key) })
	switch {
	case errors.Is(err, ErrStoreMiss):
		f.report("get", StoreMiss, start, nil)
		return nil, nil
	case err != nil:
		f.report("get", StoreError, start, err)
		f.c.logWarn(ctx, "cryptofuse: reading the shared store failed", err)
		return nil, err
	}
	rec, err := f.c.openRecord(f.key, data)
	if err != nil || rec.Token == nil || !wireSafe(rec.Token.AccessToken) {
		f.report("get", StoreUnusable, start, nil)
		f.c.logDebug(ctx, "cryptofuse: shared record not usable; it will be replaced")
		return nil, nil
	}
	f.report("get", StoreHit, start, nil)
	return rec, nil
}

// write seals rec and puts it under the key.
func (f *fleet) write(ctx context.Context, rec *record) error {
	data, err := f.c.sealRecord(f.key, rec)
	if err == nil {
		err = f.call(ctx, "put", func(ctx context.Context) error { return f.store.Put(ctx, f.key, data) })
	}
	if err != nil {
		f.c.logWarn(ctx, "cryptofuse: writing the shared store failed", err)
	}
	return err
}

// lock takes the fleet lock for fleetLockTTL as owner: f.id to store a
// token (obtain, publish: one at a time in this process, under f.lockMu),
// f.id+"-sweep" to revoke (sweep, leave), so that the two exclude each other
// like any two instances do.
func (f *fleet) lock(ctx context.Context, owner string) error {
	err := f.call(ctx, "lock", func(ctx context.Context) error { return f.store.Lock(ctx, f.key, owner, fleetLockTTL) })
	if err != nil && !errors.Is(err, ErrLocked) {
		f.c.logWarn(ctx, "cryptofuse: locking the shared store failed", err)
	}
	return err
}

// unlock releases the lock, also after ctx ended (Close): a lock left
// behind would hold the others back for its ttl.
func (f *fleet) unlock(ctx context.Context, owner string) {
	ctx = context.WithoutCancel(ctx)
	if err := f.call(ctx, "unlock", func(ctx context.Context) error { return f.store.Unlock(ctx, f.key, owner) }); err != nil {
		f.c.logWarn(ctx, "cryptofuse: unlocking the shared store failed", err)
	}
}

// jitterDown returns d less a random part of up to d/n.
func (f *fleet) jitterDown(d time.Duration, n int64) time.Duration {
	if q := int64(d) / n; q > 0 {
		return d - time.Duration(f.c.clock.jitter(q))
	}
	return d
}
