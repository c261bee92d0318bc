package cryptofusetest

import (
	"net/http"
)

// serveRevoke answers /o/revoke_token/ as DOT's RevokeTokenView and
// oauthlib's RevocationEndpoint do (RFC 7009). The checks run in this order:
// method, query string, token parameter, client authentication. The
// token_type_hint is ignored: an access or refresh token is revoked under
// any hint. An unknown or already revoked token answers 200 too, and so does
// another client's token, which 3.4.1 leaves valid (RFC 7009 §2.1) and 1.7.0
// revokes (it has no ownership check). Revoking a refresh token revokes its
// access token; revoking an access token revokes its refresh token on 3.4.1
// only.
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	method, ok := postOnly(w, r)
	if !ok {
		return
	}
	p, ok := s.allParams(w, r, method)
	if !ok {
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
	clientID, res := s.authenticateClient(header, hasHeader, p)
	switch res {
	case authCrash:
		s.writePage(w, http.StatusInternalServerError)
		return
	case authFailed:
		fail(http.StatusUnauthorized, "invalid_client", "")
		return
	}
	rule := revocation{owner: clientID, cascade: true}
	if s.cfg.dot170 {
		rule = revocation{}
	}
	s.st.revoke(p["token"], rule)
	writeEmpty(w, http.StatusOK)
}
