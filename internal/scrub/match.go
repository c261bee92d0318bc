package scrub

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The matcher of the scrubber (scrub.go): how an echo of a secret, in any of
// the forms that the package doc lists, is found at one place in a text.

// matchSecret returns the length of the echo of sec that starts at s[i], or
// 0 if there is none there. The forms are ambiguous ("&" is itself and the
// start of "&amp;"), so the match backtracks; each step is paid from budget,
// shared by every match of one scrub, so that hostile text cannot make the
// scrubber run long. ok is false when the budget ran out: the text could
// not be checked, and must not be shown. word: the echo must end where a
// word may (see boundary), as a short value's must.
func matchSecret(s string, i int, sec string, word bool, budget *int) (n int, ok bool) {
	end := matchFrom(s, i, sec, 0, false, word, budget)
	if *budget < 0 {
		return 0, false
	}
	if end < 0 {
		return 0, true
	}
	return end - i, true
}

// maxForms bounds how many encodings of one rune can match at one place.
const maxForms = 8

// matchFrom matches sec[j:] against s[i:] and returns where the echo ends
// in s, or -1. inBadRun: sec[j-1] was a byte that is not UTF-8, matched as
// U+FFFD (which may stand for a whole run of such bytes). word: an echo
// that does not end at a word boundary does not count, and the match
// backtracks to find a longer form ("&amp;" rather than "&").
func matchFrom(s string, i int, sec string, j int, inBadRun, word bool, budget *int) int {
	for j < len(sec) {
		if *budget--; *budget < 0 {
			return -1
		}
		var ends [maxForms]int
		var bad [maxForms]bool
		n := 0
		add := func(k int, isBad bool) {
			if k > 0 && n < maxForms {
				ends[n], bad[n] = i+k, isBad
				n++
			}
		}
		r, size := utf8.DecodeRuneInString(sec[j:])
		if r == utf8.RuneError && size == 1 {
			c := sec[j]
			add(rawPrefix(s[i:], sec[j:j+1]), false)
			add(byteEscape(s[i:], c), false)
			for _, k := range runeForms(s[i:], utf8.RuneError) {
				add(k, true)
			}
			if inBadRun {
				ends[n], bad[n] = i, true // one U+FFFD stood for the whole run
				n++
			}
		} else {
			for _, k := range runeForms(s[i:], r) {
				add(k, false)
			}
			add(bytesEscaped(s[i:], sec[j:j+size]), false)
		}
		switch n {
		case 0:
			return -1
		case 1:
			i, inBadRun = ends[0], bad[0]
			j += size
			continue
		}
		for k := 0; k < n; k++ {
			if end := matchFrom(s, ends[k], sec, j+size, bad[k], word, budget); end >= 0 {
				return end
			}
		}
		return -1
	}
	if word && !boundary(s[i:], false) {
		return -1
	}
	return i
}

// rawPrefix is len(p) if s starts with p, else 0.
func rawPrefix(s, p string) int {
	if strings.HasPrefix(s, p) {
		return len(p)
	}
	return 0
}

// runeForms returns the lengths of every echo of r (but the per-byte ones)
// at the start of s: raw, "+" for a space, a JSON escape (perhaps quoted
// once more), an HTML character reference.
func runeForms(s string, r rune) []int {
	var out []int
	var buf [utf8.UTFMax]byte
	if k := rawPrefix(s, string(buf[:utf8.EncodeRune(buf[:], r)])); k > 0 {
		out = append(out, k)
	}
	if s == "" {
		return out
	}
	switch s[0] {
	case '+':
		if r == ' ' {
			out = append(out, 1)
		}
	case '\\':
		// An escape quoted once more, or twice (Go's %q in net/http's
		// errors writes \\u0026 for \u0026), has more backslashes in
		// front: the last one starts the escape.
		b := backslashes(s)
		if k := matchJSONEscape(s[b-1:], r); k > 0 {
			out = append(out, b-1+k)
		}
		if r == '\\' { // a backslash, escaped and quoted: a run of them
			for k := 2; k <= b; k++ {
				out = append(out, k)
			}
		}
	case '&':
		if k := matchHTMLRef(s, r); k > 0 {
			out = append(out, k)
		}
	}
	return out
}

