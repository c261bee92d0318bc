package cryptofuse

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cryptofuse/cryptofuse-go/internal/tokensyntax"
)

// checkToken returns ErrEmptyToken for "", and an error wrapping
// ErrMalformedToken for what plainly is not a token:
//
//   - a known authentication scheme (internal/tokensyntax: IANA's registry
//     and schemes in common use, in any case) followed by
//     white space, as in "Bearer abc" or "bearer\u00a0abc", or the header
//     name "Authorization:" in front;
//   - white space at either end: unicode.IsSpace (a space, a tab, a newline,
//     NBSP, U+2028 and the others) or an invisible format character that
//     editors and copy-paste leave behind (U+200B, U+200C, U+200D, U+2060,
//     U+FEFF, the BOM);
//   - a control character anywhere (unicode.IsControl: C0, DEL and C1).
//
// Anything else goes out as given, so that the server decides (RFC 7009
// §2.1): inner spaces, "+ / = . ~ -", JWTs, non-ASCII letters and bytes that
// are not UTF-8. The error names the character or the scheme, never the
// token. checkToken allocates only when it refuses.
func checkToken(token string) error {
	if token == "" {
		return ErrEmptyToken
	}
	if r, _ := utf8.DecodeRuneInString(token); isEdgeSpace(r) {
		return malformed(fmt.Sprintf("leading white space (%U); pass the token alone", r))
	}
	if r, _ := utf8.DecodeLastRuneInString(token); isEdgeSpace(r) {
		return malformed(fmt.Sprintf("trailing white space (%U), such as a newline read with it; pass the token alone", r))
	}
	for i, r := range token {
		if unicode.IsControl(r) {
			return malformed(fmt.Sprintf("control character %U at byte %d", r, i))
		}
	}
	if i := strings.IndexFunc(token, unicode.IsSpace); i > 0 {
		word := token[:i]
		if strings.EqualFold(word, tokensyntax.HeaderName) {
			return malformed(`it starts with "Authorization:"; pass the token alone, without the header name and scheme`)
		}
		if scheme, ok := tokensyntax.Scheme(word); ok {
			return malformed(fmt.Sprintf("it starts with the authentication scheme %q and a space; pass the token without it", scheme))
		}
	}
	return nil
}

// isEdgeSpace reports whether r is white space that checkToken refuses at
// either end of a token.
func isEdgeSpace(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF':
		return true
	}
	return unicode.IsSpace(r)
}
