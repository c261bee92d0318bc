package cryptofusetest

import (
	"crypto/subtle"
	"errors"
	"strings"
	"unicode/utf8"
)

// authResult is the outcome of client authentication.
type authResult int

const (
	authFailed authResult = iota // the endpoint answers 401 invalid_client
	authOK
	authCrash // the real server raises an uncaught exception: 500
)

// authenticateClient authenticates the client of a request the way
// django-oauth-toolkit's OAuth2Validator.authenticate_client does: HTTP
// Basic first, then client_id and client_secret among the request
// parameters. It returns the id of the authenticated client.
//
// One quirk of 1.7.0 is kept on purpose: when the Basic credentials name a
// registered client but carry a wrong secret, that client stays loaded on
// the request, and the body fallback compares the body's client_secret with
// that client's secret, whatever client_id the body names. 3.4.1 reloads the
// client the body names, and compares the body's secret (absent: "") with
// that client's. Only 1.7.0 crashes on a "client" parameter.
func (s *Server) authenticateClient(header string, hasHeader bool, p params) (string, authResult) {
	// oauthlib lets a "client" parameter replace request.client; DOT then
	// calls a method on that string and crashes.
	dot170 := s.cfg.dot170
	if dot170 && p.set("client") {
		return "", authCrash
	}
	loaded := "" // request.client in DOT; client ids are never empty
	if authString, ok := basicAuthString(header, hasHeader); ok {
		id, secret, err := decodeBasic(authString)
		if errors.Is(err, errNonASCII) {
			return "", authCrash
		}
		if err == nil {
			if want, known := s.st.clientSecret(id); known {
				if secretsEqual(want, secret) {
					return id, authOK
				}
				loaded = id
			}
		}
	}
	if loaded == "" || !dot170 {
		id, ok := p["client_id"]
		if !ok {
			return "", authFailed
		}
		if _, known := s.st.clientSecret(id); !known {
			return "", authFailed
		}
		loaded = id
	}
	secret, ok := p["client_secret"]
	if !ok && dot170 {
		return "", authFailed
	}
	if want, known := s.st.clientSecret(loaded); known && secretsEqual(want, secret) {
		return loaded, authOK
	}
	return "", authFailed
}

// secretsEqual compares secrets in constant time (for equal lengths).
func secretsEqual(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// basicAuthString returns what follows "Basic " in an Authorization header,
// as DOT's _extract_basic_auth does: the value is split on its first space,
// and the scheme must be exactly "Basic" ("basic" fails).
func basicAuthString(header string, hasHeader bool) (string, bool) {
	if !hasHeader || header == "" {
		return "", false
	}
	scheme, rest, found := strings.Cut(header, " ")
	if !found || scheme != "Basic" || rest == "" {
		return "", false
	}
	return rest, true
}

var (
	errNonASCII   = errors.New("non-ASCII character in Basic credentials")
	errBasicValue = errors.New("malformed Basic credentials")
)

// decodeBasic decodes Basic credentials as DOT's _authenticate_basic_auth
// does: Python's lenient base64.b64decode, UTF-8, a split on the first ':',
// and unquote_plus on each part. A non-ASCII byte makes b64decode raise an
// exception DOT does not catch: errNonASCII.
func decodeBasic(authString string) (id, secret string, err error) {
	for i := 0; i < len(authString); i++ {
		if authString[i] >= utf8.RuneSelf {
			return "", "", errNonASCII
		}
	}
	raw, ok := pyB64Decode(authString)
	if !ok || !utf8.Valid(raw) {
		return "", "", errBasicValue
	}
	id, secret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", errBasicValue
	}
	return unquotePlus(id), unquotePlus(secret), nil
}

// b64Value maps a byte to its value in the standard base64 alphabet, or 0xFF.
var b64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// pyB64Decode is Python's base64.b64decode(s) (binascii.a2b_base64 in its
// non-strict mode) for an ASCII string. Characters outside the alphabet are
// discarded; a '=' that completes a quad ends the input, and later
// characters are ignored; a '=' anywhere else is skipped; a dangling partial
// quad is an error ("Incorrect padding").
func pyB64Decode(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s)/4*3+3)
	quadPos, pads := 0, 0
	var left byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			if quadPos >= 2 {
				pads++
				if quadPos+pads >= 4 {
					return out, true
				}
			}
			continue
		}
		v := b64Value[c]
		if v == 0xFF {
			continue
		}
		pads = 0
		switch quadPos {
		case 0:
			left = v
		case 1:
			out = append(out, left<<2|v>>4)
			left = v & 0x0F
		case 2:
			out = append(out, left<<4|v>>2)
			left = v & 0x03
		case 3:
			out = append(out, left<<6|v)
		}
		quadPos = (quadPos + 1) % 4
	}
	return out, quadPos == 0
}

// bearerToken returns the access token a request presents as its own
// credentials, as oauthlib's get_token_from_header finds it: from an
// "Authorization: Bearer <token>" header (the scheme in any case), or, only
// when there is no Authorization header at all, from the access_token
// parameter.
func bearerToken(header string, hasHeader bool, p params) string {
	if !hasHeader {
		return p["access_token"]
	}
	fields := pySplit(latin1([]byte(header)))
	if len(fields) == 2 && strings.EqualFold(fields[0], "bearer") {
		return fields[1]
	}
	return ""
}
