package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

// describe is a failure's reason with what the error adds to it: the
// server's description, or the transport error. The SDK's errors never hold
// a token or the secret.
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
	return r + ": " + err.Error()
}
