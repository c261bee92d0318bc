package otelcryptofuse

import (
	"context"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Attribute keys of the token-life metrics. None names a token: the
// events' fingerprints are not recorded.
const (
	// AttrClientID is the OAuth2 client id (RFC 6749 §2.2), which is not
	// a secret.
	AttrClientID = attribute.Key("cryptofuse.client.id")
	// AttrReason is why a TokenSource needed a token
	// ([cryptofuse.TokenReason]).
	AttrReason = attribute.Key("cryptofuse.token.reason")
	// AttrInvalidationCause is what rejected a token: "401", "403" or
	// "invalidate".
	AttrInvalidationCause = attribute.Key("cryptofuse.invalidation.cause")
	// AttrRevocationWhen is when a TokenSource revoked a token:
	// "revoke_after", "close" or "rejected".
	AttrRevocationWhen = attribute.Key("cryptofuse.revocation.when")
	// AttrOutcome is how a revocation ("ok", "error") or a store call
	// ([cryptofuse.StoreOutcome]) ended.
	AttrOutcome = attribute.Key("cryptofuse.outcome")
	// AttrStoreOperation is the store call: "get", "put", "delete",
	// "lock", "unlock", "watch", "join" or "leave".
	AttrStoreOperation = attribute.Key("cryptofuse.store.operation")
)

// Revocation outcomes, as AttrOutcome of cryptofuse.token.revocations.
const (
	OutcomeOK    = "ok"
	OutcomeError = "error"
)

// The token-life hooks have no context of their own: they record with
// context.Background(), and open no span.

// tokenObtained counts the token by reason, and keeps its expiry for the
// remaining-lifetime gauge (a token without expiry makes it absent).
func (in *Instrumentation) tokenObtained(ev cryptofuse.TokenEvent) {
	in.obtained.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(
		AttrClientID.String(ev.ClientID), AttrReason.String(string(ev.Reason)))))
	in.mu.Lock()
	defer in.mu.Unlock()
	if ev.Expiry.IsZero() {
		delete(in.current, ev.ClientID)
		return
	}
	in.current[ev.ClientID] = currentToken{fingerprint: ev.Fingerprint, expiry: ev.Expiry}
}

// refreshFailed counts the failure by reason and error type.
func (in *Instrumentation) refreshFailed(ev cryptofuse.RefreshFailedEvent) {
	attrs := []attribute.KeyValue{AttrClientID.String(ev.ClientID), AttrReason.String(string(ev.Reason))}
	if ev.Err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(ev.Err, 0)))
	}
	in.refreshFailures.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(attrs...)))
}

// store counts the store call by operation and outcome.
func (in *Instrumentation) store(ev cryptofuse.StoreEvent) {
	in.storeOps.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(
		AttrClientID.String(ev.ClientID), AttrStoreOperation.String(ev.Op), AttrOutcome.String(string(ev.Outcome)))))
}

// invalidated counts the rejected token by cause; when it is the client's
// current one, the remaining-lifetime gauge has nothing to show until the
// next token.
func (in *Instrumentation) invalidated(ev cryptofuse.InvalidateEvent) {
	in.invalidations.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(
		AttrClientID.String(ev.ClientID), AttrInvalidationCause.String(ev.Cause))))
	in.forget(ev.ClientID, ev.Fingerprint)
}

// revoked counts the revocation by when and outcome; a revoked current
// token (at Close) leaves the gauge absent.
func (in *Instrumentation) revoked(ev cryptofuse.RevokeEvent) {
	attrs := []attribute.KeyValue{AttrClientID.String(ev.ClientID), AttrRevocationWhen.String(ev.When)}
	if ev.Err != nil {
		attrs = append(attrs, AttrOutcome.String(OutcomeError), semconv.ErrorTypeKey.String(errorType(ev.Err, 0)))
	} else {
		attrs = append(attrs, AttrOutcome.String(OutcomeOK))
		in.forget(ev.ClientID, ev.Fingerprint)
	}
	in.revocations.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(attrs...)))
}

// forget drops the client's current token from the gauge if it is the one
// with fingerprint.
func (in *Instrumentation) forget(clientID, fingerprint string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if cur, ok := in.current[clientID]; ok && cur.fingerprint == fingerprint {
		delete(in.current, clientID)
	}
}

// observeLifetime reports, per client id, the time left before its current
// token expires (0 once it has).
func (in *Instrumentation) observeLifetime(_ context.Context, o metric.Observer) error {
	now := in.now()
	in.mu.Lock()
	defer in.mu.Unlock()
	for id, cur := range in.current {
		left := max(cur.expiry.Sub(now), time.Duration(0))
		o.ObserveFloat64(in.lifetime, left.Seconds(), metric.WithAttributeSet(attribute.NewSet(AttrClientID.String(id))))
	}
	return nil
}
