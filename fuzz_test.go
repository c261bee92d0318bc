package cryptofuse

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The fuzz targets below check properties of the parsers that turn server
// bytes into results: the error-body parser (newError, errorJSON.fill), the
// token-body parser (parseToken) and parseRetryAfter. Their seed corpus (the
// f.Add calls and testdata/fuzz/Fuzz*) runs as ordinary tests under
// `go test ./...`; fuzz one of them with, for example,
//
//	go test -run '^$' -fuzz FuzzErrorBody -fuzztime 2m .

// The secret and the token the fuzz targets know. A server echoes them, so
// they must never reach an error. Both need form-encoding, so that the raw
// and the encoded forms differ.
const (
	fuzzSecret = "p+ss:w%rd&/=é-SECRET-9f2c"
	fuzzToken  = "tok+en/=&%-TOKEN-é-41d7"
)

// fuzzAt is the fuzz targets' receipt time.
var fuzzAt = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// maxErrorText bounds the length of Error(): the SDK's own words plus the
// capped code and description.
const maxErrorText = 1024

// fuzzClient returns a Client holding fuzzSecret. It sends nothing.
func fuzzClient(t testing.TB) *Client {
	t.Helper()
	c, err := NewClient(testID, fuzzSecret)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// forbidden lists the forms in which the client secret and the given tokens
// could be echoed back: raw, form-encoded, and the Basic credentials (which
// are base64).
func forbidden(c *Client, tokens ...string) []string {
	forms := []string{fuzzSecret, url.QueryEscape(fuzzSecret), strings.TrimPrefix(c.authorization[0], "Basic ")}
	for _, tok := range tokens {
		forms = append(forms, tok, url.QueryEscape(tok))
	}
	return forms
}

// echoes returns server texts that echo the secret and the token in every
// form a server could have them in: raw, form-encoded, in the Basic header,
// and JSON-escaped by the server's encoder.
func echoes(c *Client, token string) []string {
	escaped, _ := json.Marshal(fuzzSecret + " " + token) // \u0026 and friends
	return []string{
		fuzzSecret,
		url.QueryEscape(fuzzSecret),
		c.authorization[0],
		"Authorization: " + c.authorization[0] + " token=" + url.QueryEscape(token) + "&token_type_hint=access_token",
		token,
		url.QueryEscape(token),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(testID) + ":" + url.QueryEscape(fuzzSecret))),
		strings.Trim(string(escaped), `"`),
		fuzzSecret + fuzzSecret + token + token,            // back to back
		"x" + fuzzSecret[:5] + fuzzSecret + fuzzSecret[5:], // nested in itself
	}
}

// checkErrorText fails if e's text shows a forbidden string, is not valid
// UTF-8, holds a control character or is too long.
func checkErrorText(t *testing.T, e *Error, forbid []string) {
	t.Helper()
	fields := map[string]struct {
		s   string
		max int
	}{
		"Error()":     {e.Error(), maxErrorText},
		"Code":        {e.Code, maxCodeLen + len("…")},
		"Description": {e.Description, maxDescriptionLen + len("…")},
		"URI":         {e.URI, maxURILen + len("…")},
	}
	for name, f := range fields {
		if !utf8.ValidString(f.s) {
			t.Errorf("%s = %q is not valid UTF-8", name, f.s)
		}
		if i := strings.IndexFunc(f.s, unicode.IsControl); i >= 0 {
			t.Errorf("%s = %q has a control character at byte %d", name, f.s, i)
		}
		if len(f.s) > f.max {
			t.Errorf("%s is %d bytes long, want at most %d", name, len(f.s), f.max)
		}
		for _, s := range forbid {
			if strings.Contains(f.s, s) {
				t.Errorf("%s = %q contains the secret %q", name, f.s, s)
			}
		}
	}
}

