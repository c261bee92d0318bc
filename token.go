package cryptofuse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"
)

// Token is an access token issued by the token endpoint (RFC 6749 §5.1).
//
// Its JSON form uses the wire's names plus "expiry" (RFC 3339), so a job can
// persist it with json.Marshal and load it with json.Unmarshal; that JSON
// holds the token in clear. Any fmt formatting of a Token or a *Token (%v,
// %+v, %#v, %s, …) and its slog value show the token as "[redacted]": only
// tok.AccessToken, tok.RefreshToken or json.Marshal reveal it. (The one
// exception is fmt's bad-verb path: %p of a Token value, not a pointer,
// bypasses Format and prints the fields. Format a *Token.)
//
// A Token is a plain value: it is safe for concurrent reads, and nothing in
// this package mutates a Token it has returned.
type Token struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Scope        string    `json:"scope,omitempty"`      // space-delimited, as on the wire
	ExpiresIn    int64     `json:"expires_in,omitempty"` // seconds, as on the wire
	Expiry       time.Time `json:"expiry,omitzero"`      // time of receipt + ExpiresIn; zero when the server sent none
}

// Format implements [fmt.Formatter]: every verb prints the same summary, with
// the access and refresh tokens redacted.
func (t Token) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "cryptofuse.Token{AccessToken:%s, TokenType:%q, RefreshToken:%s, Scope:%q, ExpiresIn:%d, Expiry:%s}",
		redactedOrEmpty(t.AccessToken), t.TokenType, redactedOrEmpty(t.RefreshToken), t.Scope, t.ExpiresIn, t.Expiry.Format(time.RFC3339))
}

// LogValue implements [slog.LogValuer], so that logging a Token with any slog
// handler, JSON included, never shows the token itself.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_token", redactedIfSet(t.AccessToken)),
		slog.String("token_type", t.TokenType),
		slog.String("refresh_token", redactedIfSet(t.RefreshToken)),
		slog.String("scope", t.Scope),
		slog.Int64("expires_in", t.ExpiresIn),
		slog.Time("expiry", t.Expiry),
	)
}

// redactedOrEmpty stands in for a secret in formatted output: `""` when it
// is empty, so the output still tells whether there is one.
func redactedOrEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return redacted
}

// redactedIfSet stands in for a secret in a log value: the empty string when
// it is empty (a handler quotes it as it quotes any empty string).
func redactedIfSet(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// Token issues a new access token with the client credentials grant
// (RFC 6749 §4.4): POST {base}/o/token/ with grant_type=client_credentials and
// the scopes of [WithScopes] ("read write" by default).
//
// Expiry is the time of receipt plus expires_in, which may arrive as a number
// or as a string; an expires_in that is missing, not a number or not positive
// leaves ExpiresIn 0 and Expiry zero rather than losing a token that was
// issued.
//
// A 2xx answer that is not JSON, has no access_token or carries an "error"
// member is an [*Error], as is any non-2xx answer (errors.Is matches
// [ErrInvalidClient], [ErrInvalidScope] and the others). Transport failures
// wrap their cause.
//
// Token retries, under the client's [RetryPolicy], only what cannot have
// issued a token: a dial failure, 429 and 503. Token is safe for concurrent
// use.
func (c *Client) Token(ctx context.Context) (*Token, error) {
	return c.issue(ctx, "")
}

// issue runs the client_credentials grant. old is a token the server has
// seen from us (RotateToken's old token), scrubbed from errors with the
// secret.
func (c *Client) issue(ctx context.Context, old string) (*Token, error) {
	status, body, err := c.send(ctx, call{op: opToken, endpoint: c.tokenURL, form: c.tokenForm, keepBody: true, sent: old})
	if err != nil {
		return nil, err
	}
	return c.parseToken(status, body, c.clock.now(), old)
}

// tokenJSON is a token answer on the wire (RFC 6749 §5.1), with the error
// members that a misbehaving server may put into a 2xx answer.
type tokenJSON struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	RefreshToken string    `json:"refresh_token"`
	Scope        string    `json:"scope"`
	ExpiresIn    expiresIn `json:"expires_in"`
	errorJSON
}

// parseToken turns a 2xx token answer, received at t, into a Token. old is
// as in issue.
func (c *Client) parseToken(status int, body []byte, t time.Time, old string) (*Token, error) {
	var j tokenJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, answerError(opToken, status, "response is not a JSON token", err)
	}
	if j.Error != "" {
		e := answerError(opToken, status, "", nil)
		j.errorJSON.fill(e, c.scrubber(j.AccessToken, j.RefreshToken, old))
		return nil, e
	}
	if j.AccessToken == "" {
		return nil, answerError(opToken, status, "response has no access_token", nil)
	}
	tok := &Token{
		AccessToken:  j.AccessToken,
		TokenType:    j.TokenType,
		RefreshToken: j.RefreshToken,
		Scope:        j.Scope,
		ExpiresIn:    int64(j.ExpiresIn),
	}
	if tok.ExpiresIn > 0 {
		tok.Expiry = t.Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return tok, nil
}

// expiresIn is expires_in as servers send it: a JSON number or a string
// holding one. Anything unusable (null, not a number, zero or negative)
// decodes as 0, meaning "unknown"; a fraction is cut off and a huge value is
// capped at maxExpiresIn.
type expiresIn int64

// maxExpiresIn caps expires_in at about 68 years, as x/oauth2 does, so that
// the expiry cannot overflow.
const maxExpiresIn = math.MaxInt32

// UnmarshalJSON implements [json.Unmarshaler]. It never fails.
func (e *expiresIn) UnmarshalJSON(b []byte) error {
	*e = 0
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = bytes.TrimSpace(b[1 : len(b)-1])
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f != f || f <= 0 {
		return nil
	}
	if f > maxExpiresIn {
		f = maxExpiresIn
	}
	*e = expiresIn(f)
	return nil
}
