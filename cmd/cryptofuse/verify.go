package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// revoke -verify: after each revocation, ask the server's token
// introspection endpoint (RFC 7662) whether the token is still active, with
// cryptofuse.Client.Introspect: the SDK's one request path, with its
// retries, caps and scrubbed errors.
//
// A 200 from the revocation endpoint proves little: RFC 7009 §2.2 has the
// server answer 200 for a token it does not know, and django-oauth-toolkit
// 3.x (RFC 7009 §2.1's ownership check) answers 200 for another client's
// token while leaving it valid. An operator revoking leaked tokens with an
// operations client's credentials would be told that every token was
// revoked while all of them stay valid. Introspection is the check.
//
// The command revokes and introspects in two calls, not with
// Client.RevokeAndVerify, so that its summary tells a failed revocation
// (counted by its reason, and watched by the stopper) from a failed check.

// introspectPath is django-oauth-toolkit's introspection endpoint, as the
// SDK calls it.
const introspectPath = "/o/introspect/"

// probeToken is what the probe asks about: no token of any server (it has
// a space, which no bearer token has), so a working endpoint answers
// {"active": false}.
const probeToken = "cryptofuse verify probe"

// Reasons of -verify failures, as the summary counts them.
const (
	reasonStillActive = "still active after revoke"
	reasonNotVerified = "not verified"
)

// probeIntrospection checks, before any token is revoked, that the
// endpoint exists and answers the client's credentials.
func probeIntrospection(ctx context.Context, client *cryptofuse.Client) error {
	active, err := introspect(client)(ctx, probeToken)
	var e *cryptofuse.Error
	if errors.As(err, &e) && (e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusMethodNotAllowed) {
		return fmt.Errorf("the server has no introspection endpoint (%s), so -verify cannot check anything", introspectPath)
	}
	if err != nil {
		return err
	}
	if active {
		return errors.New("the introspection endpoint says a made-up token is active: its answers cannot be trusted")
	}
	return nil
}

// introspect returns the function that asks client's server whether a
// token is active. Its errors name no token and no secret.
func introspect(client *cryptofuse.Client) func(context.Context, string) (bool, error) {
	return func(ctx context.Context, token string) (bool, error) {
		in, err := client.Introspect(ctx, token)
		if err != nil {
			return false, &introspectionError{err: err}
		}
		return in.Active, nil
	}
}

// introspectionError is a failed introspection, described for a line that
// already says which token it was about.
type introspectionError struct{ err error }

func (e *introspectionError) Error() string {
	var ae *cryptofuse.Error
	if errors.As(e.err, &ae) && ae.StatusCode >= 200 && ae.StatusCode < 300 {
		return fmt.Sprintf("introspection: %d %s: the answer is not a usable introspection answer (RFC 7662 §2.2)", ae.StatusCode, http.StatusText(ae.StatusCode))
	}
	return "introspection: " + explain(e.err)
}

func (e *introspectionError) Unwrap() error { return e.err }

// errStillActive is verifyRevoked's error for a token that the server
// answered 200 to revoke but still says is active.
var errStillActive = errors.New(reasonStillActive + ": the server answered 200 but kept the token (django-oauth-toolkit 3.x does so for another client's token)")

// verifyRevoked asks active about a token just revoked: nil if it is
// inactive, errStillActive if not, and the introspection error otherwise.
func verifyRevoked(ctx context.Context, active func(context.Context, string) (bool, error), token string) error {
	isActive, err := active(ctx, token)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", reasonNotVerified, err)
	case isActive:
		return errStillActive
	}
	return nil
}

// verifyReason is the summary's reason for a verifyRevoked error.
func verifyReason(err error) string {
	if errors.Is(err, errStillActive) {
		return reasonStillActive
	}
	return reasonNotVerified
}
