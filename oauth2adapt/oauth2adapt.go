// Package oauth2adapt adapts a [cryptofuse.TokenSource] to the
// [oauth2.TokenSource] interface of golang.org/x/oauth2, so that code
// written for x/oauth2 ([oauth2.NewClient], [oauth2.Transport], and the
// client libraries that accept an oauth2.TokenSource) can use the SDK's
// managed token: one token kept fresh in the background, refreshed without
// stalling callers, rotated and revoked under a [cryptofuse.TokenPolicy]
// (client credentials, RFC 6749 §4.4; revocation, RFC 7009).
//
// It is a module of its own (github.com/cryptofuse/cryptofuse-go/oauth2adapt),
// as cloud.google.com/go/auth/oauth2adapt is, so that the SDK's module
// requires nothing at run time: only a program that imports this package
// gets golang.org/x/oauth2.
//
//	ts, err := client.TokenSource(cryptofuse.TokenPolicy{})
//	if err != nil { … }
//	defer ts.Close(ctx)
//	src := oauth2adapt.TokenSource(ctx, ts)
//	hc := &http.Client{Transport: &oauth2.Transport{Source: src, Base: cryptofuse.NewTransport()}}
//
// The contract is that of cryptofuse.TokenSource.Token: the adapter adds no
// caching of its own, so Rotate, Invalidate and a refresh reach the next
// call at once, and an error (such as [cryptofuse.ErrClosed] after Close)
// passes through unchanged. Do not wrap it in [oauth2.ReuseTokenSource],
// and note that [oauth2.NewClient] does so itself: its client keeps a token
// until that token's expiry, through a Rotate, a revocation or Close. Use
// [oauth2.Transport] as above, or, for calls to the Cryptofuse API itself,
// [cryptofuse.TokenSource.Transport], which also checks the origin and
// replays a request after a 401.
package oauth2adapt

import (
	"context"
	"sync/atomic"

	"github.com/cryptofuse/cryptofuse-go"
	"golang.org/x/oauth2"
)

// TokenSource returns an [oauth2.TokenSource] whose Token method returns
// ts.Token(ctx), converted to an [*oauth2.Token]: AccessToken, TokenType,
// RefreshToken, Expiry and ExpiresIn are copied, and a non-empty Scope is
// available as tok.Extra("scope"). The [cryptofuse.Token] is never
// modified, and errors are returned as ts returns them, so errors.Is
// matches [cryptofuse.ErrClosed], context.Canceled and the SDK's other
// errors.
//
// ctx is passed to every ts.Token call: it bounds how long a call waits
// when ts holds no valid token. x/oauth2's Token takes no context, so this
// one should live as long as the returned source (a request's ctx would
// fail every later call that has to wait for a token). It must not be nil.
//
// There is no need to wrap the result in [oauth2.ReuseTokenSource]: ts
// already keeps and refreshes the token, and while it is fresh Token does
// no I/O and allocates nothing. The wrapper would keep a token until
// x/oauth2 thinks it expired, hiding [cryptofuse.TokenSource.Rotate] and
// [cryptofuse.TokenSource.Invalidate] from its callers.
//
// As [oauth2.TokenSource] requires, the returned source is safe for
// concurrent use by multiple goroutines, and the *oauth2.Token it returns
// must not be modified: callers that get the same cryptofuse token share
// one *oauth2.Token.
func TokenSource(ctx context.Context, ts *cryptofuse.TokenSource) oauth2.TokenSource {
	return &tokenSource{ctx: ctx, ts: ts}
}

// tokenSource is the oauth2.TokenSource of TokenSource.
type tokenSource struct {
	ctx context.Context
	ts  *cryptofuse.TokenSource
	// last is the latest conversion. ts returns the same *cryptofuse.Token
	// until it replaces it, and never modifies it, so its conversion can be
	// reused for as long as ts returns it.
	last atomic.Pointer[conversion]
}

// conversion is a cryptofuse token and its x/oauth2 form.
type conversion struct {
	from *cryptofuse.Token
	to   *oauth2.Token
}

// Token implements [oauth2.TokenSource].
func (s *tokenSource) Token() (*oauth2.Token, error) {
	tok, err := s.ts.Token(s.ctx)
	if err != nil {
		return nil, err
	}
	if c := s.last.Load(); c != nil && c.from == tok {
		return c.to, nil
	}
	out := convert(tok)
	s.last.Store(&conversion{from: tok, to: out})
	return out, nil
}

// convert returns tok as an *oauth2.Token, without modifying tok.
func convert(tok *cryptofuse.Token) *oauth2.Token {
	out := &oauth2.Token{
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
		ExpiresIn:    tok.ExpiresIn,
	}
	if tok.Scope != "" {
		out = out.WithExtra(map[string]any{"scope": tok.Scope})
	}
	return out
}
