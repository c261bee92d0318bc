package cryptofusetest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Content types the real server sends.
const (
	contentTypeJSON     = "application/json"
	contentTypeHTML     = "text/html; charset=utf-8" // Django's HttpResponse
	contentTypeHTMLPage = "text/html"                // Django 3.2's error pages (DOT 1.7.0)
)

// Django's error pages when DEBUG is off, byte for byte.
const (
	page400 = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n"
	page404 = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n"
	page500 = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n"
)

// write sends a complete response with an explicit Content-Length.
func write(w http.ResponseWriter, status int, contentType, body string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// writePage sends one of Django's HTML error pages: the same bytes in
// Django 3.2 and 5.2, sent as text/html by 3.2 and with a charset by 5.2.
func (s *Server) writePage(w http.ResponseWriter, status int) {
	page := map[int]string{
		http.StatusBadRequest:          page400,
		http.StatusNotFound:            page404,
		http.StatusInternalServerError: page500,
	}[status]
	contentType := contentTypeHTML
	if s.cfg.dot170 {
		contentType = contentTypeHTMLPage
	}
	write(w, status, contentType, page)
}

// writeEmpty sends Django's empty HttpResponse, as for a revocation, an
// OPTIONS request or a 403.
func writeEmpty(w http.ResponseWriter, status int) {
	write(w, status, contentTypeHTML, "")
}

// writeNotAllowed answers a method a view does not implement, as Django's
// View.http_method_not_allowed does; OPTIONS gets the same Allow with 200.
func writeNotAllowed(w http.ResponseWriter, method, allow string) {
	w.Header().Set("Allow", allow)
	if method == http.MethodOptions {
		writeEmpty(w, http.StatusOK)
		return
	}
	writeEmpty(w, http.StatusMethodNotAllowed)
}

// oauthError is an oauthlib OAuth2Error as the server serializes it.
type oauthError struct {
	status      int
	code        string // "error"
	description string // "error_description"; omitted when empty
	state       string // echoes the request's state parameter; omitted when empty
}

// writeOAuth sends an oauthlib JSON response: the token endpoint's success
// and errors, and the revocation endpoint's errors. A 401 carries oauthlib's
// WWW-Authenticate challenge.
func writeOAuth(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	write(w, status, contentTypeJSON, body)
}

func writeOAuthError(w http.ResponseWriter, e oauthError) {
	if e.status == http.StatusUnauthorized {
		challenge := `Bearer error="` + e.code + `"`
		if e.description != "" {
			challenge += `, error_description="` + e.description + `"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	obj := jsonObject{}
	obj.str("error", e.code)
	if e.description != "" {
		obj.str("error_description", e.description)
	}
	if e.state != "" {
		obj.str("state", e.state)
	}
	writeOAuth(w, e.status, obj.String())
}

// jsonObject builds a JSON object the way Python's json.dumps writes a dict
// with its defaults: keys in insertion order, ", " and ": " as separators,
// and every character outside printable ASCII escaped (ensure_ascii).
type jsonObject struct {
	b strings.Builder
}

func (o *jsonObject) key(k string) {
	if o.b.Len() == 0 {
		o.b.WriteByte('{')
	} else {
		o.b.WriteString(", ")
	}
	o.b.WriteString(pyJSONString(k))
	o.b.WriteString(": ")
}

func (o *jsonObject) str(k, v string) {
	o.key(k)
	o.b.WriteString(pyJSONString(v))
}

func (o *jsonObject) number(k string, v int64) {
	o.key(k)
	o.b.WriteString(strconv.FormatInt(v, 10))
}

func (o *jsonObject) boolean(k string, v bool) {
	o.key(k)
	o.b.WriteString(strconv.FormatBool(v))
}

// String returns the object's JSON text.
func (o *jsonObject) String() string {
	if o.b.Len() == 0 {
		return "{}"
	}
	return o.b.String() + "}"
}

// pyJSONString quotes s as Python's json.dumps does with ensure_ascii=True.
// Invalid UTF-8 in s is read as U+FFFD.
func pyJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case ' ' <= r && r <= '~':
				b.WriteRune(r)
			case r < 0x10000:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
