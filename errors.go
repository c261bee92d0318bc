package cryptofuse

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// prefix starts the message of every error of this package. Each error type
// builds its message without it (message), and Error adds it once, so that
// an error that wraps another of ours can show the inner message without
// editing its text.
const prefix = "cryptofuse: "

// messager is an error of this package that can give its message without the
// prefix.
type messager interface{ message() string }

// messageOf is err's message without the prefix when err is one of ours
// (its message never starts with the prefix then), else err.Error().
func messageOf(err error) string {
	if m, ok := err.(messager); ok {
		return m.message()
	}
	return err.Error()
}

// ErrEmptyToken is returned by [Client.Revoke] and [Client.RotateToken] when
// the token is "", before any request is sent.
var ErrEmptyToken error = &plainError{msg: "empty token"}

// ErrMalformedToken is wrapped by the error [Client.Revoke] and
// [Client.RotateToken] return, before any request is sent, for a token that
// plainly is not one: it starts with an HTTP authentication scheme and white
// space ("Bearer …", in any case), has white space at either end (Unicode's,
// and invisible format characters such as a BOM) or holds a control
// character. A server would answer 200 to the revocation of such a string
// (RFC 7009 §2.2) and leave the real token valid. The error says what is
// wrong, never what the token is: errors.Is(err, ErrMalformedToken).
var ErrMalformedToken error = &plainError{msg: "malformed token"}

// ErrStillActive is wrapped by the error [Client.RevokeAndVerify] returns
// when the server answered 2xx to the revocation (RFC 7009 §2.2) but its
// introspection endpoint still reports the token active (RFC 7662 §2.2):
// the revocation did not take. django-oauth-toolkit 3.x does this for a
// token issued to another client (RFC 7009 §2.1). Test for it with
// errors.Is(err, ErrStillActive).
var ErrStillActive error = &plainError{msg: "token still active after revocation"}

// ErrNotVerified is wrapped by the error of [Client.RevokeAndVerify] when the
// revocation was answered 2xx but the check that followed (introspection,
// RFC 7662) failed, so the token's state is not known: errors.Is(err,
// ErrNotVerified) tells it from a failed revocation, and errors.As still
// finds the check's own error (an [*Error] with Op "introspect", or a
// transport error).
var ErrNotVerified error = &plainError{msg: "revocation not verified"}

// malformed is a token refused with ErrMalformedToken, with the reason.
func malformed(reason string) error {
	return &plainError{msg: "malformed token: " + reason, is: ErrMalformedToken}
}

// The RFC 6749 §5.2 and RFC 7009 §2.2.1 error codes. errors.Is(err, X) holds
// when err is (or wraps) an [*Error] whose Code is X's code:
//
//	if errors.Is(err, cryptofuse.ErrInvalidClient) { /* bad credentials */ }
var (
	ErrInvalidRequest       error = &plainError{msg: "invalid_request", code: "invalid_request"}
	ErrInvalidClient        error = &plainError{msg: "invalid_client", code: "invalid_client"}
	ErrInvalidGrant         error = &plainError{msg: "invalid_grant", code: "invalid_grant"}
	ErrUnauthorizedClient   error = &plainError{msg: "unauthorized_client", code: "unauthorized_client"}
	ErrUnsupportedGrantType error = &plainError{msg: "unsupported_grant_type", code: "unsupported_grant_type"}
	ErrInvalidScope         error = &plainError{msg: "invalid_scope", code: "invalid_scope"}
	ErrUnsupportedTokenType error = &plainError{msg: "unsupported_token_type", code: "unsupported_token_type"}
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

// plainError is every error of this package that is neither an answer
// ([*Error]), a failed rotation ([*RotateError]) nor a transport failure
// (connError): a sentinel such as ErrEmptyToken or ErrInvalidClient, or an
// error that names its kind (a sentinel it matches with errors.Is) and its
// cause (Unwrap). It is the one way this package builds such an error.
type plainError struct {
	msg  string
	err  error  // the cause, if any: Unwrap gives it
	is   error  // the sentinel errors.Is matches besides the cause, if any
	code string // for an RFC 6749 code sentinel: the code that [Error.Is] matches
}

func (e *plainError) message() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + messageOf(e.err)
}
func (e *plainError) Error() string        { return prefix + e.message() }
func (e *plainError) Unwrap() error        { return e.err }
func (e *plainError) Is(target error) bool { return e.is != nil && target == e.is }

