package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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
		detail := sdkText(err, "")
		var ue *url.Error
		if errors.As(err, &ue) {
			detail = ue.Err.Error()
		}
		r += ": " + detail
	}
	return r
}

// sdkText is an SDK error's message for a line that already starts with
// "cryptofuse SUBCOMMAND: ": the SDK's "cryptofuse: " prefixes (one per
// wrapped error) are dropped, and so is a leading operation name equal to
// op, so that the line reads "cryptofuse token: 503 Service Unavailable"
// rather than "cryptofuse token: cryptofuse: token: 503 Service
// Unavailable".
func sdkText(err error, op string) string {
	const prefix = "cryptofuse: "
	msg := strings.ReplaceAll(err.Error(), ": "+prefix, ": ")
	msg = strings.TrimPrefix(msg, prefix)
	if op != "" {
		msg = strings.TrimPrefix(msg, op+": ")
	}
	return msg
}
