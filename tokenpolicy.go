package cryptofuse

import "time"

// TokenPolicy says how a [TokenSource] keeps its token. The zero value is a
// good policy: refresh 5 minutes before expiry, no age limit, replaced tokens
// left to expire, nothing stored.
//
// A token becomes due (the first caller then starts one refresh in the
// background) at the earlier of two times: RefreshBefore before its expiry,
// and MaxAge after it was issued. When MaxAge is set and RefreshBefore is
// left 0, the default window gives way to MaxAge: for a token whose lifetime
// is longer than MaxAge, the window is shortened so that it never opens
// before MaxAge, and MaxAge alone decides; for a shorter-lived token MaxAge
// never acts and the default window applies. An explicit RefreshBefore is
// kept as it is, and the earlier of the two times wins.
//
// Formatting a TokenPolicy with any fmt verb prints its durations and the
// type of its Store, never the Store's fields.
type TokenPolicy struct {
	// RefreshBefore is how long before expiry the token is refreshed: the
	// first caller inside that window starts one refresh in the background
	// and keeps getting the current token meanwhile. 0 means 5 minutes (but
	// see MaxAge). It is capped at half the token's lifetime and jittered
	// down by up to a quarter, so that many processes do not refresh
	// together.
	RefreshBefore time.Duration
	// MaxAge replaces a token older than this even when it is far from
	// expiry, as a rotation schedule; 0 means no age limit. It is jittered
	// down by up to a quarter (a token is replaced between 3/4 MaxAge and
	// MaxAge after it was issued, never later), so that the instances of a
	// service do not rotate together. A MaxAge below 1 s is an error
	// wrapping [ErrInvalidConfig].
	MaxAge time.Duration
	// RevokeAfter revokes a replaced token (RFC 7009) this long after it was
	// replaced, so that requests still in flight with it can finish; it is
	// never revoked sooner. A token the server rejected (a 401) is handled
	// the same way: a 401 does not prove it dead. 0 leaves replaced tokens
	// to expire.
	RevokeAfter time.Duration
	// RevokeOnClose makes Close revoke the current token and every replaced
	// or rejected one not yet revoked and not yet expired.
	RevokeOnClose bool
	// Store keeps the current token outside the process, sealed (see
	// [TokenStore]): a stored token that still belongs to this client,
	// origin and scope set, can travel in a header and has not expired is
	// used without a request, and every new token is stored, in the
	// background. A token that is revoked on Close or rejected leaves the
	// store. Every store call has a 5 s deadline (never past the caller's)
	// and runs on a goroutine of its own: a store that fails, hangs or
	// panics costs a logged failure (and the wait until the deadline), never
	// a failed or hung call. nil keeps the token in memory only.
	// Over a [SharedStore] ([DirStore] is one), the instances sharing it
	// keep one token as a fleet, within the bounds SharedStore states.
	Store TokenStore
	// Introspect403 makes the [TokenSource.Transport] tell a dead token from
	// a permission denial on a 403 Forbidden from the client's origin, as
	// django-oauth-toolkit's own views (ProtectedResourceView) answer a
	// revoked or expired token where RFC 6750 §3.1 says 401: it asks the
	// server about the token it sent ([Client.Introspect], RFC 7662), at
	// most once per token, and when the server reports it inactive treats
	// the 403 as a 401 (the token is rejected, and the request replayed once
	// with a new token when it can be). A 403 for an active token (a real
	// permission denial), or one the server cannot check, is returned as it
	// is and mints nothing. Off by default: it costs an introspection on the
	// first 403 each token meets.
	Introspect403 bool
}
