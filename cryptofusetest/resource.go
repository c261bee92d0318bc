package cryptofusetest

import (
	"net/http"
	"strings"
)

// ResourcePath is the path of the Server's protected resource, which stands
// in for the Cryptofuse API in tests of code that calls it with a bearer
// token (RFC 6750):
//
//   - A request (any method) whose "Authorization: Bearer <token>" header
//     (the scheme in any case, RFC 6750 §2.1) names an access token that is
//     active, as [Server.Active] decides (issued, not revoked, not expired
//     on the server's clock), gets 200 with the JSON object
//     {"client_id": "…", "scope": "…"} of the token's client and scope, as
//     application/json.
//   - Every other request gets 401 with
//     `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1) and
//     the JSON body {"error": "invalid_token"}: an unknown, revoked or
//     expired token, another scheme, and also no Authorization header at
//     all. For the last, RFC 6750 §3.1 would have the challenge carry no
//     error code; the fake sends the same challenge for every refusal, so
//     that a client has one answer to handle.
//
// With [WithResourceScopes], an active token that lacks one of the scopes
// gets 403 with `WWW-Authenticate: Bearer error="insufficient_scope",
// scope="…"` and the JSON body {"error": "insufficient_scope"} (RFC 6750
// §3.1).
//
// Under [WithDOTResource] the resource answers as django-oauth-toolkit's
// own views (ProtectedResourceView, ScopedProtectedResourceView) do
// instead: every refusal, of a missing, unknown, revoked or expired token
// as of one without the required scopes, is 403 with an empty body and no
// WWW-Authenticate header, so that a client cannot tell a dead token from a
// permission denial by the answer alone.
//
// The token is read from the header only, never from a query or a form
// body. The answer is the same under [WithDOT170]. Requests are counted in
// [Counts].Resource, and a [Fault] may name ResourcePath in its Path.
const ResourcePath = "/test/resource/"

// WithDOTResource makes [ResourcePath] answer every refusal as
// django-oauth-toolkit's own protected views do: 403 with an empty body
// (text/html; charset=utf-8, as Django's HttpResponseForbidden), instead of
// the RFC 6750 401 with WWW-Authenticate. Both DOT 1.7.0 and 3.4.1 answer
// so; views built on Django REST framework answer 401, as the default does.
func WithDOTResource() Option {
	return func(c *config) { c.dotResource = true }
}

// WithResourceScopes makes [ResourcePath] require an access token that has
// every one of scopes, as a ScopedProtectedResourceView's required_scopes
// does: an active token without them gets 403 (see ResourcePath). The
// default requires none.
func WithResourceScopes(scopes ...string) Option {
	s := append([]string(nil), scopes...)
	return func(c *config) { c.resourceScopes = s }
}

// serveResource answers ResourcePath.
func (s *Server) serveResource(w http.ResponseWriter, r *http.Request) {
	header, hasHeader := authorization(r)
	token := ""
	if hasHeader {
		token = bearerToken(header, true, nil)
	}
	t, found := s.st.lookup(token)
	if token == "" || !found || !s.valid(t) {
		if s.cfg.dotResource {
			writeEmpty(w, http.StatusForbidden)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		var body jsonObject
		body.str("error", "invalid_token")
		write(w, http.StatusUnauthorized, contentTypeJSON, body.String())
		return
	}
	for _, scope := range s.cfg.resourceScopes {
		if t.hasScope(scope) {
			continue
		}
		if s.cfg.dotResource {
			writeEmpty(w, http.StatusForbidden)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+strings.Join(s.cfg.resourceScopes, " ")+`"`)
		var body jsonObject
		body.str("error", "insufficient_scope")
		write(w, http.StatusForbidden, contentTypeJSON, body.String())
		return
	}
	var body jsonObject
	body.str("client_id", t.clientID)
	body.str("scope", t.scope)
	write(w, http.StatusOK, contentTypeJSON, body.String())
}
