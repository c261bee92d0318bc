// Package cryptofuse is a client for Cryptofuse's OAuth2 token endpoints: it
// revokes tokens (OAuth 2.0 Token Revocation, RFC 7009), checks them (Token
// Introspection, RFC 7662), and issues, rotates and manages a service's own
// token with the client credentials grant (RFC 6749 §4.4). At run time it uses
// only the standard library.
//
// # Client: revoke, issue, rotate, introspect
//
// A [Client] holds the service's client credentials and sends them with HTTP
// Basic authentication, form-encoded as RFC 6749 §2.3.1 requires. It is
// immutable, safe for concurrent use, and meant to be built once and shared:
//
//	c, err := cryptofuse.NewClient(id, secret)
//	...
//	err = c.Revoke(ctx, accessToken, cryptofuse.AccessTokenHint)
//
// [Client.Revoke] revokes a token (a logout handler reads it with
// [BearerToken]); [Client.RevokeAndVerify] also asks the server whether the
// token is now inactive, and returns [ErrStillActive] when a server answered
// 200 but kept it. [Client.Introspect] reports a token's state as an
// [Introspection]. [Client.Token] issues a client-credentials [Token], and
// [Client.RotateToken] replaces one.
//
// # Managed tokens: TokenSource
//
// A service that calls the API needs a valid token on every call. A
// [TokenSource] ([Client.TokenSource]) keeps one: while it is fresh,
// [TokenSource.Token] does no I/O and allocates nothing; it is refreshed in the
// background before it expires without stalling callers, replaced on a
// schedule ([TokenPolicy].MaxAge) or on [TokenSource.Rotate], and each replaced
// token is revoked after a grace period (RevokeAfter), once requests in flight
// with it have finished. [TokenSource.Transport] adds the token to every
// request for the client's own origin, and replaces it and replays the request
// after a 401. [TokenSource.Close] stops everything and, with RevokeOnClose,
// revokes what it holds.
//
// # Stores and fleets
//
// A [TokenStore] keeps the token between runs, so that a restart mints
// nothing. Its records are sealed (AES-256-GCM under a key derived from the
// client secret), so a store never sees a token. [DirStore] keeps them in a
// directory. A [SharedStore] adds a lock, change notices and membership, so
// that the TokenSources of every instance of a service share one token: one
// token request per fleet, one switch, each replaced token revoked once by the
// fleet. [DirStore] is one for the processes of one host; the module
// github.com/cryptofuse/cryptofuse-go/redisstore is one on Redis or Valkey,
// and package storetest checks any other.
//
// # Errors
//
// Every answer that is not a success is an [*Error], which [errors.Is] matches
// against the RFC 6749 §5.2 error codes ([ErrInvalidClient] and the others).
// Transport failures wrap their cause, so errors.Is(err,
// context.DeadlineExceeded) works. No error, log line or formatting of any value
// of this package ever contains the client secret or a token.
//
// Calls retry what a later attempt can fix (a dropped connection, 429, 503
// and, for Revoke, other 5xx), with jittered backoff and Retry-After, within
// the context's deadline; see [RetryPolicy].
//
// # Observability
//
// [WithLogger] logs each attempt and each step of a TokenSource; without it
// the package logs nothing. [WithHooks] reports the same events to functions
// of yours ([Hooks]): request attempts, tokens obtained and why, store calls,
// invalidations and revocations, with tokens named only by [Fingerprint]. The
// module github.com/cryptofuse/cryptofuse-go/otelcryptofuse turns them into
// OpenTelemetry metrics and spans.
//
// # Testing
//
// Package cryptofusetest is a fake of the server for tests: it answers as
// django-oauth-toolkit does, injects faults, and runs inside a testing/synctest
// bubble without a socket, so rotations and backoff are tested in no real
// time. The module github.com/cryptofuse/cryptofuse-go/oauth2adapt adapts a
// TokenSource to golang.org/x/oauth2.
package cryptofuse
