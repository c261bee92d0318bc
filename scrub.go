package cryptofuse

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// redacted stands in for a secret in formatted output and in scrubbed server
// text.
const redacted = "[redacted]"

// scrubber returns a function that replaces the client secret and the given
// tokens (in raw and form-encoded forms) in server-provided text.
func (c *Client) scrubber(tokens ...string) func(string) string {
	secrets := c.redact
	for _, t := range tokens {
		secrets = append(secretForms(t), secrets...)
	}
	return func(s string) string {
		for _, v := range secrets {
			s = strings.ReplaceAll(s, v, redacted)
		}
		return s
	}
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

// secretForms lists s as it could be echoed back: raw and form-encoded.
func secretForms(s string) []string {
	if s == "" {
		return nil
	}
	forms := []string{s}
	if v := strings.ToValidUTF8(s, "\uFFFD"); v != s {
		forms = append(forms, v) // as a server that decoded it leniently echoes it
	}
	for _, f := range forms[:len(forms):len(forms)] {
		if esc := url.QueryEscape(f); esc != f {
			forms = append(forms, esc)
		}
	}
	return forms
}
