// Package otelcryptofuse reports what a [cryptofuse.Client] and its
// [cryptofuse.TokenSource] do as OpenTelemetry spans and metrics, built on
// [cryptofuse.Hooks]:
//
//   - a client span per HTTP request attempt (RFC 6749 §4.4, RFC 7009 §2.1,
//     RFC 7662 §2.1) and the http.client.request.duration histogram, as
//     OpenTelemetry's HTTP client semantic conventions (v1.43.0) define
//     them, with the resend count on retries;
//   - the token's life: tokens obtained by reason, failed refreshes,
//     invalidations, revocations and store calls by outcome, and the
//     current token's remaining lifetime as a gauge.
//
// Use it as:
//
//	inst, err := otelcryptofuse.New() // the global providers
//	if err != nil { ... }
//	defer inst.Close()
//	client, err := cryptofuse.NewClient(id, secret, cryptofuse.WithHooks(inst.Hooks()))
//
// What is recorded (attribute keys in parentheses; cryptofuse.client.id is
// the OAuth2 client id, never the secret):
//
//   - span "POST", kind client, per attempt, child of the span in the
//     call's ctx, with the attempt's own start and end: http.request.method,
//     server.address, server.port, url.full, http.response.status_code,
//     error.type, http.request.resend_count (from the second attempt on),
//     cryptofuse.operation ("token", "revoke", "introspect"), and
//     cryptofuse.retry_in (seconds) or cryptofuse.gave_up; status Error
//     with the error's text when the attempt failed;
//   - http.client.request.duration (histogram, s; method, server.address,
//     server.port, status code, error.type, cryptofuse.operation);
//   - cryptofuse.request.retries (counter; cryptofuse.operation, error.type);
//   - cryptofuse.token.obtained (counter; client id, cryptofuse.token.reason);
//   - cryptofuse.token.refresh.failures (counter; client id, reason,
//     error.type);
//   - cryptofuse.token.invalidations (counter; client id,
//     cryptofuse.invalidation.cause);
//   - cryptofuse.token.revocations (counter; client id,
//     cryptofuse.revocation.when, cryptofuse.outcome "ok" or "error",
//     error.type);
//   - cryptofuse.store.operations (counter; client id,
//     cryptofuse.store.operation, cryptofuse.outcome);
//   - cryptofuse.token.remaining_lifetime (gauge, s; client id): the time
//     left before the client's current token expires, 0 once it has,
//     absent while unknown (no expiry sent, or the token was rejected or
//     revoked).
//
// error.type is the HTTP status of a failing answer ("503"), else
// "timeout", "canceled", "tls_certificate", "dns_error",
// "connection_refused", "connection_reset", "connection_error",
// "invalid_response" (a 2xx the client could not use) or "_OTHER".
//
// A span is made when its attempt has ended, so it has no children: an
// otelhttp transport under the same Client traces the same request again,
// as a sibling span. Use one or the other for the Client's own requests
// (otelhttp remains the way to trace the API calls of ts.Transport).
//
// No attribute, span name or status holds a token or a credential: tokens
// are not named at all (the hooks give only fingerprints, and they are not
// used), and error texts, which the cryptofuse package keeps free of
// secrets, appear only as span status descriptions.
package otelcryptofuse

