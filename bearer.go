package cryptofuse

import (
	"net/http"
	"strings"

	"github.com/cryptofuse/cryptofuse-go/internal/tokensyntax"
)

// BearerToken returns the bearer token that r carries in its Authorization
// header, as RFC 6750 §2.1 defines it: the scheme "Bearer" (compared
// case-insensitively, RFC 9110 §11.1), one or more spaces, and a b64token:
// letters, digits and "-._~+/", then any "=" padding. It returns false when r
// has no Authorization header, more than one, another scheme, or a value
// that is not that syntax (a token with an inner space or a control
// character, say); the token is then "".
//
// It is for the service that receives a user's token, such as a logout
// handler that passes it to [Client.Revoke]. BearerToken only reads r and is
// safe for concurrent use.
func BearerToken(r *http.Request) (string, bool) {
	if r == nil {
		return "", false
	}
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return "", false
	}
	scheme, rest, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token := strings.TrimLeft(rest, " ")
	if !tokensyntax.IsB64Token(token) {
		return "", false
	}
	return token, true
}
