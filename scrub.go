package cryptofuse

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// redacted stands in for a secret in formatted output and in scrubbed server
// text.
const redacted = "[redacted]"

// Scrubbing. Every piece of text that comes from the server or the transport
// and reaches an error or a log line (an error body's fields, the transport's
// error text, which quotes the server's status line and headers, a read
// error) goes through a scrubber first. A scrubber knows the client secret
// and the tokens of one call, and finds each of them in every form a server,
// a gateway or net/http could echo it in, without listing the forms one by
// one: matchSecret compares the text with the secret a rune at a time, and
// accepts for each rune any of its encodings:
//
//   - the raw bytes;
//   - form encoding (url.QueryEscape and its kin): "%XX" for any byte, in
//     either case of hex, and "+" for a space;
//   - JSON string escapes, as Go's encoder (which escapes <, > and & as
//     \u003c, \u003e, \u0026, and U+2028, U+2029), Python's json.dumps (every
//     non-ASCII rune as \uXXXX, a surrogate pair beyond U+FFFF) and PHP's
//     json_encode (also "\/" for "/") write them: "\uXXXX" in either case of
//     hex, and \" \\ \/ \b \f \n \r \t;
//   - HTML character references, as an error page shows the request: &amp;
//     &lt; &gt; &quot; &apos;, and &#NN; and &#xHH; for any rune;
//   - for a byte that is not valid UTF-8: U+FFFD in any of the forms above,
//     as a server that decoded the request leniently echoes it (one U+FFFD
//     for the byte, or one for a whole run of bad bytes).
//
// The forms may mix within one echo. The secrets themselves are the client
// secret, the base64 text of both Basic credentials (the form-encoded
// "id:secret" pair the SDK sends and the raw pair a server may re-encode,
// each in the standard and the URL alphabet, without padding) and each token
// the call sent or received. The client's part is computed once, in
// NewClient; a call adds its tokens only when it builds an error, so the
// success path pays nothing.

// clientSecrets lists what NewClient stores for the scrubber: the secret and
// the base64 text of both Basic credentials.
func clientSecrets(clientID, clientSecret string) []string {
	secrets := []string{clientSecret}
	for _, pair := range []string{
		url.QueryEscape(clientID) + ":" + url.QueryEscape(clientSecret), // what the SDK sends
		clientID + ":" + clientSecret,                                   // what a server may re-encode
	} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			// Without padding: a prefix match still hides every byte
			// of the pair, and an echo without padding is found too.
			b := strings.TrimRight(enc.EncodeToString([]byte(pair)), "=")
			if !slices.Contains(secrets, b) {
				secrets = append(secrets, b)
			}
		}
	}
	return secrets
}

// scrubber returns a function that replaces the client secret and the given
// tokens, in every form the package comment above lists, in text.
func (c *Client) scrubber(tokens ...string) func(string) string {
	secrets := make([]string, 0, len(c.redact)+len(tokens))
	secrets = append(secrets, c.redact...)
	for _, t := range tokens {
		if t != "" {
			secrets = append(secrets, t)
		}
	}
	// Longest first, so that a token holding the secret (or the other way
	// round) is replaced whole.
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return func(s string) string { return scrub(s, secrets) }
}

// scrubSteps is the matcher's budget per byte of text and secret: plain
// text costs one or two steps per byte and secret, a real echo about one per
// byte of the secret. Text that would take more (a long token echoed with
// one byte changed, say, which makes every position a long near-match) is
// replaced whole.
const scrubSteps = 16

// scrub replaces every occurrence of each secret in s with redacted. Text
// that the matcher cannot check within its budget becomes redacted whole.
func scrub(s string, secrets []string) string {
	var b strings.Builder
	last := 0
	budget := scrubSteps*len(s)*len(secrets) + 4096
	for i := 0; i < len(s); {
		n := 0
		for _, sec := range secrets {
			var ok bool
			if n, ok = matchSecret(s, i, sec, &budget); !ok {
				return redacted
			}
			if n > 0 {
				break
			}
		}
		if n == 0 {
			i++
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:i])
		b.WriteString(redacted)
		i += n
		last = i
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// clean makes server text safe to print: invalid UTF-8 and control
// characters become U+FFFD, and it is cut to at most max bytes plus "…".
func clean(s string, max int) string {
	if strings.IndexFunc(s, func(r rune) bool { return r == utf8.RuneError || unicode.IsControl(r) }) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) { // C0, DEL and C1 (NEL, CSI)
				return utf8.RuneError
			}
			return r
		}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
