package otelcryptofuse

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Shared setup of the tests: an Instrumentation over an SDK MeterProvider
// with a ManualReader and an SDK TracerProvider with an in-memory span
// exporter, and readers of what they recorded.

const (
	testID     = "svc-id"
	testSecret = "s3cr3t-value"
)

// harness is an Instrumentation and what reads back its spans and metrics.
type harness struct {
	inst   *Instrumentation
	reader *sdkmetric.ManualReader
	spans  *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
}

// newHarness returns a harness whose Instrumentation is built with opts
// besides the test providers; it is closed at the end of the test.
func newHarness(t testing.TB, opts ...Option) *harness {
	t.Helper()
	h := &harness{reader: sdkmetric.NewManualReader(), spans: tracetest.NewInMemoryExporter()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans))
	inst, err := New(append([]Option{WithMeterProvider(mp), WithTracerProvider(h.tp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.inst = inst
	t.Cleanup(func() {
		if err := inst.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		_ = mp.Shutdown(context.Background())
		_ = h.tp.Shutdown(context.Background())
	})
	return h
}

// withNow sets the clock of the remaining-lifetime gauge.
func withNow(now func() time.Time) Option { return func(c *config) { c.now = now } }

// metrics collects and returns every metric recorded, by name.
func (h *harness) metrics(t testing.TB) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("scope: got %q, want %q", sm.Scope.Name, ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// attrString renders a set as "k=v,k=v" in key order, for comparisons.
func attrString(set attribute.Set) string {
	parts := make([]string, 0, set.Len())
	for _, kv := range set.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// attrs renders key-values as attrString does.
func attrs(kvs ...attribute.KeyValue) string { return attrString(attribute.NewSet(kvs...)) }

// sums returns the data points of the Int64 sum named name, by attributes.
func sums(t testing.TB, ms map[string]metricdata.Metrics, name string) map[string]int64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		return nil
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s: got %T, want a Sum[int64]", name, m.Data)
	}
	if !sum.IsMonotonic {
		t.Errorf("%s: not monotonic", name)
	}
	out := map[string]int64{}
	for _, dp := range sum.DataPoints {
		out[attrString(dp.Attributes)] = dp.Value
	}
	return out
}

// gauge returns the data points of the Float64 gauge named name, by
// attributes.
func gauge(t testing.TB, ms map[string]metricdata.Metrics, name string) map[string]float64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		return map[string]float64{}
	}
	g, ok := m.Data.(metricdata.Gauge[float64])
	if !ok {
		t.Fatalf("%s: got %T, want a Gauge[float64]", name, m.Data)
	}
	out := map[string]float64{}
	for _, dp := range g.DataPoints {
		out[attrString(dp.Attributes)] = dp.Value
	}
	return out
}

// histogramCounts returns the counts of the Float64 histogram named name,
// by attributes.
func histogramCounts(t testing.TB, ms map[string]metricdata.Metrics, name string) map[string]uint64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	hist, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s: got %T, want a Histogram[float64]", name, m.Data)
	}
	out := map[string]uint64{}
	for _, dp := range hist.DataPoints {
		out[attrString(dp.Attributes)] = dp.Count
	}
	return out
}

// assertNoSecret fails if any attribute value, span name, status
// description or span event of what h recorded contains one of secrets.
func assertNoSecret(t *testing.T, h *harness, secrets ...string) {
	t.Helper()
	var texts []string
	for _, s := range h.spans.GetSpans() {
		texts = append(texts, s.Name, s.Status.Description, fmt.Sprint(s.Attributes), fmt.Sprint(s.Events))
	}
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	texts = append(texts, fmt.Sprintf("%+v", rm))
	all := strings.Join(texts, "\n")
	for _, sec := range secrets {
		if sec == "" {
			t.Fatal("assertNoSecret: empty secret")
		}
		if strings.Contains(all, sec) {
			t.Errorf("recorded telemetry holds the secret %q", sec)
		}
	}
}
