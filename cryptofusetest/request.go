package cryptofusetest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// Django's limits on a request body (DATA_UPLOAD_MAX_MEMORY_SIZE and
// DATA_UPLOAD_MAX_NUMBER_FIELDS). Past them Django answers 400.
const (
	maxBodyBytes = 2621440
	maxFields    = 1000
)

// errBadRequest means the request body could not be parsed, or broke one of
// Django's limits: the real server answers with its HTML 400 page.
var errBadRequest = errors.New("cryptofusetest: unparsable request data")

// maxDrainBytes bounds how much of a refused body is read and discarded
// before the answer, so that the client, still sending, reads the answer
// instead of a connection reset (Django's development server drains too).
const maxDrainBytes = 16 << 20

// refuse drains what is left of a body that is being refused, and returns
// errBadRequest.
func refuse(body io.Reader) (params, error) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrainBytes))
	return nil, errBadRequest
}

// params holds request parameters as Django's QueryDict hands them to
// oauthlib: one value per name, the last one sent. Django collapses repeated
// parameters this way before oauthlib sees them, so the real server never
// answers "Duplicate grant_type parameter.".
type params map[string]string

// has reports whether name was sent at all (Python: value is not None).
func (p params) has(name string) bool {
	_, ok := p[name]
	return ok
}

// set reports whether name was sent with a non-empty value (Python: the
// value is truthy).
func (p params) set(name string) bool {
	return p[name] != ""
}

// parseQueryDict parses a query string or an application/x-www-form-urlencoded
// body the way Django 3.2's QueryDict does: the bytes are decoded as UTF-8
// (else ISO-8859-1), split on '&' only, and each name and value is
// unquote_plus'ed; a field without '=' has the value "". More than maxFields
// fields is errBadRequest.
func parseQueryDict(raw []byte) (params, error) {
	if bytes.Count(raw, []byte("&"))+1 > maxFields {
		return nil, errBadRequest
	}
	return parseQSL(decodeText(raw)), nil
}

// parseQSL is Python's urllib.parse.parse_qsl(qs, keep_blank_values=True),
// keeping the last value of each name.
func parseQSL(qs string) params {
	p := params{}
	for _, field := range strings.Split(qs, "&") {
		if field == "" {
			continue
		}
		name, value, _ := strings.Cut(field, "=")
		p[unquotePlus(name)] = unquotePlus(value)
	}
	return p
}

// oauthlibParams returns the parameters oauthlib's Request sees: those of
// the query string, overridden by those of the body. ok is false when
// oauthlib would raise "Invalid hex encoding in query string." (a '%' not
// followed by two hexadecimal digits, except at the very end), which the
// real server does not catch: it answers 500.
func oauthlibParams(rawQuery string, post params) (p params, ok bool) {
	for i := 0; i < len(rawQuery); i++ {
		if rawQuery[i] != '%' || i+1 >= len(rawQuery) {
			continue
		}
		if !isHex(rawQuery[i+1]) || i+2 < len(rawQuery) && !isHex(rawQuery[i+2]) {
			return nil, false
		}
	}
	p = parseQSL(decodeText([]byte(rawQuery)))
	for name, value := range post {
		p[name] = value
	}
	return p, true
}

// mediaType returns the media type of a Content-Type header value as
// Django compares it: the text before the first ';' outside quotes,
// stripped. Django 3.2 (DOT 1.7.0, dot170) keeps its case, as Python's
// cgi.parse_header does, so "Application/X-WWW-Form-Urlencoded" is not a
// form; Django 5.2 (DOT 3.4.1) lower-cases it.
func mediaType(contentType string, dot170 bool) string {
	if !dot170 {
		return strings.ToLower(mediaType(contentType, true))
	}
	s := latin1([]byte(contentType))
	end := strings.IndexByte(s, ';')
	for end > 0 && (strings.Count(s[:end], `"`)-strings.Count(s[:end], `\"`))%2 == 1 {
		next := strings.IndexByte(s[end+1:], ';')
		if next < 0 {
			end = -1
			break
		}
		end += 1 + next
	}
	if end >= 0 {
		s = s[:end]
	}
	return pyStrip(s)
}

