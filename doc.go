// Package cryptofuse is a client for Cryptofuse's OAuth2 token endpoints: it
// revokes tokens (OAuth 2.0 Token Revocation, RFC 7009) and issues and rotates
// a service's own token with the client credentials grant (RFC 6749 §4.4).
//
// A [Client] holds the service's client credentials and sends them with HTTP
// Basic authentication, form-encoded as RFC 6749 §2.3.1 requires. It is safe
// for concurrent use and meant to be built once and shared:
//
//	c, err := cryptofuse.NewClient(id, secret)
//	...
//	err = c.Revoke(ctx, accessToken, cryptofuse.AccessTokenHint)
//
// Every answer that is not a success is an [*Error], which [errors.Is] matches
// against the RFC 6749 §5.2 error codes ([ErrInvalidClient] and the others).
// Transport failures wrap their cause, so errors.Is(err,
// context.DeadlineExceeded) works. No error, and no formatting of a [Client] or
// a [Token], ever contains the client secret or a token.
//
// Calls retry what a later attempt can fix (a dropped connection, 429, 503
// and, for Revoke, other 5xx), with jittered backoff and Retry-After, within
// the context's deadline; see [RetryPolicy]. [WithLogger] logs each attempt;
// without it the package logs nothing.
//
// The package cryptofusetest provides an in-memory fake server for tests,
// which can also inject faults.
package cryptofuse
