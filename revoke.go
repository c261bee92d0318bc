package cryptofuse

import (
	"context"
	"net/url"
)

// TokenTypeHint tells the server what kind of token is being revoked
// (RFC 7009 §2.1). The server may use it to speed up its look-up; it still
// revokes a token of the other kind.
type TokenTypeHint string

// The token type hints that RFC 7009 §2.1 defines. Revoke sends any other
// value as given, since RFC 7009 allows extensions; "" sends none.
const (
	AccessTokenHint  TokenTypeHint = "access_token"
	RefreshTokenHint TokenTypeHint = "refresh_token"
)

// Revoke revokes token with POST {base}/o/revoke_token/ (RFC 7009 §2.1).
// hint is sent as token_type_hint unless it is "".
//
// A nil error means the server answered 2xx. For a token issued to this
// client, that means the token is no longer valid. RFC 7009 §2.2 has the
// server answer the same way for a token that was unknown, expired or
// already revoked, so revoking twice is not an error. It also proves nothing
// for another client's token: django-oauth-toolkit 3.x answers 200 and leaves
// that token valid (RFC 7009 §2.1 has the server check that the token was
// issued to the client revoking it), where 1.7.0 revokes it. To know that a
// token is dead, use [Client.RevokeAndVerify], which asks the server's
// introspection endpoint (RFC 7662) afterwards, as "cryptofuse revoke
// -verify" does.
//
// A logout that holds a refresh token should revoke it, with
// [RefreshTokenHint]: that revokes its access token too, on every server
// version. Revoking only the access token leaves the refresh token
// unrevoked on django-oauth-toolkit 1.7.0 (3.x revokes both).
// Otherwise the error is an [*Error] for an answer (errors.Is matches
// [ErrInvalidClient] and the others), or wraps the transport failure or the
// context's error.
//
// Revoke sends nothing, and returns [ErrEmptyToken], for an empty token, and
// an error wrapping [ErrMalformedToken] for what plainly is not a token: an
// authentication scheme and white space in front ("Bearer …", "bearer …",
// "Basic …", "DPoP …", "MAC …", in any case), white space at either end
// (Unicode's, a BOM or a zero-width space included) or a control character
// anywhere. The server would answer 200 to such a string and leave the real
// token valid. Any other string is sent as given (inner spaces, JWTs,
// non-ASCII letters): the server decides.
//
// Revoke retries, under the client's [RetryPolicy], a connection that failed
// before an answer and the statuses 429, 500, 502, 503 and 504: revoking is
// idempotent, so a second attempt is harmless. An error after retries is the
// last attempt's.
//
// Revoke is safe for concurrent use. The token never appears in an error.
func (c *Client) Revoke(ctx context.Context, token string, hint TokenTypeHint) error {
	if err := checkToken(token); err != nil {
		return err
	}
	_, _, err := c.send(ctx, call{op: opRevoke, endpoint: c.revokeURL, form: revokeForm(token, hint), sent: token})
	return err
}

// revokeForm is the revocation request body: token=…[&token_type_hint=…].
func revokeForm(token string, hint TokenTypeHint) string {
	if hint == "" {
		return "token=" + url.QueryEscape(token)
	}
	return "token=" + url.QueryEscape(token) + "&token_type_hint=" + url.QueryEscape(string(hint))
}
