package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cryptofuse/cryptofuse-go/internal/wire"
)

// revoke -verify: after each revocation, ask the server's token
// introspection endpoint (RFC 7662) whether the token is still active.
//
// A 200 from the revocation endpoint proves little: RFC 7009 §2.2 has the
// server answer 200 for a token it does not know, and django-oauth-toolkit
// 3.x (RFC 7009 §2.1's ownership check) answers 200 for another client's
// token while leaving it valid. An operator revoking leaked tokens with an
// operations client's credentials would be told that every token was
// revoked while all of them stay valid. Introspection is the check.

// introspectPath is django-oauth-toolkit's introspection endpoint.
const introspectPath = wire.IntrospectPath

// probeToken is what the probe asks about: no token of any server (it has
// a space, which no bearer token has), so a working endpoint answers
// {"active": false}.
const probeToken = "cryptofuse verify probe"

// Reasons of -verify failures, as the summary counts them.
const (
	reasonStillActive = "still active after revoke"
	reasonNotVerified = "not verified"
)

// introspector asks the introspection endpoint about tokens with the
// client's credentials (wire.Active). It is safe for concurrent use.
type introspector struct {
	s  settings
	hc *http.Client
}

// newIntrospector returns an introspector for the client s describes, sending
// through transport and never following a redirect (it could carry the
// credentials elsewhere).
func newIntrospector(s settings, transport http.RoundTripper) *introspector {
	return &introspector{s: s, hc: &http.Client{Transport: transport, CheckRedirect: wire.RefuseRedirect}}
}

// probe checks, before any token is revoked, that the endpoint exists and
// answers these credentials.
func (in *introspector) probe(ctx context.Context) error {
	active, err := in.active(ctx, probeToken)
	if errors.Is(err, wire.ErrNoIntrospection) {
		return fmt.Errorf("%w, so -verify cannot check anything", err)
	}
	if err != nil {
		return err
	}
	if active {
		return errors.New("the introspection endpoint says a made-up token is active: its answers cannot be trusted")
	}
	return nil
}

// active reports whether the server says token is active. Its errors name
// no token and no secret.
func (in *introspector) active(ctx context.Context, token string) (bool, error) {
	return wire.Active(ctx, in.hc, in.s.baseURL, in.s.clientID, in.s.clientSecret, token)
}

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
