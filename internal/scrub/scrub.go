// Package scrub finds secrets in text that a server, a gateway or net/http
// may have echoed, and replaces them with [Redacted].
//
// Every piece of text that comes from the server or the transport and
// reaches an error or a log line of the SDK (an error body's fields, the
// transport's error text, which quotes the server's status line and
// headers, a read error) goes through a [Scrubber] first. A Scrubber knows
// the client secret and the tokens of one call, and finds each of them in
// every form a server, a gateway or net/http could echo it in, without
// listing the forms one by one: the matcher compares the text with the
// secret a rune at a time, and accepts for each rune any of its encodings:
//
//   - the raw bytes;
//   - form encoding (url.QueryEscape and its kin): "%XX" for any byte, in
//     either case of hex, and "+" for a space;
//   - JSON string escapes, as Go's encoder (which escapes <, > and & as
//     \u003c, \u003e, \u0026, and U+2028, U+2029), Python's json.dumps (every
//     non-ASCII rune as \uXXXX, a surrogate pair beyond U+FFFF) and PHP's
//     json_encode (also "\/" for "/") write them: "\uXXXX" in either case of
//     hex, and \" \\ \/ \b \f \n \r \t; Go's %q adds \a, \v, \xXX and
//     \UXXXXXXXX, and may quote an escape once more (\\u0026);
//   - HTML character references, as an error page shows the request: &amp;
//     &lt; &gt; &quot; &apos;, and &#NN; and &#xHH; for any rune;
//   - for a byte that is not valid UTF-8: U+FFFD in any of the forms above,
//     as a server that decoded the request leniently echoes it (one U+FFFD
//     for the byte, or one for a whole run of bad bytes).
//
// The forms may mix within one echo.
//
// # Short values
//
// A secret or token of fewer than [MinLen] characters cannot be told apart
// from the letters around it: a token "x" is in "x509", a client secret "s"
// is in "connection refused". Such a value is replaced only where it stands
// as a word of its own: its echo has no letter or digit right before it nor
// right after it. "x509: certificate signed by unknown authority" keeps its
// text with a token "x"; "lookup x: no such host" becomes "lookup
// [redacted]: no such host". A value of MinLen characters or more is
// replaced wherever it appears, inside a word too: a false match costs only
// text, a missed one would show a secret.
//
// # Errors
//
// [Wrap] scrubs the text of an error without changing what it is: errors.Is
// still sees the original cause, and errors.As finds every error of the
// cause's tree whose own text holds no secret.
//
// # Cost
//
// The matcher backtracks, within a budget of steps per byte of text and
// secret; text it cannot check within the budget is replaced whole. A
// Scrubber is only built when an error is, so the success path pays nothing.
package scrub

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted stands in for a secret in formatted output and in scrubbed text.
const Redacted = "[redacted]"

// MinLen is the number of characters (runes) from which a secret is
// replaced wherever it appears; a shorter one is replaced only as a word of
// its own (see the package doc).
const MinLen = 4

// ClientSecrets lists what a client's scrubber looks for besides the tokens
// of a call: the client secret, and the base64 text of both Basic
// credentials (the form-encoded "id:secret" pair the SDK sends, RFC 6749
// §2.3.1, and the raw pair a server may re-encode, each in the standard and
// the URL alphabet, without padding). It is computed once per client.
func ClientSecrets(clientID, clientSecret string) []string {
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

// A Scrubber replaces a set of secrets, in every form the package doc
// lists, in text. It is immutable and safe for concurrent use.
type Scrubber struct {
	secrets []secret // longest first
}

// secret is one value a Scrubber looks for.
type secret struct {
	s     string
	short bool // fewer than MinLen runes: replaced only as a word of its own
}

// New returns a Scrubber for secrets; empty ones are ignored.
func New(secrets ...string) *Scrubber {
	sc := &Scrubber{secrets: make([]secret, 0, len(secrets))}
	for _, s := range secrets {
		if s != "" && !slices.ContainsFunc(sc.secrets, func(x secret) bool { return x.s == s }) {
			sc.secrets = append(sc.secrets, secret{s: s, short: utf8.RuneCountInString(s) < MinLen})
		}
	}
	// Longest first, so that a token holding the secret (or the other way
	// round) is replaced whole.
	slices.SortStableFunc(sc.secrets, func(a, b secret) int { return len(b.s) - len(a.s) })
	return sc
}

// steps is the matcher's budget per byte of text and secret: plain text
// costs one or two steps per byte and secret, a real echo about one per byte
// of the secret. Text that would take more (a long token echoed with one
// byte changed, say, which makes every position a long near-match) is
// replaced whole.
const steps = 16

// String returns s with every echo of each secret replaced with Redacted.
// Text that the matcher cannot check within its budget becomes Redacted
// whole.
func (sc *Scrubber) String(s string) string {
	if len(sc.secrets) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	budget := steps*len(s)*len(sc.secrets) + 4096
	for i := 0; i < len(s); {
		n := 0
		for _, sec := range sc.secrets {
			if sec.short && !boundary(s[:i], true) {
				continue
			}
			var ok bool
			if n, ok = matchSecret(s, i, sec.s, sec.short, &budget); !ok {
				return Redacted
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
		b.WriteString(Redacted)
		i += n
		last = i
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// boundary reports whether an echo may end where before ends (before is
// true) or start where after starts: no letter or digit there.
func boundary(s string, before bool) bool {
	var r rune
	if before {
		r, _ = utf8.DecodeLastRuneInString(s)
	} else {
		r, _ = utf8.DecodeRuneInString(s)
	}
	return s == "" || !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// Clean makes server text safe to print: invalid UTF-8 and control
// characters become U+FFFD, and it is cut to at most max bytes plus "…".
func Clean(s string, max int) string {
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