// leaks reports whether text shows tok, a token the server sent. Only tokens
// that cannot occur in the SDK's own words by chance are checked: at least 8
// bytes of token characters, with no space, ':', '(' or brackets, so that tok
// cannot span a separator or hide in "[redacted]".
func leaks(text, tok string) bool {
	if len(tok) < 8 || strings.IndexFunc(tok, func(r rune) bool {
		return !(r < utf8.RuneSelf && (r == '-' || r == '.' || r == '_' || r == '~' || r == '+' || r == '/' ||
			'0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'))
	}) >= 0 {
		return false
	}
	return strings.Contains(strings.ReplaceAll(text, redacted, "\x00"), tok)
}

// skeleton is e.Error() without the server's text (a registered code is
// public, so it stays): what an error shows of its own accord.
func skeleton(e *Error) string {
	s := *e
	if !registeredCodes[s.Code] {
		s.Code = ""
	}
	s.Description = ""
	return s.Error()
}

// fixNow fixes the package clock for a fuzz target and all its inputs.
func fixNow(f *testing.F, at time.Time) {
	f.Helper()
	old := now
	now = func() time.Time { return at }
	f.Cleanup(func() { now = old })
}

// statusIn maps any int into [lo, hi].
func statusIn(n, lo, hi int) int {
	if lo <= n && n <= hi {
		return n
	}
	span := hi - lo + 1
	return lo + ((n%span)+span)%span
}

// dotBodies are the answers /work/shared/dot-behaviour.md shows a real
// django-oauth-toolkit server giving, plus the introspection answers.
var dotBodies = []string{
	`{"access_token": "Zx8dQ2mLk7pR4tW9vB3nF6hJ1sC5yE", "expires_in": 36000, "token_type": "Bearer", "scope": "read"}`,
	`{"access_token": "Zx8dQ2mLk7pR4tW9vB3nF6hJ1sC5yE", "expires_in": 36000, "token_type": "Bearer", "scope": "read write"}`,
	`{"error": "invalid_scope"}`,
	`{"error": "invalid_client"}`,
	`{"error": "unsupported_grant_type"}`,
	`{"error": "invalid_grant", "error_description": "Invalid credentials given."}`,
	`{"error": "invalid_request", "error_description": "Missing token parameter."}`,
	`{"error": "invalid_request", "error_description": "URL query parameters are not allowed"}`,
	`{"active": false}`,
	`{"active": true, "scope": "read write", "exp": 1795608000, "client_id": "svc-id"}`,
	"", // revoke's 200, the 405 and DOT's 403
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n",
}

// dotHeaderValues are the header values dot-behaviour.md shows. None is a
// Retry-After (DOT never sends one), which makes them garbage for it.
var dotHeaderValues = []string{
	`Bearer error="invalid_client"`,
	`Bearer realm="api",error="invalid_token"`,
	"POST, OPTIONS",
	"text/html; charset=utf-8",
	"application/json",
	"no-store",
	"no-cache",
}

// retryAfterSeeds are Retry-After values, good and bad.
var retryAfterSeeds = []string{
	"", "0", "1", "120", " 5 ", "-1", "+5", "1.5", "5s", "abc", "1e20", "0x10",
	"9999999999", "9999999999999", "18446744073709551615", "18446744073709551616",
	"99999999999999999999999", "9223372036", "9223372037", "00000000000000000000001",
	"Wed, 25 Nov 2026 12:01:00 GMT",          // a minute after fuzzAt
	"Wed, 25 Nov 2026 11:59:00 GMT",          // in the past
	"Wednesday, 25-Nov-26 12:01:00 GMT",      // RFC 850
	"Wed Nov 25 12:01:00 2026",               // asctime
	"Wed, 32 Nov 2026 12:01:00 GMT",          // no such day
	"Thu, 01 Jan 1970 00:00:00 GMT",          // the epoch
	"Mon, 01 Jan 0001 00:00:00 GMT",          // year 1
	"Sun, 01 Jan 2317 00:00:00 GMT",          // near the Duration limit
	"\t7\r\n", "\u00a09", "٣", "１２", "7\x00", // odd spaces and digits
}

