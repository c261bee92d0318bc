package cryptofuse

import (
	"encoding/json"
	"net/http"
)

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
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.now()),
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

// answerError builds the *Error for a 2xx answer that is not usable.
func answerError(op string, status int, detail string, cause error) *Error {
	return &Error{Op: op, StatusCode: status, detail: detail, err: cause}
}