// Error is an answer from the server that is not a success: a non-2xx status
// (a 3xx included: redirects are never followed), or a 2xx whose body is not
// a usable token (cut off, too large, not JSON, or an error in disguise). The
// server's text in it is sanitized (no control characters, bounded length)
// and scrubbed of the client secret and of the tokens the call sent or
// received (a value shorter than 4 characters only where it stands as a
// word of its own: a token "x" is not cut out of "x509"); Error() never
// includes the raw body. Scrubbing changes text, not what an error is:
// errors.Is and the retry decision see every cause, and errors.As every
// cause but one whose own text holds a secret (a cause that echoes the
// token, such as a *url.Error quoting a malformed status line): handing
// that one out would hand out the secret with it.
//
// Use [errors.Is] with the sentinels ([ErrInvalidClient] and the others) to
// test Code, and [errors.As] to read the fields.
type Error struct {
	Op          string // "revoke", "token" or "introspect"
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
func (e *Error) Error() string { return prefix + e.message() }

func (e *Error) message() string {
	var b strings.Builder
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
	t, ok := target.(*plainError)
	return ok && e.Code != "" && t.code == e.Code
}

// Unwrap returns the underlying cause, such as the JSON error of an
// unparsable token answer, or nil.
func (e *Error) Unwrap() error { return e.err }

// connError is an attempt that got no response: the transport failed before
// a response arrived (a refused dial, a reset connection, a TLS failure, a
// timeout, a malformed status line or header). Its message is the
// transport's text, scrubbed of every secret (net/http quotes the server's
// bytes). Scrubbing changes the text, never what the error is: the retry
// decision is made on the transport's error itself (cause), and Unwrap gives
// it, or, when its text held a secret, a wrapper with the scrubbed text
// through which errors.Is and errors.As still see it (internal/scrub.Wrap),
// so errors.Is(err, context.DeadlineExceeded) and errors.As(err,
// new(*net.OpError)) work, and a TLS certificate failure unwraps to its
// x509 error.
type connError struct {
	op       string
	attempts int
	err      error  // what Unwrap gives: cause, its text scrubbed
	cause    error  // the transport's error itself: for the retry decision only, never shown
	text     string // err.Error()
}

func (e *connError) Error() string { return prefix + e.message() }

func (e *connError) message() string {
	msg := e.op + ": "
	if e.attempts > 1 {
		msg += fmt.Sprintf("after %d attempts: ", e.attempts)
	}
	return msg + e.text
}

func (e *connError) Unwrap() error { return e.err }

// finish records on the final error of a call how many attempts it took, and,
// when a wait was cut short by ctx, the context's error.
func finish(err error, attempts int, ctxErr error) error {
	var e *Error
	var ce *connError
	switch {
	case errors.As(err, &e):
		e.attempts = attempts
		if ctxErr != nil {
			e.err = joinCause(e.err, ctxErr)
			e.detail = joinDetail(e.detail, "not retried: "+ctxErr.Error())
		}
	case errors.As(err, &ce):
		ce.attempts = attempts
		if ctxErr != nil && !errors.Is(ce.err, ctxErr) {
			ce.err = joinCause(ce.err, ctxErr)
			ce.text += " (then " + ctxErr.Error() + ")"
		}
	}
	return err
}

// joinCause adds ctxErr to cause, so that errors.Is finds both.
func joinCause(cause, ctxErr error) error {
	if cause == nil {
		return ctxErr
	}
	if errors.Is(cause, ctxErr) {
		return cause
	}
	return fmt.Errorf("%w (then %w)", cause, ctxErr)
}

// joinDetail appends more to an Error's detail.
func joinDetail(detail, more string) string {
	if detail == "" {
		return more
	}
	return detail + "; " + more
}