// bytesEscaped matches the bytes of one rune, each as "%XX" or each as
// "\xXX", at the start of s.
func bytesEscaped(s, bs string) int {
	i := 0
	for k := 0; k < len(bs); k++ {
		n := byteEscape(s[i:], bs[k])
		if n == 0 {
			return 0
		}
		i += n
	}
	return i
}

// byteEscape matches one byte as "%XX" (form encoding) or as "\xXX" (Go's
// %q and Python's repr, for a byte that is not UTF-8; quoting may double
// the backslash), hex in either case, at the start of s.
func byteEscape(s string, c byte) int {
	hexAt := func(k int) bool {
		return k+2 <= len(s) && unhex(s[k]) == int(c>>4) && unhex(s[k+1]) == int(c&0xf)
	}
	switch {
	case s == "":
	case s[0] == '%':
		if hexAt(1) {
			return 3
		}
	case s[0] == '\\':
		k := backslashes(s)
		if k < len(s) && s[k] == 'x' && hexAt(k+1) {
			return k + 3
		}
	}
	return 0
}

// backslashes counts the backslashes at the start of s.
func backslashes(s string) int {
	n := 0
	for n < len(s) && s[n] == '\\' {
		n++
	}
	return n
}

// jsonShort are the two-character escapes of JSON, and of Go's %q (which
// adds \a and \v).
var jsonShort = map[byte]rune{'"': '"', '\\': '\\', '/': '/', 'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}

// matchJSONEscape matches r as a JSON escape at the start of s ("\" first).
func matchJSONEscape(s string, r rune) int {
	if len(s) < 2 {
		return 0
	}
	if s[1] == 'U' { // Go's %q beyond the BMP
		if len(s) >= 10 {
			u1, ok1 := hex4(s, 2)
			u2, ok2 := hex4(s, 6)
			if ok1 && ok2 && rune(u1<<16|u2) == r {
				return 10
			}
		}
		return 0
	}
	if s[1] != 'u' {
		if v, ok := jsonShort[s[1]]; ok && v == r {
			return 2
		}
		return 0
	}
	u, ok := hex4(s, 2)
	if !ok {
		return 0
	}
	if rune(u) == r {
		return 6
	}
	if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar && rune(u) == r1 {
		// The low surrogate, its backslash perhaps quoted once more.
		if b := backslashes(s[6:]); b > 0 && len(s) > 6+b && s[6+b] == 'u' {
			if u2, ok := hex4(s, 7+b); ok && rune(u2) == r2 {
				return 11 + b
			}
		}
	}
	return 0
}

// htmlNamed are the named character references an HTML escaper writes.
var htmlNamed = map[string]rune{"amp": '&', "lt": '<', "gt": '>', "quot": '"', "apos": '\''}

// matchHTMLRef matches r as an HTML character reference at the start of s
// ("&" first): named, decimal or hexadecimal.
func matchHTMLRef(s string, r rune) int {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 10 {
		return 0
	}
	ref := s[1:end]
	if v, ok := htmlNamed[ref]; ok {
		if v == r {
			return end + 1
		}
		return 0
	}
	if ref[0] != '#' || len(ref) < 2 {
		return 0
	}
	digits, base := ref[1:], 10
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	if digits == "" {
		return 0
	}
	v := 0
	for k := 0; k < len(digits); k++ {
		d := unhex(digits[k])
		if d < 0 || d >= base {
			return 0
		}
		v = v*base + d
	}
	if rune(v) == r {
		return end + 1
	}
	return 0
}

// hex4 parses the four hex digits at s[i:i+4].
func hex4(s string, i int) (int, bool) {
	if len(s) < i+4 {
		return 0, false
	}
	v := 0
	for k := i; k < i+4; k++ {
		d := unhex(s[k])
		if d < 0 {
			return 0, false
		}
		v = v<<4 | d
	}
	return v, true
}

// unhex is the value of a hex digit in either case, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
