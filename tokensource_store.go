package cryptofuse

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// A TokenSource's calls to its Store. The store is trusted with nothing: each
// call runs on a goroutine of its own under a deadline, and the caller stops
// waiting at the deadline even when the store ignores its ctx; a panic in
// the store is recovered. Either way the call costs a logged failure, never
// a hung Token, Rotate or Close, never a crashed process. What the store
// returns is opened and checked before use.

// storeTimeout bounds every store call (and never extends the caller's
// deadline).
const storeTimeout = 5 * time.Second

// errStorePanic and errStoreTimeout are the errors of a store call that
// panicked, or that did not return by its deadline.
var (
	errStorePanic   = &plainError{msg: "store: the store panicked"}
	errStoreTimeout = &plainError{msg: "store: no answer before the deadline", err: context.DeadlineExceeded}
)

// storeCall runs call on a goroutine of its own with ctx bounded by
// storeTimeout, and returns its error, or an error as soon as the deadline
// passes or ctx is done. A panic in call is recovered as an error. The
// goroutine is counted in ts.storeWG, which Close waits for (within its
// ctx and storeTimeout): a store that honours its ctx is done by then. The
// goroutine of a call that ignores its ctx and never returns is left
// behind: nothing can end it.
func (ts *TokenSource) storeCall(ctx context.Context, call func(context.Context) error) (err error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	done := make(chan error, 1)
	ts.storeWG.Add(1)
	go func() {
		defer ts.storeWG.Done()
		defer func() {
			if r := recover(); r != nil {
				done <- errStorePanic
			}
		}()
		done <- call(ctx)
	}()
	select {
	case err = <-done:
		return err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return errStoreTimeout
		}
		return &plainError{msg: "store", err: ctx.Err()}
	}
}

// storeDoing names a store call in a log line.
var storeDoing = map[string]string{"get": "loading the stored token", "put": "saving the token", "delete": "deleting the stored token"}

// storeEvent logs a failed store call and reports every call to the Store
// hook (recovering its panic: store calls run on background goroutines, or
// in Close).
func (ts *TokenSource) storeEvent(op string, outcome StoreOutcome, start time.Time, err error, attrs ...slog.Attr) {
	if err != nil {
		ts.c.logWarn(ts.ctx, "cryptofuse: "+storeDoing[op]+" failed", err, append(attrs, slog.String("op", op))...)
	}
	if h := ts.c.hooks.Store; h != nil {
		ev := StoreEvent{ClientID: ts.c.clientID, Op: op, Outcome: outcome, Duration: ts.c.clock.now().Sub(start), Err: err}
		ts.bgHook("Store", func() { h(ev) })
	}
}

// load returns the stored token and when it was issued, if the record opens
// for this client, origin and scope set, and holds a token the wire can
// carry, with a sane expiry still ahead; else nil (a miss, replaced by the
// next token saved).
func (ts *TokenSource) load() (*Token, time.Time) {
	start := ts.c.clock.now()
	var data []byte
	err := ts.storeCall(ts.ctx, func(ctx context.Context) error {
		var err error
		data, err = ts.policy.Store.Get(ctx, ts.key)
		return err
	})
	switch {
	case errors.Is(err, ErrStoreMiss):
		ts.storeEvent("get", StoreMiss, start, nil)
		return nil, time.Time{}
	case err != nil:
		ts.storeEvent("get", StoreError, start, err)
		return nil, time.Time{}
	}
	r, err := ts.c.openRecord(ts.key, data)
	if err == nil {
		err = ts.usable(r, ts.c.clock.now())
	}
	if err != nil {
		ts.c.logDebug(ts.ctx, "cryptofuse: stored token not used", slog.String("why", err.Error()))
		ts.storeEvent("get", StoreUnusable, start, nil)
		return nil, time.Time{}
	}
	ts.storeEvent("get", StoreHit, start, nil)
	// A copy: nothing the store or a later call does reaches the caller's.
	tok := *r.Token
	issued := r.Issued
	if issued.IsZero() && tok.ExpiresIn > 0 {
		issued = tok.Expiry.Add(-time.Duration(tok.ExpiresIn) * time.Second)
	}
	return &tok, issued
}

// errUnusable is the cause of a record that opened but cannot be used.
var errUnusable = &plainError{msg: "stored token not usable"}

// usable checks an opened record beyond what openRecord checks.
func (ts *TokenSource) usable(r *record, now time.Time) error {
	bad := func(why string) error { return &plainError{msg: why, err: errUnusable} }
	tok := r.Token
	switch {
	case r.Origin != ts.c.baseURL || r.ClientID != ts.c.clientID:
		return bad("another client's record")
	case tok == nil || !wireSafe(tok.AccessToken):
		return bad("a token the wire cannot carry")
	case tok.Expiry.IsZero():
		return bad("no expiry: no telling how old it is")
	case tok.ExpiresIn < 0 || tok.ExpiresIn > maxExpiresIn:
		return bad("expires_in out of range")
	case !now.Before(tok.Expiry):
		return bad("expired")
	case tok.Expiry.Sub(now) > time.Duration(maxExpiresIn)*time.Second:
		return bad("expiry out of range")
	}
	return nil
}

// writeStore makes the store hold e's token (put) or no token (del, when e
// was revoked or rejected). Writes run one at a time, in the order of the
// tokens: a write for an older token than the newest written is skipped,
// so that a late put never brings back a replaced token, and a delete
// never removes a newer one. ctx bounds the wait for an earlier write too.
func (ts *TokenSource) writeStore(ctx context.Context, e *entry, del bool) {
	op := "put"
	if del {
		op = "delete"
	}
	select {
	case ts.storeLock <- struct{}{}:
	case <-ctx.Done():
		ts.storeEvent(op, StoreError, ts.c.clock.now(), &plainError{msg: "store: waiting for an earlier write", err: ctx.Err()}, slog.String("token", e.fp))
		return
	}
	start := ts.c.clock.now()
	wrote, err := ts.writeLocked(ctx, e, del)
	<-ts.storeLock
	// The log and the hook run once the lock is released.
	switch {
	case err != nil:
		ts.storeEvent(op, StoreError, start, err, slog.String("token", e.fp))
	case wrote:
		ts.storeEvent(op, StoreOK, start, nil)
	}
}

// writeLocked is writeStore's call to the store; the caller holds
// storeLock. It reports whether it called the store.
func (ts *TokenSource) writeLocked(ctx context.Context, e *entry, del bool) (bool, error) {
	if e.seq < ts.savedSeq || (!del && (e.seq == ts.savedSeq || e.reason == ReasonStore)) {
		return false, nil // a newer token was written, or this one is what the store holds
	}
	var err error
	if del {
		err = ts.storeCall(ctx, func(ctx context.Context) error { return ts.policy.Store.Delete(ctx, ts.key) })
	} else {
		var data []byte
		data, err = ts.c.sealRecord(ts.key, &record{Token: e.tok, Issued: e.issued})
		if err == nil {
			err = ts.storeCall(ctx, func(ctx context.Context) error { return ts.policy.Store.Put(ctx, ts.key, data) })
		}
	}
	if err != nil {
		return true, err
	}
	ts.savedSeq = e.seq
	return true, nil
}
