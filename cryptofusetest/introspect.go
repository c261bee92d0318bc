package cryptofusetest

import (
	"net/http"
	"strings"
)

// introspectionScope is the scope an access token needs to authenticate to
// /o/introspect/ in place of client credentials (IntrospectTokenView's
// required_scopes).
const introspectionScope = "introspection"

// serveIntrospect answers /o/introspect/ as DOT's IntrospectTokenView does
// (RFC 7662). The caller authenticates as any registered client (HTTP
// Basic, or client_id and client_secret among the parameters) or with a
// Bearer access token that has the "introspection" scope; otherwise the
// answer is 403 with an empty body. POST reads the token from the form body,
// GET and HEAD from the query string. Without a token parameter, 3.4.1
// answers 400 invalid_request and 1.7.0 {"active": false}.
func (s *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	const allow = "GET, POST, HEAD, OPTIONS"
	method := strings.ToUpper(r.Method)
	if method == http.MethodOptions {
		writeNotAllowed(w, method, allow)
		return
	}
	p, post, ok := s.readParams(w, r, method)
	if !ok {
		return
	}
	header, hasHeader := authorization(r)
	switch _, res := s.authenticateClient(header, hasHeader, p); res {
	case authCrash:
		s.writePage(w, http.StatusInternalServerError)
		return
	case authFailed:
		if !s.introspectionAllowed(bearerToken(header, hasHeader, p)) {
			writeEmpty(w, http.StatusForbidden)
			return
		}
	}

	var token string
	var hasToken bool
	switch method {
	case http.MethodGet, http.MethodHead:
		get, err := parseQueryDict([]byte(r.URL.RawQuery))
		if err != nil {
			s.writePage(w, http.StatusBadRequest)
			return
		}
		token, hasToken = get["token"]
	case http.MethodPost:
		token, hasToken = post["token"]
	default:
		writeNotAllowed(w, method, allow)
		return
	}
	if !hasToken && !s.cfg.dot170 {
		var body jsonObject
		body.str("error", "invalid_request")
		body.str("error_description", "Token parameter is missing.")
		write(w, http.StatusBadRequest, contentTypeJSON, body.String())
		return
	}

	var body jsonObject
	t, found := s.st.lookup(token)
	if !found || !s.valid(t) {
		body.boolean("active", false)
	} else {
		body.boolean("active", true)
		body.str("scope", t.scope)
		body.number("exp", t.expires.Unix())
		body.str("client_id", t.clientID)
		if t.username != "" {
			body.str("username", t.username)
		}
	}
	write(w, http.StatusOK, contentTypeJSON, body.String())
}

// introspectionAllowed reports whether an access token presented as the
// caller's credentials may introspect: it must be live and carry the
// introspection scope.
func (s *Server) introspectionAllowed(token string) bool {
	if token == "" {
		return false
	}
	t, ok := s.st.lookup(token)
	return ok && s.valid(t) && t.hasScope(introspectionScope)
}
