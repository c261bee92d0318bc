package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// reason classifies a failed call for the summary: the RFC 6749 error code
// of an [*cryptofuse.Error], else its HTTP status, else the kind of
// transport failure.
func reason(err error) string {
	var e *cryptofuse.Error
	if errors.As(err, &e) {
		if e.Code != "" {
			return e.Code
		}
		return fmt.Sprintf("HTTP %d", e.StatusCode)
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "DNS lookup failed"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return "connection failed"
	}
	return "error"
}

// describe is a failure's reason, kept short, with what the error adds to
// it: the server's description, or the transport error when the reason
// alone is vague. The SDK's errors never hold a token
// or the secret.
func describe(err error) string {
	r := reason(err)
	var e *cryptofuse.Error
	if errors.As(err, &e) {
		if e.Description != "" {
			return r + ": " + e.Description
		}
		if e.RetryAfter > 0 {
			return fmt.Sprintf("%s (retry after %s)", r, e.RetryAfter)
		}
		return r
	}
	switch r {
	case "connection failed", "DNS lookup failed", "error":
		// The reason does not say what happened: add the transport's
		// own words, without the request's method and URL.
		r += ": " + explain(err)
	}
	return r
}

// explain is an SDK error's message for a line that already starts with
// "cryptofuse SUBCOMMAND: ", built from the error's exported fields, so
// that nothing here edits the SDK's text: "503 Service Unavailable:
// temporarily_unavailable: description (retry after 5s)" for an answer, what
// a failed rotation left for a *RotateError, the transport's own words for a
// request that got no answer.
func explain(err error) string {
	var re *cryptofuse.RotateError
	if errors.As(err, &re) {
		return rotateState(re, false) + ": " + explain(re.Err)
	}
	var e *cryptofuse.Error
	if errors.As(err, &e) {
		return answerText(e)
	}
	if errors.Is(err, cryptofuse.ErrInvalidConfig) {
		// The configuration errors name no server text and no secret.
		return strings.TrimPrefix(err.Error(), "cryptofuse: ")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error() // without the request's method and URL
	}
	return err.Error()
}

// answerText describes an answer that was not a success from its fields.
func answerText(e *cryptofuse.Error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	switch {
	case e.StatusCode >= 200 && e.StatusCode < 300:
		b.WriteString(": the answer is not a usable token")
	case e.StatusCode >= 300 && e.StatusCode < 400:
		b.WriteString(": redirect not followed")
	}
	for _, s := range []string{e.Code, e.Description} {
		if s != "" {
			b.WriteString(": " + s)
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// rotateState says what a failed rotation left the operator with, from the
// error's fields and the order the rotation ran in (issueFirst).
func rotateState(e *cryptofuse.RotateError, issueFirst bool) string {
	switch {
	case e.Revoked:
		return "the old token was revoked, but issuing a new one failed"
	case e.Issued:
		return "a new token was issued, but revoking the old token failed, so it is still valid"
	case issueFirst:
		return "issuing a new token failed; the old token was not revoked"
	}
	return "revoking the old token failed, so no new token was issued"
}