// FuzzErrorBody checks the *Error built from any non-2xx answer: the status,
// body and Retry-After of a revoke that sent fuzzToken.
func FuzzErrorBody(f *testing.F) {
	c := fuzzClient(f)
	for _, body := range dotBodies {
		f.Add(400, []byte(body), "")
	}
	for _, ra := range append(retryAfterSeeds, dotHeaderValues...) {
		f.Add(503, []byte(`{"error": "temporarily_unavailable"}`), ra)
	}
	for _, echo := range echoes(c, fuzzToken) {
		for _, tmpl := range []string{
			`{"error": "invalid_client", "error_description": %s, "error_uri": %[1]s}`,
			`{"error": %s}`,
			`{"error": "server_error", "error_description": %s}`,
		} {
			js, _ := json.Marshal(echo)
			f.Add(401, []byte(fmt.Sprintf(tmpl, js)), "")
		}
	}
	for _, body := range []string{
		// BUG (see TestBug_C1ControlsInErrorText): U+0085 and U+009B, C1
		// control characters, pass clean() today, so this seed fails.
		`{"error": "line1\nX-Injected: yes", "error_description": "\u001b[31mred\u0007\u0000\u007f\u0085\u009b2J"}`,
		`{"error": "invalid_request", "error_description": "` + strings.Repeat("é", 2*maxDescriptionLen) + `"}`,
		`{"error": "` + strings.Repeat("x", 2*maxCodeLen) + `"}`,
		"{\"error\": \"a\xffb\", \"error_description\": \"\xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80\"}", // invalid UTF-8
		`{"error": "\ud800", "error_description": "\udc00\ud83d\ude00"}`,                             // lone surrogates
		`{"error": null, "error_description": "no code"}`,
		`{"error": 42}`,
		`{"error": ["invalid_client"]}`,
		`{"error": ""}`,
		`[{"error": "invalid_client"}]`,
		`{"error": "invalid_client"} trailing`,
		`{"error": "invalid_client", "error": "invalid_grant"}`,
		`{"ERROR": "invalid_client"}`,
		`{"error": "invalid_client"`,
		"\xef\xbb\xbf{\"error\": \"invalid_client\"}", // BOM
		`null`, `"invalid_client"`, `{}`,
		`{"error": "invalid_token", "error_description": "` + strings.Repeat(`\\`, 600) + `"}`,
		`{"error": "x", "error_description": "\u202eevil\u2066 \u2028 \ufeff"}`,
	} {
		f.Add(400, []byte(body), "")
	}
	f.Add(302, []byte(`<html>moved</html>`), "")
	f.Add(999, []byte(`{"error": "invalid_client"}`), "")
	f.Add(-1, []byte(`{"error": "invalid_client"}`), "1")

	fixNow(f, fuzzAt)
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		status = statusIn(status, 300, 999)
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {retryAfter}}}
		e := c.newError(opRevoke, resp, body, fuzzToken)
		if e == nil {
			t.Fatal("newError returned nil")
		}
		if e.Op != opRevoke || e.StatusCode != status {
			t.Errorf("Op, StatusCode = %q, %d, want %q, %d", e.Op, e.StatusCode, opRevoke, status)
		}
		if want := parseRetryAfter(retryAfter, now()); e.RetryAfter != want {
			t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, want)
		}
		if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
			t.Errorf("RetryAfter = %v, want within [0, %v]", e.RetryAfter, maxRetryAfter)
		}
		// The body has a code when it is a JSON object whose "error" is a
		// non-empty string and whose other RFC 6749 members are strings.
		var j struct {
			Error            any `json:"error"`
			ErrorDescription any `json:"error_description"`
			ErrorURI         any `json:"error_uri"`
		}
		hasCode := json.Unmarshal(body, &j) == nil
		for _, member := range []any{j.ErrorDescription, j.ErrorURI} {
			if _, isString := member.(string); member != nil && !isString {
				hasCode = false
			}
		}
		if code, isString := j.Error.(string); !isString || code == "" {
			hasCode = false
		}
		if got := e.Code != ""; got != hasCode {
			t.Errorf("Code = %q for body %q: got a code %v, want %v", e.Code, body, got, hasCode)
		}
		if code, ok := j.Error.(string); ok && registeredCodes[code] && e.Code != code {
			t.Errorf("registered code %q became %q", code, e.Code)
		}
		for name, s := range sentinels {
			if got, want := errors.Is(e, s), e.Code == s.(*codeError).code; got != want {
				t.Errorf("errors.Is(%q, %s) = %v, want %v", e.Code, name, got, want)
			}
		}
		if (e.detail == "redirect not followed") != (status < 400) {
			t.Errorf("detail = %q for status %d", e.detail, status)
		}
		if e.Unwrap() != nil {
			t.Errorf("Unwrap() = %v, want nil: nothing failed but the answer", e.Unwrap())
		}
		checkErrorText(t, e, forbidden(c, fuzzToken))
	})
}

