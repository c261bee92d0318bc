package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
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
const introspectPath = "/o/introspect/"

// maxIntrospectBody caps the introspection answer read.
const maxIntrospectBody = 64 << 10

// probeToken is what the probe asks about: no token of any server (it has
// a space, which no bearer token has), so a working endpoint answers
// {"active": false}.
const probeToken = "cryptofuse verify probe"

// Reasons of -verify failures, as the summary counts them.
const (
	reasonStillActive = "still active after revoke"
	reasonNotVerified = "not verified"
)

// errNoIntrospection is the probe's error for a server that has no
// introspection endpoint.
var errNoIntrospection = errors.New("the server has no token introspection endpoint (POST " + introspectPath + " answered 404), so -verify cannot check anything")

// introspector asks the introspection endpoint about tokens, authenticated
// as the client, with each part of the Basic credentials form-encoded (RFC
// 6749 §2.3.1). It is safe for concurrent use.
type introspector struct {
	endpoint string
	id, key  string // the client credentials, form-encoded
	hc       *http.Client
}

// newIntrospector returns an introspector for the client s describes, sending
// through transport and never following a redirect (it could carry the
// credentials elsewhere).
func newIntrospector(s settings, transport http.RoundTripper) *introspector {
	return &introspector{
		endpoint: strings.TrimRight(s.baseURL, "/") + introspectPath,
		id:       url.QueryEscape(s.clientID),
		key:      url.QueryEscape(s.clientSecret),
		hc: &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// probe checks, before any token is revoked, that the endpoint exists and
// answers these credentials.
func (in *introspector) probe(ctx context.Context) error {
	active, err := in.active(ctx, probeToken)
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.endpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return false, errors.New("introspection: cannot build the request")
	}
	req.SetBasicAuth(in.id, in.key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := in.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the endpoint's; the error adds nothing secret, but keep it short
		}
		return false, fmt.Errorf("introspection: %w", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxIntrospectBody))
		resp.Body.Close()
	}()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, errNoIntrospection
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return false, fmt.Errorf("the introspection endpoint refused these client credentials (HTTP %d)", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("the introspection endpoint answered HTTP %d", resp.StatusCode)
	}
	var answer struct {
		Active *bool `json:"active"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxIntrospectBody)).Decode(&answer); err != nil || answer.Active == nil {
		return false, errors.New("the introspection endpoint's answer has no \"active\" field (RFC 7662 §2.2)")
	}
	return *answer.Active, nil
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
