package cryptofuse

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// ErrForeignOrigin is wrapped by the error of a request that the RoundTripper
// of [TokenSource.Transport] refused to send because its URL is not on the
// client's own origin: the token would have gone to another server.
var ErrForeignOrigin error = &plainError{msg: "request is not for the client's origin; the token is not sent"}

// Transport returns an http.RoundTripper that sends each request through
// base with the current token in an "Authorization: Bearer" header (RFC 6750
// §2.1), set on a clone of the request: the caller's request is never
// modified. A nil base is the transport of the SDK's default client (see
// [NewTransport]), shared, not http.DefaultTransport.
//
// The token goes only to the client's own origin, the scheme, host and
// port of its base URL ([WithBaseURL]); a request for any other origin, or
// whose Host field names another host, fails with an error wrapping
// [ErrForeignOrigin] and is not sent. That covers redirects too: an
// http.Client that follows one calls the RoundTripper again with the new
// URL.
//
// When the server answers 401 (RFC 6750 §3.1: the token is expired, revoked
// or otherwise invalid), the RoundTripper invalidates the token that was
// sent (see [TokenSource.Invalidate]), whether or not the request can be
// replayed. When it can (it has no body, or GetBody is set, as
// http.NewRequest sets for in-memory bodies), it sends it once more with a
// new token. Otherwise, and if the replay gets 401 too, or no new token can
// be had at once (new tokens are being rejected: see [TokenSource.Token]),
// the 401 is returned. With [TokenPolicy].Introspect403, a 403 whose token
// the server reports inactive (django-oauth-toolkit's own views answer a
// revoked token so) is handled the same way; any other 403 is returned as
// it is.
//
// The RoundTripper is safe for concurrent use. After [TokenSource.Close] it
// returns [ErrClosed].
func (ts *TokenSource) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = defaultHTTPClient().Transport
	}
	tt := &tokenTransport{ts: ts, base: base}
	if u, err := url.Parse(ts.c.baseURL); err == nil { // else nothing matches
		tt.scheme, tt.host, tt.port = u.Scheme, u.Hostname(), portOf(u)
	}
	return tt
}

// tokenTransport is the RoundTripper of TokenSource.Transport.
type tokenTransport struct {
	ts   *TokenSource
	base http.RoundTripper
	// The client's origin (RFC 6454): scheme, host and port, the port
	// always there.
	scheme, host, port string
}

// portOf is u's port, or its scheme's default port when it names none.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// sameOrigin reports whether u is on the client's origin. It allocates
// nothing: it runs on every request.
func (t *tokenTransport) sameOrigin(u *url.URL) bool {
	return u != nil && t.scheme != "" && strings.EqualFold(u.Scheme, t.scheme) &&
		strings.EqualFold(u.Hostname(), t.host) && portOf(u) == t.port
}

// sameHost reports whether req's Host field, which overrides the URL's host
// in the request, is empty or names the client's origin too. It allocates
// nothing.
func (t *tokenTransport) sameHost(req *http.Request) bool {
	if req.Host == "" || req.URL == nil {
		return true
	}
	u := url.URL{Scheme: req.URL.Scheme, Host: req.Host}
	return t.sameOrigin(&u)
}

// RoundTrip implements http.RoundTripper.
func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.sameOrigin(req.URL) || !t.sameHost(req) {
		closeBody(req)
		where := "(no URL)"
		if req.URL != nil {
			where = req.URL.Scheme + "://" + req.URL.Host
		}
		return nil, &plainError{msg: req.Method + " " + where, err: ErrForeignOrigin}
	}
	e, err := t.entry(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.send(authorized(req, e), e)
	if err != nil {
		return resp, err
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
	case http.StatusForbidden:
		if !t.deadBehind403(req.Context(), e) {
			return resp, nil
		}
	default:
		return resp, nil
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable {
		return resp, nil
	}
	e2, err := t.entry(req)
	if err != nil || e2 == e {
		return resp, nil // no new token to try: the caller gets the 401
	}
	again := authorized(req, e2)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		again.Body = body
	}
	drainAndClose(resp.Body, false)
	return t.send(again, e2)
}

// send sends r, which carries e's token, and tells the TokenSource what
// the answer says of the token: a 401 rejects it; any other status shows
// it served.
func (t *tokenTransport) send(r *http.Request, e *entry) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		t.ts.reject(e, "401")
	case resp.StatusCode == http.StatusForbidden && t.ts.policy.Introspect403:
		// Not yet known to have served: deadBehind403 decides.
	case !e.served.Load():
		e.served.Store(true) // ends the backoff steps of rejected tokens
	}
	return resp, nil
}

// deadBehind403 reports whether the token of e, which just got a 403,
// is dead: with Introspect403 set, the first 403 that e's token meets is
// checked with the server (RFC 7662), and an inactive token is rejected as
// a 401 rejects it. Any other 403 (the check was made already, the token is
// active, or the check failed) is a permission denial: it mints nothing.
func (t *tokenTransport) deadBehind403(ctx context.Context, e *entry) bool {
	if !t.ts.policy.Introspect403 || !e.checked.CompareAndSwap(false, true) {
		return false
	}
	in, err := t.ts.c.Introspect(ctx, e.tok.AccessToken)
	if err != nil {
		t.ts.c.logWarn(ctx, "cryptofuse: checking the token behind a 403 failed; the 403 is returned", err, slog.String("token", e.fp))
		return false
	}
	if in.Active {
		e.served.Store(true) // a permission denial: the token itself works
		return false
	}
	t.ts.reject(e, "403")
	return true
}

// entry is the current token's entry, for req's context.
func (t *tokenTransport) entry(req *http.Request) (*entry, error) {
	if e := t.ts.cur.Load(); e != nil && !e.due.Load() {
		return e, nil
	}
	e, err := t.ts.slowToken(req.Context(), false)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, ErrClosed
		}
		return nil, err
	}
	return e, nil
}

// authorized is a shallow clone of req with e's bearer header. The header
// value is e's own slice, shared read-only by every request with that token.
func authorized(req *http.Request, e *entry) *http.Request {
	r := req.Clone(req.Context())
	r.Header["Authorization"] = e.bearer
	return r
}

// closeBody closes req's body, as a RoundTripper must even when it sends
// nothing.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
