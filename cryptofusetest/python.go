package cryptofusetest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reproduces the Python string semantics that the real server's
// answers depend on: urllib.parse.unquote_plus, bytes.decode("utf-8",
// "replace"), Django's decoding of a request body, and str.strip/str.split.

// unquotePlus is Python's urllib.parse.unquote_plus(s) with its defaults
// (encoding "utf-8", errors "replace"): '+' becomes a space, then each valid
// %XX escape is decoded. An invalid escape such as "%zz" or a trailing "%4"
// is kept as it is, and a decoded byte sequence that is not UTF-8 becomes
// U+FFFD per maximal invalid subpart. s must be valid UTF-8.
func unquotePlus(s string) string {
	return unquote(strings.ReplaceAll(s, "+", " "))
}

// unquote is Python's urllib.parse.unquote(s). Like Python, it decodes each
// run of ASCII characters separately and copies other characters unchanged.
func unquote(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var out strings.Builder
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] < utf8.RuneSelf {
			i++
		}
		if i > 0 {
			out.WriteString(decodeUTF8Replace(unquoteToBytes(s[:i])))
			s = s[i:]
			continue
		}
		for i < len(s) && s[i] >= utf8.RuneSelf {
			i++
		}
		out.WriteString(s[:i])
		s = s[i:]
	}
	return out.String()
}

// unquoteToBytes is Python's urllib.parse.unquote_to_bytes for an ASCII
// string: "%" followed by two hexadecimal digits becomes that byte, and any
// other "%" stays.
func unquoteToBytes(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return b
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// decodeUTF8Replace is Python's b.decode("utf-8", "replace"): each maximal
// subpart of an ill-formed sequence becomes one U+FFFD (Go's range loop would
// give one per byte).
func decodeUTF8Replace(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			out.WriteRune(utf8.RuneError)
			b = b[invalidPrefixLen(b):]
			continue
		}
		out.Write(b[:size])
		b = b[size:]
	}
	return out.String()
}

// invalidPrefixLen returns how many bytes at the start of b, which does not
// begin with a valid UTF-8 sequence, Python replaces with one U+FFFD: the lead
// byte and the continuation bytes that could still have completed it.
func invalidPrefixLen(b []byte) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := b[0]; {
	case 0xC2 <= c && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case 0xE1 <= c && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case 0xF1 <= c && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		c := b[n]
		if k == 0 && (c < lo || c > hi) || k > 0 && (c < 0x80 || c > 0xBF) {
			break
		}
		n++
	}
	return n
}

// decodeText is how Django turns a request body or query string into text:
// UTF-8 when the bytes are valid UTF-8, else ISO-8859-1.
func decodeText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return latin1(b)
}

// latin1 decodes b as ISO-8859-1, the way WSGI servers hand header values to
// Python.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// isPySpace reports whether Python's str.isspace holds for r. It differs
// from unicode.IsSpace only in U+001C to U+001F.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || 0x1C <= r && r <= 0x1F
}

// pyStrip is Python's s.strip().
func pyStrip(s string) string {
	return strings.TrimFunc(s, isPySpace)
}

// pySplit is Python's s.split() with no separator: fields separated by runs
// of whitespace.
func pySplit(s string) []string {
	return strings.FieldsFunc(s, isPySpace)
}
