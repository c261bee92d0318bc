package cryptofusetest

import (
	"net/http"
	"strings"
)

// serveRevoke answers /o/revoke_token/ as DOT's RevokeTokenView and
// oauthlib's RevocationEndpoint do (RFC 7009). The checks run in this order:
// method, query string, token parameter, client authentication. The
// token_type_hint is ignored: an access token is revoked under any hint. A
// client may revoke any client's token (DOT 1.7.0 has no ownership check),
// and an unknown or already revoked token answers 200 too.
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	method := strings.ToUpper(r.Method)
	if method != http.MethodPost {
		writeNotAllowed(w, method, "POST, OPTIONS")
		return
	}
	post, err := postParams(r, method)
	if err != nil {
		writePage(w, http.StatusBadRequest)
		return
	}
	p, ok := oauthlibParams(r.URL.RawQuery, post)
	if !ok {
		writePage(w, http.StatusInternalServerError)
		return
	}
	fail := func(status int, code, description string) {
		writeOAuthError(w, oauthError{status: status, code: code, description: description, state: p["state"]})
	}
	if r.URL.RawQuery != "" {
		fail(http.StatusBadRequest, "invalid_request", "URL query parameters are not allowed")
		return
	}
	if !p.set("token") {
		fail(http.StatusBadRequest, "invalid_request", "Missing token parameter.")
		return
	}
	header, hasHeader := authorization(r)
	switch _, res := s.authenticateClient(header, hasHeader, p); res {
	case authCrash:
		writePage(w, http.StatusInternalServerError)
		return
	case authFailed:
		fail(http.StatusUnauthorized, "invalid_client", "")
		return
	}
	s.st.remove(p["token"])
	writeEmpty(w, http.StatusOK)
}
