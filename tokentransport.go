package cryptofuse

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ErrForeignOrigin is wrapped by the error of a request that the RoundTripper
// of [TokenSource.Transport] refused to send because its URL is not on the
// client's own origin: the token would have gone to another server.
var ErrForeignOrigin error = errForeignOrigin

// errForeignOrigin is ErrForeignOrigin without the package prefix, so that
// an error wrapping it names the package once.
var errForeignOrigin = &bareError{msg: "request is not for the client's origin; the token is not sent"}

// Transport returns an http.RoundTripper that sends each request through
// base (http.DefaultTransport when nil) with the current token in an
// "Authorization: Bearer" header (RFC 6750 §2.1), set on a clone of the
// request: the caller's request is never modified.
//
// The token goes only to the client's own origin, the scheme, host and
// port of its base URL ([WithBaseURL]); a request for any other origin fails
// with an error wrapping [ErrForeignOrigin] and is not sent. That covers
// redirects too: an http.Client that follows one calls the RoundTripper
// again with the new URL.
//
// When the server answers 401 (RFC 6750 §3.1: the token is expired, revoked
// or otherwise invalid), the RoundTripper invalidates the token and, when
// the request can be replayed (it has no body, or GetBody is set, as
// http.NewRequest sets for in-memory bodies), sends it once more with a new
// token. Otherwise, and if the replay gets 401 too, the 401 is returned.
//
// The RoundTripper is safe for concurrent use. After [TokenSource.Close] it
// returns [ErrClosed].
func (ts *TokenSource) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
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

// RoundTrip implements http.RoundTripper.
func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.sameOrigin(req.URL) {
		closeBody(req)
		where := "(no URL)"
		if req.URL != nil {
			where = req.URL.Scheme + "://" + req.URL.Host
		}
		return nil, &plainError{msg: req.Method + " " + where, err: errForeignOrigin}
	}
	e, err := t.entry(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.base.RoundTrip(authorized(req, e))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable {
		return resp, nil
	}
	t.ts.Invalidate(e.tok.AccessToken)
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
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrainSize)
	_ = resp.Body.Close()
	return t.base.RoundTrip(again)
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
