package cryptofusetest

import (
	"net/http"
	"strings"
)

// serveMetadata answers GET /o/.well-known/oauth-authorization-server as
// django-oauth-toolkit 3.4.1's OAuthServerMetadataView does (RFC 8414 §3):
// the authorization server metadata, with the issuer and the endpoints on
// the request's own host, in the order and with the values 3.4.1 sends for
// the integration server's settings.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	const allow = "GET, HEAD, OPTIONS"
	method := strings.ToUpper(r.Method)
	if method != http.MethodGet && method != http.MethodHead {
		writeNotAllowed(w, method, allow)
		return
	}
	base := "http://" + r.Host + "/o"
	authMethods := `["client_secret_post", "client_secret_basic"]`
	var b strings.Builder
	b.WriteString(`{"issuer": ` + pyJSONString(base))
	b.WriteString(`, "response_types_supported": ["code", "token"]`)
	b.WriteString(`, "grant_types_supported": ["authorization_code", "implicit", "password", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]`)
	b.WriteString(`, "scopes_supported": [`)
	for i, scope := range s.cfg.scopes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyJSONString(scope))
	}
	b.WriteString(`], "client_id_metadata_document_supported": false`)
	for _, e := range []struct{ name, path string }{
		{"authorization_endpoint", "/authorize/"},
		{"token_endpoint", "/token/"},
		{"revocation_endpoint", "/revoke_token/"},
		{"introspection_endpoint", "/introspect/"},
	} {
		b.WriteString(`, "` + e.name + `": ` + pyJSONString(base+e.path))
	}
	b.WriteString(`, "code_challenge_methods_supported": ["plain", "S256"]`)
	b.WriteString(`, "token_endpoint_auth_methods_supported": ` + authMethods)
	b.WriteString(`, "revocation_endpoint_auth_methods_supported": ` + authMethods)
	b.WriteString(`, "introspection_endpoint_auth_methods_supported": ` + authMethods + `}`)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	write(w, http.StatusOK, contentTypeJSON, b.String())
}