// FuzzTokenBody checks parseToken on any 2xx body: a usable Token or an
// *Error, never both, never neither; the Token survives a JSON round trip and
// fmt never shows it; the *Error shows no secret.
func FuzzTokenBody(f *testing.F) {
	c := fuzzClient(f)
	for _, body := range dotBodies {
		f.Add(200, []byte(body))
	}
	for _, echo := range echoes(c, fuzzToken) {
		js, _ := json.Marshal(echo)
		f.Add(200, []byte(fmt.Sprintf(`{"error": "server_error", "error_description": %s, "error_uri": %[1]s}`, js)))
		f.Add(200, []byte(fmt.Sprintf(`{"access_token": "AT-0123456789abcdef", "error": "invalid_client", "error_description": "AT-0123456789abcdef %s"}`, js[1:len(js)-1])))
	}
	for _, body := range []string{
		`{"access_token": "AT", "expires_in": "3600"}`,
		`{"access_token": "AT", "expires_in": " 60 "}`,
		`{"access_token": "AT", "expires_in": 59.9}`,
		`{"access_token": "AT", "expires_in": null}`,
		`{"access_token": "AT", "expires_in": -5}`,
		`{"access_token": "AT", "expires_in": "soon"}`,
		`{"access_token": "AT", "expires_in": true}`,
		`{"access_token": "AT", "expires_in": "NaN"}`,
		`{"access_token": "AT", "expires_in": "Inf"}`,
		`{"access_token": "AT", "expires_in": "-0"}`,
		`{"access_token": "AT", "expires_in": 1e300}`,
		`{"access_token": "AT", "expires_in": 1e400}`,
		`{"access_token": "AT", "expires_in": 2147483647.9}`,
		`{"access_token": "AT", "expires_in": 0.5}`,
		`{"access_token": "AT", "expires_in": "0x10"}`,
		`{"access_token": "AT", "expires_in": "1_000"}`,
		`{"access_token": "AT", "expires_in": {"s": 1}}`,
		`{"access_token": "AT", "expires_in": [1]}`,
		`{"access_token": "AT", "refresh_token": "RT", "id_token": "x", "token_type": "bearer"}`,
		`{"access_token": "AT", "error": ""}`,
		`{"access_token": ""}`,
		`{"access_token": null}`,
		`{"access_token": 123}`,
		`{"access_token": "A\u0000T\n\u2028"}`,
		"{\"access_token\": \"A\xffT\"}",
		`{"access_token": "\ud800"}`,
		`{"access_token": "AT", "scope": "<script>&amp;"}`,
		`{"access_token": "AT"} {"error": "x"}`,
		`{"access_token": "AT", "access_token": ""}`,
		`{"Access_Token": "AT"}`,
		`{}`, `null`, `[]`, `"AT"`, `{"access_token": "AT"`, "\xef\xbb\xbf{\"access_token\": \"AT\"}",
		`{"error": "invalid_client", "access_token": "` + fuzzToken + `"}`,
	} {
		f.Add(200, []byte(body))
	}
	f.Add(204, []byte(""))
	f.Add(299, []byte(dotBodies[0]))

	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = statusIn(status, 200, 299)
		tok, err := c.parseToken(status, body, fuzzAt, fuzzToken)
		if (tok == nil) == (err == nil) {
			t.Fatalf("parseToken(%q) = %v, %v: want exactly one of them", body, tok, err)
		}
		var j struct {
			AccessToken  any `json:"access_token"`
			RefreshToken any `json:"refresh_token"`
		}
		_ = json.Unmarshal(body, &j)
		received, _ := j.AccessToken.(string)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			if e.Op != opToken || e.StatusCode != status {
				t.Errorf("Op, StatusCode = %q, %d, want %q, %d", e.Op, e.StatusCode, opToken, status)
			}
			if e.RetryAfter != 0 {
				t.Errorf("RetryAfter = %v for a 2xx", e.RetryAfter)
			}
			checkErrorText(t, e, forbidden(c, fuzzToken))
			if leaks(e.Error(), received) && !leaks(skeleton(e), received) {
				t.Errorf("Error() = %q shows the access token %q", e.Error(), received)
			}
			if leaks(e.Description, received) {
				t.Errorf("Description = %q shows the access token %q", e.Description, received)
			}
			return
		}

		if tok.AccessToken == "" {
			t.Error("a Token with an empty AccessToken")
		}
		if tok.AccessToken != received {
			t.Errorf("AccessToken = %q, want %q", tok.AccessToken, received)
		}
		if tok.ExpiresIn < 0 || tok.ExpiresIn > maxExpiresIn {
			t.Errorf("ExpiresIn = %d, want within [0, %d]", tok.ExpiresIn, maxExpiresIn)
		}
		wantExpiry := time.Time{}
		if tok.ExpiresIn > 0 {
			wantExpiry = fuzzAt.Add(time.Duration(tok.ExpiresIn) * time.Second)
		}
		if !tok.Expiry.Equal(wantExpiry) {
			t.Errorf("Expiry = %v, want %v for ExpiresIn %d", tok.Expiry, wantExpiry, tok.ExpiresIn)
		}

		b, err := json.Marshal(tok)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		var back Token
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", b, err)
		}
		if !back.Expiry.Equal(tok.Expiry) {
			t.Errorf("round trip Expiry = %v, want %v", back.Expiry, tok.Expiry)
		}
		back.Expiry = tok.Expiry
		if back != *tok {
			t.Errorf("round trip: got %s, want %s", back.debug(), tok.debug())
		}

		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out := fmt.Sprintf(verb, tok)
			// What fmt shows of the other fields may hold a token by chance.
			skel := *tok
			skel.AccessToken, skel.RefreshToken = "", ""
			others := fmt.Sprintf(verb, skel)
			for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
				if leaks(out, secret) && !leaks(others, secret) {
					t.Errorf("fmt %s shows the token %q: %s", verb, secret, out)
				}
			}
		}
	})
}

