package cryptofuse

import (
	"context"
	"fmt"
	"log/slog"
)

// A TokenSource's log lines and hook events. Every line that concerns a
// token names it by its Fingerprint, never by its value. None of these is
// ever called while a lock is held.

// logDebug and logWarn write a TokenSource's log lines through the client's
// logger, if any. Their attributes never hold a token.
func (c *Client) logDebug(ctx context.Context, msg string, attrs ...slog.Attr) {
	if c.logger != nil {
		c.logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
	}
}

func (c *Client) logWarn(ctx context.Context, msg string, err error, attrs ...slog.Attr) {
	if c.logger != nil {
		c.logger.LogAttrs(ctx, slog.LevelWarn, msg, append(attrs, slog.String("error", err.Error()))...)
	}
}

// errHookPanic is logged when a hook panicked on a background goroutine.
var errHookPanic = &plainError{msg: "hook panicked"}

// bgHook runs call, a hook, on one of the TokenSource's background
// goroutines: a panic is recovered and logged, so that a hook cannot crash
// the process. The panic's value is not logged: it might hold anything.
func (ts *TokenSource) bgHook(name string, call func()) {
	defer func() {
		if r := recover(); r != nil {
			ts.c.logWarn(ts.ctx, "cryptofuse: a hook panicked; recovered", errHookPanic,
				slog.String("hook", name), slog.String("panic_type", fmt.Sprintf("%T", r)))
		}
	}()
	call()
}

// revoked reports a revocation of the token with fingerprint fp: when is
// "revoke_after" or "close"; bg says whether this runs on a background
// goroutine (a hook's panic is then recovered).
func (ts *TokenSource) revoked(fp, when string, err error, bg bool) {
	if err != nil {
		msg := "cryptofuse: revoking a token failed; Close retries it"
		if when == "close" {
			msg = "cryptofuse: revoking a token on Close failed; it is left to expire"
		}
		ts.c.logWarn(ts.ctx, msg, err, slog.String("token", fp), slog.String("when", when))
	} else {
		ts.c.logDebug(ts.ctx, "cryptofuse: token revoked", slog.String("when", when), slog.String("token", fp))
	}
	h := ts.c.hooks.Revoked
	if h == nil {
		return
	}
	ev := RevokeEvent{ClientID: ts.c.clientID, Fingerprint: fp, When: when, Err: err}
	if bg {
		ts.bgHook("Revoked", func() { h(ev) })
	} else {
		h(ev)
	}
}

// Format implements [fmt.Formatter]. Every verb prints the same summary:
// the client's base URL and id and the policy, never a token, the client
// secret or the Store's fields. It reads only what never changes after
// [Client.TokenSource], so it never races with background work.
//
// Its receiver is a value, as [Client.Format]'s is, so that formatting a
// TokenSource value (fmt.Print(*ts)) calls it too.
func (ts TokenSource) Format(f fmt.State, verb rune) {
	var base, id string
	if ts.c != nil {
		base, id = ts.c.baseURL, ts.c.clientID
	}
	fmt.Fprintf(f, "cryptofuse.TokenSource{BaseURL:%q, ClientID:%q, Policy:%v}", base, id, ts.policy)
}

// Format implements [fmt.Formatter]. Every verb prints the durations, the
// flags and the Store's type, never the Store itself, whose fields (a
// connection string, say) may hold a credential.
func (p TokenPolicy) Format(f fmt.State, verb rune) {
	store := "nil"
	if p.Store != nil {
		store = fmt.Sprintf("%T", p.Store)
	}
	fmt.Fprintf(f, "cryptofuse.TokenPolicy{RefreshBefore:%v, MaxAge:%v, RevokeAfter:%v, RevokeOnClose:%t, Store:%s, Introspect403:%t}",
		p.RefreshBefore, p.MaxAge, p.RevokeAfter, p.RevokeOnClose, store, p.Introspect403)
}

// LogValue implements [slog.LogValuer]: a TokenSource logged with any
// handler (JSON included) is the summary Format prints.
func (ts TokenSource) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(ts)) }

// LogValue implements [slog.LogValuer]: a TokenPolicy logged with any
// handler (JSON included) is the summary Format prints, never its Store's
// fields.
func (p TokenPolicy) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(p)) }
