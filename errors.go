package cryptofuse

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrEmptyToken is returned by [Client.Revoke] and [Client.RotateToken] when
// the token is "", before any request is sent.
var ErrEmptyToken = errors.New("cryptofuse: empty token")

// The RFC 6749 §5.2 and RFC 7009 §2.2.1 error codes. errors.Is(err, X) holds
// when err is (or wraps) an [*Error] whose Code is X's code:
//
//	if errors.Is(err, cryptofuse.ErrInvalidClient) { /* bad credentials */ }
var (
	ErrInvalidRequest       error = &codeError{"invalid_request"}
	ErrInvalidClient        error = &codeError{"invalid_client"}
	ErrInvalidGrant         error = &codeError{"invalid_grant"}
	ErrUnauthorizedClient   error = &codeError{"unauthorized_client"}
	ErrUnsupportedGrantType error = &codeError{"unsupported_grant_type"}
	ErrInvalidScope         error = &codeError{"invalid_scope"}
	ErrUnsupportedTokenType error = &codeError{"unsupported_token_type"}
)

// registeredCodes are the error codes of RFC 6749 §4.1.2.1, §5.2, RFC 6750
// §3.1 and RFC 7009 §2.2.1.
var registeredCodes = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true,
	"unauthorized_client": true, "unsupported_grant_type": true, "invalid_scope": true,
	"unsupported_token_type": true, "access_denied": true, "unsupported_response_type": true,
	"server_error": true, "temporarily_unavailable": true, "invalid_token": true,
	"insufficient_scope": true,
}

// codeError is the type of the error-code sentinels.
type codeError struct{ code string }

func (e *codeError) Error() string { return "cryptofuse: " + e.code }

// Error is an answer from the server that is not a success: a non-2xx status
// (a 3xx included: redirects are never followed), or a 2xx whose body is not
// a usable token. The server's text in it is sanitized (no control
// characters, bounded length) and scrubbed of the client secret and of the
// tokens the call sent or received; Error() never includes the raw body.
//
// Use [errors.Is] with the sentinels ([ErrInvalidClient] and the others) to
// test Code, and [errors.As] to read the fields.
type Error struct {
	Op          string // "revoke" or "token"
	StatusCode  int
	Code        string // RFC 6749 error code; "" when the body was not RFC 6749 JSON
	Description string
	URI         string
	RetryAfter  time.Duration // from Retry-After; 0 when absent

	detail   string // the SDK's own explanation, such as "redirect not followed"
	err      error  // the underlying cause, if any, such as a JSON syntax error
	attempts int    // how many attempts the call made, when more than one
}

// Error returns a one-line message: "cryptofuse: op: status: code:
// description", followed by the Retry-After and the number of attempts when
// there was more than one.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cryptofuse: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" ")
		b.WriteString(text)
	}
	for _, s := range [...]string{e.Code, e.Description, e.detail} {
		if s != "" {
			b.WriteString(": ")
			b.WriteString(s)
		}
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteString(")")
	}
	if e.attempts > 1 {
		b.WriteString(" (after ")
		b.WriteString(strconv.Itoa(e.attempts))
		b.WriteString(" attempts)")
	}
	return b.String()
}

// Is reports whether target is the sentinel for e.Code, so that
// errors.Is(err, ErrInvalidClient) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*codeError)
	return ok && e.Code != "" && t.code == e.Code
}

// Unwrap returns the underlying cause, such as the JSON error of an
// unparsable token answer, or nil.
func (e *Error) Unwrap() error { return e.err }

// errorJSON is an RFC 6749 §5.2 error body. It is also embedded in tokenJSON,
// since a 2xx answer may carry an error too.
type errorJSON struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

// Bounds on the server text kept in an Error.
const (
	maxCodeLen        = 64
	maxDescriptionLen = 512
	maxURILen         = 512
)

// fill copies a parsed error body into e, sanitized and scrubbed. A
// registered error code is public, so it is kept as it is even when a
// (pathologically short) token happens to occur in it.
func (j *errorJSON) fill(e *Error, scrub func(string) string) {
	if registeredCodes[j.Error] {
		e.Code = j.Error
	} else {
		e.Code = clean(scrub(j.Error), maxCodeLen)
	}
	e.Description = clean(scrub(j.ErrorDescription), maxDescriptionLen)
	e.URI = clean(scrub(j.ErrorURI), maxURILen)
}

// newError builds the *Error for a non-2xx answer. body is what was read of it
// (capped); sent is the token in the request, if any.
func (c *Client) newError(op string, resp *http.Response, body []byte, sent string) *Error {
	e := &Error{
		Op:         op,
		StatusCode: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now()),
	}
	var j errorJSON
	if json.Unmarshal(body, &j) == nil && j.Error != "" {
		j.fill(e, c.scrubber(sent))
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.detail = "redirect not followed"
	}
	return e
}

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

// now is the clock used for Retry-After dates and token expiry. Tests replace
// it.
var now = time.Now

// maxRetryAfter bounds a Retry-After so that it cannot overflow a Duration.
const maxRetryAfter = math.MaxInt64 / time.Second * time.Second

// parseRetryAfter parses a Retry-After value (RFC 9110 §10.2.3): a number of
// seconds or an HTTP date, relative to t. It returns 0 for an absent,
// negative, past or unparsable value.
func parseRetryAfter(v string, t time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		if strings.Trim(v, "0123456789") != "" {
			return 0 // digits, then garbage: ParseUint could report a range error first
		}
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return maxRetryAfter
			}
			return 0
		}
		if secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	date, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d := date.Sub(t); d > 0 {
		return min(d, maxRetryAfter) // Sub saturates above the clamp
	}
	return 0
}

// answerError builds the *Error for a 2xx answer that is not usable.
func answerError(op string, status int, detail string, cause error) *Error {
	return &Error{Op: op, StatusCode: status, detail: detail, err: cause}
}
