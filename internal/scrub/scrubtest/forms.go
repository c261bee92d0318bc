// Package scrubtest builds, for tests, the forms in which a server, a
// gateway or net/http may echo a secret: each form is written by the
// encoder that writes it, not by the scrubber's rules, so that a test of
// the scrubber checks it against the encoders.
package scrubtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
)

// EchoForms are the forms in which a server may echo s, by name.
func EchoForms(s string) map[string]string {
	goJSON := func(s string, escapeHTML bool) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escapeHTML)
		_ = enc.Encode(s)
		out := strings.TrimSpace(b.String())
		return out[1 : len(out)-1]
	}
	return map[string]string{
		"raw":                    s,
		"lenient UTF-8":          strings.ToValidUTF8(s, "\uFFFD"),
		"form-encoded":           url.QueryEscape(s),
		"path-escaped":           url.PathEscape(s),
		"Go JSON":                goJSON(s, true),
		"Go JSON without HTML":   goJSON(s, false),
		"Python JSON":            PythonJSON(s, "%04x", false),
		"Python JSON upper hex":  PythonJSON(s, "%04X", false),
		"PHP JSON":               PythonJSON(s, "%04x", true),
		"HTML":                   html.EscapeString(s),
		"Go quoted":              Unquoted(strconv.Quote(s)),
		"Go quoted JSON":         Unquoted(strconv.Quote(PythonJSON(s, "%04x", true))),
		"JSON of form-encoded":   goJSON(url.QueryEscape(s), true),
		"Go quoted form-encoded": Unquoted(strconv.Quote(url.QueryEscape(s))),
	}
}

// Unquoted drops the quotes around a quoted string, as net/http's errors
// show the server's bytes between quotes of their own.
func Unquoted(q string) string { return q[1 : len(q)-1] }

// PythonJSON is what Python's json.dumps(s) writes between the quotes with
// ensure_ascii (the default), after decoding s as UTF-8 with
// errors="replace": every rune outside printable ASCII as \uXXXX, beyond
// U+FFFF as a surrogate pair. slash adds PHP's "\/".
func PythonJSON(s, hexFormat string, slash bool) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '/' && slash:
			b.WriteString(`\/`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&b, `\u`+hexFormat+`\u`+hexFormat, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&b, `\u`+hexFormat, r)
		}
	}
	return b.String()
}

// BasicForms are the base64 texts of both Basic credentials, as a server
// that echoes the Authorization header, or re-encodes the pair, shows them.
func BasicForms(id, secret string) map[string]string {
	enc := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	raw := id + ":" + secret
	return map[string]string{
		"base64 of the sent pair":          base64.StdEncoding.EncodeToString([]byte(enc)),
		"base64 of the raw pair":           base64.StdEncoding.EncodeToString([]byte(raw)),
		"base64url of the raw pair":        base64.URLEncoding.EncodeToString([]byte(raw)),
		"JSON of base64 of the raw pair":   PythonJSON(base64.StdEncoding.EncodeToString([]byte(raw)), "%04x", true),
		"Basic header with the sent pair":  "Basic " + base64.StdEncoding.EncodeToString([]byte(enc)),
		"base64 of the sent pair, no pads": base64.RawStdEncoding.EncodeToString([]byte(enc)),
	}
}
