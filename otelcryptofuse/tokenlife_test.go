package otelcryptofuse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// TestTokenLife calls the TokenSource hooks with synthetic events, step by
// step, and reads back the token-life counters and the remaining-lifetime
// gauge after each step.
func TestTokenLife(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	var now atomic.Pointer[time.Time]
	setNow := func(at time.Time) { now.Store(&at) }
	setNow(t0)
	h := newHarness(t, withNow(func() time.Time { return *now.Load() }))
	hooks := h.inst.Hooks()

	const other = "other-id"
	fp1, fp2, fp3 := cryptofuse.Fingerprint("tok-1"), cryptofuse.Fingerprint("tok-2"), cryptofuse.Fingerprint("tok-3")
	id, oid := AttrClientID.String(testID), AttrClientID.String(other)
	reason := func(r cryptofuse.TokenReason) string { return attrs(id, AttrReason.String(string(r))) }

	steps := []struct {
		name     string
		do       func()
		obtained map[string]int64
		failures map[string]int64
		invalid  map[string]int64
		revoked  map[string]int64
		store    map[string]int64
		lifetime map[string]float64
	}{
		{
			name: "first token, one hour",
			do: func() {
				hooks.Store(cryptofuse.StoreEvent{ClientID: testID, Op: "get", Outcome: cryptofuse.StoreMiss})
				hooks.TokenObtained(cryptofuse.TokenEvent{ClientID: testID, Reason: cryptofuse.ReasonFirst, Fingerprint: fp1, Expiry: t0.Add(time.Hour)})
				hooks.Store(cryptofuse.StoreEvent{ClientID: testID, Op: "put", Outcome: cryptofuse.StoreOK})
			},
			obtained: map[string]int64{reason(cryptofuse.ReasonFirst): 1},
			store: map[string]int64{
				attrs(id, AttrStoreOperation.String("get"), AttrOutcome.String("miss")): 1,
				attrs(id, AttrStoreOperation.String("put"), AttrOutcome.String("ok")):   1,
			},
			lifetime: map[string]float64{attrs(id): 3600},
		},
		{
			name: "55 minutes later a refresh fails, then succeeds",
			do: func() {
				setNow(t0.Add(55 * time.Minute))
				hooks.RefreshFailed(cryptofuse.RefreshFailedEvent{ClientID: testID, Reason: cryptofuse.ReasonRefresh,
					Err: &cryptofuse.Error{Op: "token", StatusCode: 503}, Failures: 1, NextTry: time.Second})
				hooks.TokenObtained(cryptofuse.TokenEvent{ClientID: testID, Reason: cryptofuse.ReasonRefresh, Fingerprint: fp2, Expiry: t0.Add(2 * time.Hour)})
			},
			obtained: map[string]int64{reason(cryptofuse.ReasonFirst): 1, reason(cryptofuse.ReasonRefresh): 1},
			failures: map[string]int64{attrs(id, AttrReason.String("refresh_window"), semconv.ErrorTypeKey.String("503")): 1},
			lifetime: map[string]float64{attrs(id): 65 * 60},
		},
		{
			name: "another client, a token without expiry: no gauge for it",
			do: func() {
				hooks.Store(cryptofuse.StoreEvent{ClientID: other, Op: "get", Outcome: cryptofuse.StoreError, Err: errors.New("store down")})
				hooks.TokenObtained(cryptofuse.TokenEvent{ClientID: other, Reason: cryptofuse.ReasonFirst, Fingerprint: fp3})
			},
			obtained: map[string]int64{reason(cryptofuse.ReasonFirst): 1, reason(cryptofuse.ReasonRefresh): 1,
				attrs(oid, AttrReason.String("first")): 1},
			store: map[string]int64{
				attrs(id, AttrStoreOperation.String("get"), AttrOutcome.String("miss")):   1,
				attrs(id, AttrStoreOperation.String("put"), AttrOutcome.String("ok")):     1,
				attrs(oid, AttrStoreOperation.String("get"), AttrOutcome.String("error")): 1,
			},
			lifetime: map[string]float64{attrs(id): 65 * 60},
		},
		{
			name: "the replaced token is revoked; an invalidation of it leaves the current one",
			do: func() {
				hooks.Revoked(cryptofuse.RevokeEvent{ClientID: testID, Fingerprint: fp1, When: "revoke_after"})
				hooks.Invalidated(cryptofuse.InvalidateEvent{ClientID: testID, Fingerprint: fp1, Cause: "invalidate"})
			},
			revoked:  map[string]int64{attrs(id, AttrRevocationWhen.String("revoke_after"), AttrOutcome.String("ok")): 1},
			invalid:  map[string]int64{attrs(id, AttrInvalidationCause.String("invalidate")): 1},
			lifetime: map[string]float64{attrs(id): 65 * 60},
		},
		{
			name:     "past expiry the gauge reads 0",
			do:       func() { setNow(t0.Add(3 * time.Hour)) },
			revoked:  map[string]int64{attrs(id, AttrRevocationWhen.String("revoke_after"), AttrOutcome.String("ok")): 1},
			invalid:  map[string]int64{attrs(id, AttrInvalidationCause.String("invalidate")): 1},
			lifetime: map[string]float64{attrs(id): 0},
		},
		{
			name: "a 401 on the current token: the gauge is absent until the next",
			do: func() {
				hooks.Invalidated(cryptofuse.InvalidateEvent{ClientID: testID, Fingerprint: fp2, Cause: "401"})
			},
			revoked: map[string]int64{attrs(id, AttrRevocationWhen.String("revoke_after"), AttrOutcome.String("ok")): 1},
			invalid: map[string]int64{
				attrs(id, AttrInvalidationCause.String("invalidate")): 1,
				attrs(id, AttrInvalidationCause.String("401")):        1,
			},
			lifetime: map[string]float64{},
		},
		{
			name: "a failed revocation at close",
			do: func() {
				hooks.TokenObtained(cryptofuse.TokenEvent{ClientID: testID, Reason: cryptofuse.ReasonRejected, Fingerprint: fp3, Expiry: t0.Add(4 * time.Hour)})
				hooks.Revoked(cryptofuse.RevokeEvent{ClientID: testID, Fingerprint: fp3, When: "close", Err: context.DeadlineExceeded})
			},
			obtained: map[string]int64{reason(cryptofuse.ReasonFirst): 1, reason(cryptofuse.ReasonRefresh): 1,
				attrs(oid, AttrReason.String("first")): 1, reason(cryptofuse.ReasonRejected): 1},
			revoked: map[string]int64{
				attrs(id, AttrRevocationWhen.String("revoke_after"), AttrOutcome.String("ok")):                                     1,
				attrs(id, AttrRevocationWhen.String("close"), AttrOutcome.String("error"), semconv.ErrorTypeKey.String("timeout")): 1,
			},
			invalid: map[string]int64{
				attrs(id, AttrInvalidationCause.String("invalidate")): 1,
				attrs(id, AttrInvalidationCause.String("401")):        1,
			},
			lifetime: map[string]float64{attrs(id): 3600}, // a failed revocation leaves the token alive
		},
	}
	// Counters are cumulative: a step that names no map keeps the
	// previous step's.
	var obtained, failures, invalid, revoked, store map[string]int64
	keep := func(cur *map[string]int64, next map[string]int64) {
		if next != nil {
			*cur = next
		}
	}
	for _, st := range steps {
		st.do()
		keep(&obtained, st.obtained)
		keep(&failures, st.failures)
		keep(&invalid, st.invalid)
		keep(&revoked, st.revoked)
		keep(&store, st.store)
		ms := h.metrics(t)
		for _, c := range []struct {
			name string
			want map[string]int64
		}{
			{MetricTokensObtained, obtained},
			{MetricRefreshFailures, failures},
			{MetricInvalidations, invalid},
			{MetricRevocations, revoked},
			{MetricStoreOperations, store},
		} {
			assertMap(t, st.name+": "+c.name, sums(t, ms, c.name), c.want)
		}
		assertMap(t, st.name+": "+MetricRemainingLifetime, gauge(t, ms, MetricRemainingLifetime), st.lifetime)
		if m, ok := ms[MetricRemainingLifetime]; ok && m.Unit != "s" {
			t.Errorf("%s: unit: got %q, want %q", MetricRemainingLifetime, m.Unit, "s")
		}
	}

	// Closed, the Instrumentation no longer reports the gauge.
	if err := h.inst.Close(); err != nil {
		t.Fatal(err)
	}
	if got := gauge(t, h.metrics(t), MetricRemainingLifetime); len(got) != 0 {
		t.Errorf("after Close: got gauge %v, want none", got)
	}
	assertNoSecret(t, h, "tok-1", "tok-2", "tok-3", fp1, fp2, fp3)
}

