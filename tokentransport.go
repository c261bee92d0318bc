package cryptofuse

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ErrForeignOrigin is wrapped by the error of a request that the RoundTripper
// of [TokenSource.Transport] refused to send because its URL is not on the
// client's own origin: the token would have gone to another server.
var ErrForeignOrigin error = &plainError{msg: "request is not for the client's origin; the token is not sent"}

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
	scheme, host := origin(ts.c.baseURL)
	return &tokenTransport{ts: ts, base: base, scheme: scheme, host: host}
}

// tokenTransport is the RoundTripper of TokenSource.Transport.
type tokenTransport struct {
	ts     *TokenSource
	base   http.RoundTripper
	scheme string // the client's origin: scheme,
	host   string // and host:port, lower case, the port always there
}

// origin splits a validated base URL into its scheme and its host:port, with
// the scheme's default port filled in.
func origin(base string) (scheme, host string) {
	u, err := url.Parse(base)
	if err != nil {
		return "", "" // not from NewClient: nothing matches
	}
	return u.Scheme, hostPort(u)
}

// hostPort is u's host and port in lower case, with the scheme's default
// port when u names none.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// RoundTrip implements http.RoundTripper.
func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || !strings.EqualFold(req.URL.Scheme, t.scheme) || hostPort(req.URL) != t.host {
		closeBody(req)
		where := "(no URL)"
		if req.URL != nil {
			where = req.URL.Scheme + "://" + req.URL.Host
		}
		return nil, fmt.Errorf("cryptofuse: %s %s: %w", req.Method, where, ErrForeignOrigin)
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