// postParams returns Django's request.POST for r: the fields of an
// application/x-www-form-urlencoded or multipart/form-data body of a POST
// request, and nothing for any other method or content type (a JSON body
// has no parameters). method is r.Method in upper case, as Django sees it.
func postParams(r *http.Request, method string) (params, error) {
	if method != http.MethodPost {
		return params{}, nil
	}
	switch mediaType(r.Header.Get("Content-Type"), isDOT170(r)) {
	case "application/x-www-form-urlencoded":
		if r.ContentLength > maxBodyBytes {
			return refuse(r.Body)
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil || len(raw) > maxBodyBytes {
			return refuse(r.Body)
		}
		return parseQueryDict(raw)
	case "multipart/form-data":
		return multipartParams(r)
	default:
		return params{}, nil
	}
}

// multipartParams reads the non-file fields of a multipart/form-data body,
// as Django's MultiPartParser puts them in request.POST. Like Django, it
// answers errBadRequest for a missing boundary and for too many or too large
// fields, and otherwise keeps whatever fields it could read from a malformed
// body.
func multipartParams(r *http.Request) (params, error) {
	p := params{}
	if r.ContentLength == 0 {
		return p, nil
	}
	_, ctParams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ctParams["boundary"] == "" {
		return nil, errBadRequest
	}
	mr := multipart.NewReader(r.Body, ctParams["boundary"])
	budget, fields := maxBodyBytes, 0
	for {
		part, err := mr.NextRawPart()
		if err != nil {
			return p, nil
		}
		name := part.FormName()
		if name == "" || part.FileName() != "" {
			continue // files are not parameters; NextRawPart skips the rest
		}
		if fields++; fields > maxFields {
			return refuse(r.Body)
		}
		value, err := io.ReadAll(io.LimitReader(part, int64(budget)+1))
		if len(value) > budget {
			return refuse(r.Body)
		}
		if err != nil {
			return p, nil
		}
		budget -= len(value)
		p[name] = decodeUTF8Replace(value)
	}
}

// authorization returns the Authorization header as a WSGI server hands it
// to Django: repeated headers joined with ',' (so two Basic headers fail).
// ok is false when there is none.
func authorization(r *http.Request) (value string, ok bool) {
	v := r.Header.Values("Authorization")
	if len(v) == 0 {
		return "", false
	}
	return strings.Join(v, ","), true
}

// allParams reads a request's parameters as oauthlib merges them, the form
// body's (see postParams) and the query string's, for the endpoints that
// read both (revocation, introspection). A body it cannot read is answered
// 400, and a query oauthlib crashes on 500, as Django answers them; ok is
// false then, and the answer is written.
func (s *Server) allParams(w http.ResponseWriter, r *http.Request, method string) (p params, ok bool) {
	p, _, ok = s.readParams(w, r, method)
	return p, ok
}

// readParams is allParams that also returns the form body's parameters
// alone, for introspection, which reads its token from them.
func (s *Server) readParams(w http.ResponseWriter, r *http.Request, method string) (p, post params, ok bool) {
	post, err := postParams(r, method)
	if err != nil {
		s.writePage(w, http.StatusBadRequest)
		return nil, nil, false
	}
	if p, ok = oauthlibParams(r.URL.RawQuery, post); !ok {
		s.writePage(w, http.StatusInternalServerError)
		return nil, nil, false
	}
	return p, post, true
}

// postOnly answers a method other than POST with 405, as DOT's token and
// revocation views do, and returns the method in upper case.
func postOnly(w http.ResponseWriter, r *http.Request) (method string, ok bool) {
	method = strings.ToUpper(r.Method)
	if method != http.MethodPost {
		writeNotAllowed(w, method, "POST, OPTIONS")
		return method, false
	}
	return method, true
}