// runTokenSourceScenario runs a real TokenSource against cryptofusetest,
// instrumented by h: a first token, a rotation, a rejected token
// (Invalidate) and its replacement, and Close with RevokeOnClose. It
// returns the server's counts and the access tokens the source handed
// out, so that tests can match the telemetry against what happened.
func runTokenSourceScenario(t *testing.T, h *harness) (cryptofusetest.Counts, []string) {
	t.Helper()
	srv := cryptofusetest.NewServer(testID, testSecret)
	t.Cleanup(srv.Close)
	c, err := cryptofuse.NewClient(testID, testSecret, cryptofuse.WithBaseURL(srv.URL),
		cryptofuse.WithHooks(h.inst.Hooks()), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{RevokeOnClose: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var tokens []string
	step := func(what string, get func(context.Context) (*cryptofuse.Token, error)) {
		t.Helper()
		tok, err := get(ctx)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		tokens = append(tokens, tok.AccessToken)
	}
	step("first Token", ts.Token)
	step("Rotate", ts.Rotate)
	ts.Invalidate(tokens[len(tokens)-1])
	step("Token after Invalidate", ts.Token)
	if err := ts.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if srv.Active(tokens[len(tokens)-1]) {
		t.Errorf("the current token is still active after Close with RevokeOnClose")
	}
	return srv.Counts(), tokens
}

// TestTokenSourceRequests: every request a TokenSource makes is one
// http.client.request.duration measurement and one span, by operation,
// and no telemetry holds a token or the secret.
func TestTokenSourceRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	counts, tokens := runTokenSourceScenario(t, h)
	if counts.Token != 3 {
		t.Errorf("got %d token requests, want 3 (first, rotate, after invalidate)", counts.Token)
	}
	byOp := map[string]uint64{}
	for set, n := range histogramCounts(t, h.metrics(t), "http.client.request.duration") {
		for _, kv := range strings.Split(set, ",") {
			if op, ok := strings.CutPrefix(kv, string(AttrOperation)+"="); ok {
				byOp[op] += n
			}
		}
	}
	want := map[string]uint64{"token": uint64(counts.Token), "revoke": uint64(counts.Revoke)}
	assertMap(t, "attempts by operation", byOp, want)
	if got, want := len(h.spans.GetSpans()), counts.Token+counts.Revoke; got != want {
		t.Errorf("got %d spans, want %d, one per request", got, want)
	}
	assertNoSecret(t, h, append(tokens, testSecret)...)
}

// TestConcurrentHooks: the hooks are safe for concurrent use, also while
// the reader collects (run under -race), and lose no count.
func TestConcurrentHooks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hooks := h.inst.Hooks()
	const goroutines, calls = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("client-%d", g%2)
			for i := range calls {
				fp := cryptofuse.Fingerprint(fmt.Sprint(g, i))
				hooks.TokenObtained(cryptofuse.TokenEvent{ClientID: id, Reason: cryptofuse.ReasonRefresh, Fingerprint: fp, Expiry: time.Now().Add(time.Hour)})
				hooks.Invalidated(cryptofuse.InvalidateEvent{ClientID: id, Fingerprint: fp, Cause: "401"})
				hooks.Attempt(cryptofuse.AttemptEvent{Op: "token", Method: "POST", Attempt: 1, StatusCode: 200, Start: time.Now()})
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			var rm metricdata.ResourceMetrics
			if err := h.reader.Collect(context.Background(), &rm); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	<-done
	ms := h.metrics(t)
	var obtained int64
	for _, n := range sums(t, ms, MetricTokensObtained) {
		obtained += n
	}
	if obtained != goroutines*calls {
		t.Errorf("got %d tokens obtained, want %d", obtained, goroutines*calls)
	}
	var attempts uint64
	for _, n := range histogramCounts(t, ms, "http.client.request.duration") {
		attempts += n
	}
	if attempts != goroutines*calls {
		t.Errorf("got %d attempts, want %d", attempts, goroutines*calls)
	}
}