import (
	"errors"
	"sync"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/cryptofuse/cryptofuse-go/otelcryptofuse"

// Option configures [New].
type Option func(*config)

type config struct {
	mp  metric.MeterProvider
	tp  trace.TracerProvider
	now func() time.Time
}

// WithMeterProvider sets the MeterProvider the metrics are recorded with;
// without it, New uses the global one ([otel.GetMeterProvider]).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithTracerProvider sets the TracerProvider the spans are started with;
// without it, New uses the global one ([otel.GetTracerProvider]).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// Instrumentation turns cryptofuse's hook events into spans and metrics.
// Build it with [New] and give [Instrumentation.Hooks] to
// [cryptofuse.WithHooks]; one Instrumentation may serve any number of
// Clients and TokenSources at once. It is safe for concurrent use by
// multiple goroutines.
type Instrumentation struct {
	tracer trace.Tracer
	now    func() time.Time

	duration        httpconv.ClientRequestDuration
	retries         metric.Int64Counter
	obtained        metric.Int64Counter
	refreshFailures metric.Int64Counter
	invalidations   metric.Int64Counter
	revocations     metric.Int64Counter
	storeOps        metric.Int64Counter
	lifetime        metric.Float64ObservableGauge
	registration    metric.Registration

	mu       sync.Mutex
	current  map[string]currentToken // by client id
	closed   bool
	closeErr error
}

// currentToken is what the lifetime gauge knows of a client's current
// token.
type currentToken struct {
	fingerprint string
	expiry      time.Time
}

// New returns an Instrumentation that records through the providers its
// options name (the global ones by default). It creates the instruments
// and registers the remaining-lifetime gauge's callback; [Instrumentation.Close]
// unregisters it.
func New(opts ...Option) (*Instrumentation, error) {
	cfg := config{now: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	in := &Instrumentation{
		tracer: cfg.tp.Tracer(ScopeName,
			trace.WithInstrumentationVersion(cryptofuse.Version), trace.WithSchemaURL(semconv.SchemaURL)),
		now:     cfg.now,
		current: make(map[string]currentToken),
	}
	meter := cfg.mp.Meter(ScopeName,
		metric.WithInstrumentationVersion(cryptofuse.Version), metric.WithSchemaURL(semconv.SchemaURL))
	if err := in.instruments(meter); err != nil {
		return nil, err
	}
	return in, nil
}

// Metric names, besides http.client.request.duration.
const (
	MetricRetries           = "cryptofuse.request.retries"
	MetricTokensObtained    = "cryptofuse.token.obtained"
	MetricRefreshFailures   = "cryptofuse.token.refresh.failures"
	MetricInvalidations     = "cryptofuse.token.invalidations"
	MetricRevocations       = "cryptofuse.token.revocations"
	MetricStoreOperations   = "cryptofuse.store.operations"
	MetricRemainingLifetime = "cryptofuse.token.remaining_lifetime"
)

// instruments creates every instrument on meter.
func (in *Instrumentation) instruments(meter metric.Meter) error {
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	var err error
	in.duration, err = httpconv.NewClientRequestDuration(meter)
	errs = append(errs, err)
	in.retries = counter(MetricRetries, "{retry}",
		"Failed request attempts that the client retries.")
	in.obtained = counter(MetricTokensObtained, "{token}",
		"Tokens a TokenSource installed as its current one, by reason.")
	in.refreshFailures = counter(MetricRefreshFailures, "{failure}",
		"Failed attempts of a TokenSource to obtain a token.")
	in.invalidations = counter(MetricInvalidations, "{token}",
		"Tokens a TokenSource marked as rejected, by cause.")
	in.revocations = counter(MetricRevocations, "{revocation}",
		"Revocations (RFC 7009) a TokenSource made, by when and outcome.")
	in.storeOps = counter(MetricStoreOperations, "{operation}",
		"Calls a TokenSource made to its store, by operation and outcome.")
	in.lifetime, err = meter.Float64ObservableGauge(MetricRemainingLifetime, metric.WithUnit("s"),
		metric.WithDescription("Time left before the current token of a TokenSource expires; absent when unknown."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	in.registration, err = meter.RegisterCallback(in.observeLifetime, in.lifetime)
	return err
}

// Hooks returns the hooks that report to this Instrumentation, for
// [cryptofuse.WithHooks]. To add hooks of your own, set more fields of the
// returned value, or call its functions from yours.
func (in *Instrumentation) Hooks() cryptofuse.Hooks {
	return cryptofuse.Hooks{
		Attempt:       in.attempt,
		TokenObtained: in.tokenObtained,
		RefreshFailed: in.refreshFailed,
		Store:         in.store,
		Invalidated:   in.invalidated,
		Revoked:       in.revoked,
	}
}

// Close unregisters the remaining-lifetime gauge's callback, so the
// MeterProvider stops observing it. Spans and counters of hooks still in
// use keep being recorded. Close is idempotent.
func (in *Instrumentation) Close() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.closed {
		in.closed = true
		in.closeErr = in.registration.Unregister()
	}
	return in.closeErr
}