// FuzzRetryAfter checks that parseRetryAfter never returns a negative wait or
// one above its clamp, and that it reads what it accepts exactly.
func FuzzRetryAfter(f *testing.F) {
	for _, v := range append(retryAfterSeeds, dotHeaderValues...) {
		f.Add(v)
	}
	for _, body := range dotBodies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := parseRetryAfter(v, fuzzAt)
		if got < 0 || got > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v, want within [0, %v]", v, got, maxRetryAfter)
		}
		if again := parseRetryAfter(v, fuzzAt); again != got {
			t.Fatalf("parseRetryAfter(%q) = %v, then %v", v, got, again)
		}
		trimmed := strings.TrimSpace(v)
		if trimmed != "" && strings.Trim(trimmed, "0123456789") == "" {
			want := maxRetryAfter
			if secs, err := strconv.ParseUint(trimmed, 10, 64); err == nil && secs <= uint64(maxRetryAfter/time.Second) {
				want = time.Duration(secs) * time.Second
			}
			if got != want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
			}
			return
		}
		if got%time.Second != 0 {
			t.Errorf("parseRetryAfter(%q) = %v, want whole seconds (HTTP dates have no fraction)", v, got)
		}
		if date, err := http.ParseTime(trimmed); err == nil {
			if date.After(fuzzAt) != (got > 0) {
				t.Errorf("parseRetryAfter(%q) = %v, for a date after %v: %v", v, got, fuzzAt, date.After(fuzzAt))
			}
			if d := date.Sub(fuzzAt); d > 0 && d < maxRetryAfter && got != d {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, d)
			}
		} else if got != 0 {
			t.Errorf("parseRetryAfter(%q) = %v for a value that is neither seconds nor a date, want 0", v, got)
		}
	})
}
