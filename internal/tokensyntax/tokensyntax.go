// Package tokensyntax is the syntax of a bearer token, written once for the
// SDK and the CLI: the b64token of RFC 6750 §2.1, and the HTTP
// authentication schemes that a token copied from an Authorization header
// carries in front of it. It is internal: the root package's API does not
// grow for it.
package tokensyntax

import "strings"

// Description says, in an error, what IsB64Token accepts.
const Description = "a token is letters, digits and - . _ ~ + / with optional trailing = (RFC 6750 §2.1)"

// IsB64Token reports whether s is a b64token (RFC 6750 §2.1):
//
//	1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// That covers django-oauth-toolkit's alphanumeric tokens and JWTs. Anything
// else (a quote, a comma, a no-break space, a zero-width space, a letter
// outside ASCII) is not one.
func IsB64Token(s string) bool {
	i := 0
	for i < len(s) && IsB64Char(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// IsB64Char reports whether c is one of b64token's characters, "=" aside.
func IsB64Char(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}

// schemes are the HTTP authentication schemes a token may be copied with:
// IANA's HTTP Authentication Scheme Registry (RFC 9110 §16.4), plus schemes
// in common use outside it (MAC from draft-ietf-oauth-v2-http-mac, NTLM,
// and the "Token" and "JWT" of Django REST framework's token and JWT
// packages).
var schemes = []string{
	"Basic", "Bearer", "Concealed", "Digest", "DPoP", "GNAP", "HOBA", "Mutual",
	"Negotiate", "OAuth", "PrivateToken", "SCRAM-SHA-1", "SCRAM-SHA-256", "vapid",
	"MAC", "NTLM", "Token", "JWT",
}

// Scheme returns the authentication scheme that word names, compared
// case-insensitively (RFC 9110 §11.1), as registered: Scheme("bearer") is
// "Bearer", true. It does not allocate.
func Scheme(word string) (string, bool) {
	for _, s := range schemes {
		if strings.EqualFold(word, s) {
			return s, true
		}
	}
	return "", false
}

// HeaderName is the header name that a line copied from a request may carry
// in front of the scheme.
const HeaderName = "Authorization:"
