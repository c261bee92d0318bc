package otelcryptofuse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"syscall"

	"github.com/cryptofuse/cryptofuse-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys of this package, beside the semantic conventions' own.
const (
	// AttrOperation is the call: "revoke", "token" or "introspect".
	AttrOperation = attribute.Key("cryptofuse.operation")
	// AttrRetryIn is the wait, in seconds, before the next attempt (spans
	// of attempts that are retried).
	AttrRetryIn = attribute.Key("cryptofuse.retry_in")
	// AttrGaveUp says why a failed attempt was the last one (spans).
	AttrGaveUp = attribute.Key("cryptofuse.gave_up")
)

// clientKind is the kind of every span, built once.
var clientKind = trace.WithSpanKind(trace.SpanKindClient)

// attempt reports one request attempt: a client span from its start to
// its end, child of the span in the call's context, and a
// http.client.request.duration measurement; a retried attempt counts in
// cryptofuse.request.retries.
//
// The span is started after the attempt ended, with its timestamps, so
// spans of an instrumented transport (otelhttp) under the same call are
// siblings of it, not children.
func (in *Instrumentation) attempt(ev cryptofuse.AttemptEvent) {
	ctx := ev.Context
	if ctx == nil {
		ctx = context.Background()
	}
	errType := ""
	if ev.Err != nil {
		errType = errorType(ev.Err, ev.StatusCode)
	}

	// The attributes common to the metric and the span.
	attrs := make([]attribute.KeyValue, 0, 10)
	attrs = append(attrs,
		semconv.HTTPRequestMethodKey.String(ev.Method),
		semconv.ServerAddress(ev.ServerAddress),
		semconv.ServerPort(ev.ServerPort),
		AttrOperation.String(ev.Op),
	)
	if ev.StatusCode > 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(ev.StatusCode))
	}
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}

	if in.duration.Inst().Enabled(ctx) {
		in.duration.Inst().Record(ctx, ev.Duration.Seconds(), metric.WithAttributeSet(attribute.NewSet(attrs...)))
	}
	if ev.Retry && in.retries.Enabled(ctx) {
		in.retries.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(
			AttrOperation.String(ev.Op), semconv.ErrorTypeKey.String(errType))))
	}

	attrs = append(attrs, semconv.URLFull(ev.URL))
	if ev.Attempt > 1 {
		attrs = append(attrs, semconv.HTTPRequestResendCount(ev.Attempt-1))
	}
	if ev.Retry {
		attrs = append(attrs, AttrRetryIn.Float64(ev.RetryIn.Seconds()))
	} else if ev.GaveUp != "" {
		attrs = append(attrs, AttrGaveUp.String(ev.GaveUp))
	}
	_, span := in.tracer.Start(ctx, ev.Method, clientKind,
		trace.WithTimestamp(ev.Start),
		trace.WithAttributes(attrs...))
	if ev.Err != nil {
		// Errors of the cryptofuse package never hold a secret.
		span.SetStatus(codes.Error, ev.Err.Error())
	}
	span.End(trace.WithTimestamp(ev.Start.Add(ev.Duration)))
}

// errorType is the error.type of a failed call or attempt: the HTTP status
// when the answer had a failing one, else a short name of the failure
// (OpenTelemetry semantic conventions, "error.type").
func errorType(err error, status int) string {
	var e *cryptofuse.Error
	if errors.As(err, &e) && status == 0 {
		status = e.StatusCode
	}
	if status >= 300 {
		return strconv.Itoa(status)
	}
	var (
		dns *net.DNSError
		op  *net.OpError
		cve *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
	)
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &timeout) && timeout.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci):
		return "tls_certificate"
	case errors.As(err, &dns):
		return "dns_error"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection_reset"
	case errors.As(err, &op):
		return "connection_error"
	case e != nil:
		return "invalid_response" // a 2xx whose body could not be used
	}
	return semconv.ErrorTypeOther.Value.AsString()
}
