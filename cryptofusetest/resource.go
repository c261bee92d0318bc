package cryptofusetest

import "net/http"

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
// The token is read from the header only, never from a query or a form
// body. The answer is the same under [WithDOT170]. Requests are counted in
// [Counts].Resource, and a [Fault] may name ResourcePath in its Path.
const ResourcePath = "/test/resource/"

// serveResource answers ResourcePath.
func (s *Server) serveResource(w http.ResponseWriter, r *http.Request) {
	header, hasHeader := authorization(r)
	token := ""
	if hasHeader {
		token = bearerToken(header, true, nil)
	}
	t, found := s.st.lookup(token)
	if token == "" || !found || !s.valid(t) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		var body jsonObject
		body.str("error", "invalid_token")
		write(w, http.StatusUnauthorized, contentTypeJSON, body.String())
		return
	}
	var body jsonObject
	body.str("client_id", t.clientID)
	body.str("scope", t.scope)
	write(w, http.StatusOK, contentTypeJSON, body.String())
}
