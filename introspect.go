package cryptofuse

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"time"
)

// Introspection is what the server's introspection endpoint says about a
// token (RFC 7662 §2.2). Only Active is always set; every other field is
// empty, and each time zero, when the server sent none. django-oauth-toolkit
// answers an active client-credentials token with Scope, ClientID and
// Expiry only, and an inactive one with Active false alone.
//
// An Introspection is a plain value, safe for concurrent reads. It holds no
// token.
type Introspection struct {
	Active    bool      // whether the token is currently active (RFC 7662 §2.2 "active", REQUIRED)
	Scope     string    // space-delimited, as on the wire
	ClientID  string    // the client the token was issued to
	Username  string    // the resource owner who authorized it, if any
	TokenType string    // such as "Bearer"
	Expiry    time.Time // "exp": when the token expires
	IssuedAt  time.Time // "iat": when the token was issued
}

// Introspect asks the server whether token is active, with POST
// {base}/o/introspect/ (RFC 7662 §2.1), authenticated with the client's
// credentials like every other call. django-oauth-toolkit answers for any
// registered client about any client's token.
//
// A 2xx answer gives an [*Introspection]. Its Active field is the verdict:
// "active" is REQUIRED (RFC 7662 §2.2), so an answer without it, with a
// non-boolean one, that is not JSON or that carries an RFC 6749 "error"
// member is an [*Error] (Op "introspect"), never a verdict. Any non-2xx
// answer is an *Error with its status: a server without the endpoint gives
// StatusCode 404, and django-oauth-toolkit answers refused credentials with
// 403 and an empty body. Transport failures wrap their cause.
//
// Introspect refuses the tokens [Client.Revoke] refuses, before any request
// is sent: "" with [ErrEmptyToken], and what plainly is not a token (an
// authentication scheme in front, white space at either end, a control
// character) with an error wrapping [ErrMalformedToken].
//
// Introspection changes nothing on the server, so Introspect retries under
// the client's [RetryPolicy] what [Client.Revoke] retries. Introspect is
// safe for concurrent use. The token never appears in an error.
func (c *Client) Introspect(ctx context.Context, token string) (*Introspection, error) {
	if err := checkToken(token); err != nil {
		return nil, err
	}
	status, body, err := c.send(ctx, call{op: opIntrospect, endpoint: c.introspectURL, form: "token=" + url.QueryEscape(token), keepBody: true, sent: token})
	if err != nil {
		return nil, err
	}
	return c.parseIntrospection(status, body, token)
}

// introspectionJSON is an introspection answer on the wire (RFC 7662 §2.2),
// with the error members a misbehaving server may put into a 2xx answer.
type introspectionJSON struct {
	Active    *bool    `json:"active"`
	Scope     string   `json:"scope"`
	ClientID  string   `json:"client_id"`
	Username  string   `json:"username"`
	TokenType string   `json:"token_type"`
	Exp       unixTime `json:"exp"`
	Iat       unixTime `json:"iat"`
	errorJSON
}

// parseIntrospection turns a 2xx introspection answer into an
// Introspection. sent is the token asked about, scrubbed from the error
// members' text.
func (c *Client) parseIntrospection(status int, body []byte, sent string) (*Introspection, error) {
	var j introspectionJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, answerError(opIntrospect, status, "response is not a JSON introspection answer", err)
	}
	if j.Error != "" {
		e := answerError(opIntrospect, status, "", nil)
		j.errorJSON.fill(e, c.scrubber(sent))
		return nil, e
	}
	if j.Active == nil {
		return nil, answerError(opIntrospect, status, `response has no "active" member (RFC 7662 §2.2)`, nil)
	}
	return &Introspection{
		Active:    *j.Active,
		Scope:     j.Scope,
		ClientID:  j.ClientID,
		Username:  j.Username,
		TokenType: j.TokenType,
		Expiry:    time.Time(j.Exp),
		IssuedAt:  time.Time(j.Iat),
	}, nil
}

// unixTime is "exp" or "iat" as servers send them: whole seconds since the
// Unix epoch (RFC 7662 §2.2), as a JSON number or a string holding one.
// Anything unusable (null, not a number, zero or negative) decodes as the
// zero time, meaning "not sent"; a fraction is cut off.
type unixTime time.Time

// maxUnixTime caps a time at the year 9999, past which time.Time's text
// forms fail.
const maxUnixTime = 253402300799

// UnmarshalJSON implements [json.Unmarshaler]. It never fails.
func (u *unixTime) UnmarshalJSON(b []byte) error {
	*u = unixTime{}
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = bytes.TrimSpace(b[1 : len(b)-1])
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || f < 1 {
		return nil
	}
	*u = unixTime(time.Unix(int64(min(f, maxUnixTime)), 0))
	return nil
}

// RevokeAndVerify revokes token (RFC 7009 §2.1, as [Client.Revoke] does,
// with hint) and then asks the introspection endpoint (RFC 7662 §2.1, as
// [Client.Introspect] does) whether the server still reports it active.
//
// RFC 7009 §2.2 has the server answer 200 whether or not it revoked
// anything, and §2.1 lets it refuse, with that same 200, a token issued to
// another client: django-oauth-toolkit 3.x does, where 1.7.0 revokes any
// client's token. A nil error from Revoke therefore proves nothing about
// another client's token; a nil error from RevokeAndVerify means the server
// reports the token inactive now.
//
// The error is:
//
//   - the revocation's error, as Revoke returns it (nothing was introspected),
//     for a token refused before sending ([ErrEmptyToken],
//     [ErrMalformedToken]) and for a failed revocation;
//   - an error wrapping [ErrStillActive] when the revocation answered 2xx
//     and introspection still reports the token active;
//   - an error wrapping [ErrNotVerified] and the introspection's error when
//     the revocation answered 2xx but the check failed: the token may or
//     may not be revoked. errors.As finds the check's error (an [*Error]
//     with Op "introspect", or the transport's error).
//
// Each of the two calls retries under the client's [RetryPolicy]; ctx bounds
// both. RevokeAndVerify is safe for concurrent use. The token never appears
// in an error.
func (c *Client) RevokeAndVerify(ctx context.Context, token string, hint TokenTypeHint) error {
	if err := c.Revoke(ctx, token, hint); err != nil {
		return err
	}
	in, err := c.Introspect(ctx, token)
	if err != nil {
		return &plainError{msg: "revoke and verify: revoked (2xx), but not verified", err: err, is: ErrNotVerified}
	}
	if in.Active {
		return stillActive(clean(c.scrubber(token)(in.ClientID), maxCodeLen))
	}
	return nil
}

// stillActive is RevokeAndVerify's error for a token that the server
// answered 2xx to revoke but still reports active; clientID is the token's
// client as introspection reported it (sanitized and scrubbed), if any.
func stillActive(clientID string) error {
	msg := "revoke and verify: the server answered 2xx to the revocation but still reports the token active"
	if clientID != "" {
		msg += " (issued to client " + strconv.Quote(clientID) + "; RFC 7009 §2.1 lets a server keep another client's token)"
	}
	return &plainError{msg: msg, is: ErrStillActive}
}
