package otelcryptofuse_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/cryptofuse/cryptofuse-go/otelcryptofuse"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

const (
	atkID     = "atk-client"
	atkSecret = "atkSECRETvalue-9f8e7d6c5b4a"
	atkToken  = "atkTOKENvalue-0a1b2c3d4e5f6g"
)

type atkHarness struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.InMemoryExporter
	inst   *otelcryptofuse.Instrumentation
}

func atkNew(t *testing.T) *atkHarness {
	h := &atkHarness{reader: sdkmetric.NewManualReader(), spans: tracetest.NewInMemoryExporter()}
	inst, err := otelcryptofuse.New(
		otelcryptofuse.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))),
		otelcryptofuse.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans))))
	if err != nil {
		t.Fatal(err)
	}
	h.inst = inst
	t.Cleanup(func() { inst.Close() })
	return h
}

// all returns every string in every span and metric.
func (h *atkHarness) all(t *testing.T) string {
	var b strings.Builder
	for _, s := range h.spans.GetSpans() {
		fmt.Fprintf(&b, "%s|%s|%s|", s.Name, s.Status.Description, s.Status.Code)
		for _, a := range s.Attributes {
			fmt.Fprintf(&b, "%s=%s|", a.Key, a.Value.String())
		}
		for _, e := range s.Events {
			fmt.Fprintf(&b, "%s|", e.Name)
			for _, a := range e.Attributes {
				fmt.Fprintf(&b, "%s=%s|", a.Key, a.Value.String())
			}
		}
	}
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			fmt.Fprintf(&b, "%s|%s|%+v|", m.Name, m.Description, m.Data)
			attrsOf(&b, m.Data)
		}
	}
	return b.String()
}

func attrsOf(b *strings.Builder, d metricdata.Aggregation) {
	emit := func(set attribute.Set) {
		for _, kv := range set.ToSlice() {
			fmt.Fprintf(b, "%s=%s|", kv.Key, kv.Value.String())
		}
	}
	switch v := d.(type) {
	case metricdata.Sum[int64]:
		for _, p := range v.DataPoints {
			emit(p.Attributes)
		}
	case metricdata.Sum[float64]:
		for _, p := range v.DataPoints {
			emit(p.Attributes)
		}
	case metricdata.Gauge[float64]:
		for _, p := range v.DataPoints {
			emit(p.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, p := range v.DataPoints {
			emit(p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range v.DataPoints {
			emit(p.Attributes)
		}
	}
}

func atkLeaks(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		for _, enc := range []string{sec, url.QueryEscape(sec)} {
			if strings.Contains(s, enc) {
				t.Errorf("telemetry holds %q: %.400s", enc, s[max(0, strings.Index(s, enc)-200):])
			}
		}
	}
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(atkID) + ":" + url.QueryEscape(atkSecret)))
	if strings.Contains(s, basic) {
		t.Errorf("telemetry holds the Basic credential")
	}
}

// Promise: no attribute, span name or status holds a token or a credential,
// even when the server echoes them in every error answer.
func TestAttackOtelEchoNoSecrets(t *testing.T) {
	h := atkNew(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		all := string(raw) + " " + r.Header.Get("Authorization") + " " + atkSecret
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", "Bearer "+all)
		w.WriteHeader(503)
		fmt.Fprintf(w, `{"error":"invalid_request","error_description":%q,"error_uri":%q}`, all, "https://x/"+atkSecret)
	}))
	defer srv.Close()
	c, err := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHooks(h.inst.Hooks()),
		cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.Introspect(ctx, atkToken)
	c.Revoke(ctx, atkToken, "")
	c.RevokeAndVerify(ctx, atkToken, "")
	c.RotateToken(ctx, atkToken)
	c.Token(ctx)
	s := h.all(t)
	atkLeaks(t, s, atkSecret, atkToken)
	if n := len(h.spans.GetSpans()); n < 8 {
		t.Errorf("%d spans, want one per attempt (>= 8)", n)
	}
	for _, sp := range h.spans.GetSpans() {
		if sp.Name != "POST" {
			t.Errorf("span name %q", sp.Name)
		}
	}
}

// Promise: spans per attempt with resend count from the second attempt,
// error.type "503", operation attribute; a TLS failure is "tls_certificate".
func TestAttackOtelAttemptSpans(t *testing.T) {
	h := atkNew(t)
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	tok := srv.IssueToken(atkID, "")
	srv.InjectFault(2, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 503})
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHooks(h.inst.Hooks()),
		cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	if err := c.RevokeAndVerify(context.Background(), tok, ""); err != nil {
		t.Fatal(err)
	}
	spans := h.spans.GetSpans()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4 (revoke + 3 introspect)", len(spans))
	}
	get := func(i int, k string) (attribute.Value, bool) {
		for _, a := range spans[i].Attributes {
			if string(a.Key) == k {
				return a.Value, true
			}
		}
		return attribute.Value{}, false
	}
	if v, _ := get(0, "cryptofuse.operation"); v.AsString() != "revoke" {
		t.Errorf("span 0 op %v", v.String())
	}
	if _, ok := get(1, "http.request.resend_count"); ok {
		t.Errorf("first introspect attempt has resend_count")
	}
	if v, _ := get(1, "error.type"); v.AsString() != "503" {
		t.Errorf("error.type %q", v.String())
	}
	if v, ok := get(3, "http.request.resend_count"); !ok || v.AsInt64() != 2 {
		t.Errorf("third attempt resend_count %v %v", v.String(), ok)
	}
	if _, ok := get(3, "error.type"); ok {
		t.Errorf("successful attempt has error.type")
	}
	atkLeaks(t, h.all(t), tok, atkSecret)

	// TLS
	tsrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tsrv.Config.ErrorLog = nil
	tsrv.StartTLS()
	defer tsrv.Close()
	h2 := atkNew(t)
	c2, _ := cryptofuse.NewClient(atkID, "x", cryptofuse.WithBaseURL(tsrv.URL), cryptofuse.WithHooks(h2.inst.Hooks()),
		cryptofuse.WithHTTPClient(&http.Client{Transport: cryptofuse.NewTransport()}))
	c2.Introspect(context.Background(), "x")
	sp := h2.spans.GetSpans()
	if len(sp) != 1 {
		t.Fatalf("TLS: %d spans", len(sp))
	}
	found := ""
	for _, a := range sp[0].Attributes {
		if a.Key == "error.type" {
			found = a.Value.AsString()
		}
	}
	if found != "tls_certificate" {
		t.Errorf("TLS error.type %q, want tls_certificate (with secret \"x\")", found)
	}
}

// Promise: Instrumentation is safe for concurrent use; Close idempotent.
func TestAttackOtelConcurrent(t *testing.T) {
	h := atkNew(t)
	srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
	defer srv.Close()
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()), cryptofuse.WithHooks(h.inst.Hooks()))
			ts, _ := c.TokenSource(cryptofuse.TokenPolicy{RevokeOnClose: true})
			for i := 0; i < 10; i++ {
				tok, err := ts.Token(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				c.RevokeAndVerify(context.Background(), tok.AccessToken, "")
				if _, err := ts.Rotate(context.Background()); err != nil {
					t.Error(err)
					return
				}
				h.all(t)
			}
			ts.Close(context.Background())
		}()
	}
	wg.Wait()
	if n := len(h.spans.GetSpans()); n != srv.Counts().Token+srv.Counts().Revoke+srv.Counts().Introspect {
		t.Errorf("spans %d, requests %+v", n, srv.Counts())
	}
	if err := h.inst.Close(); err != nil {
		t.Error(err)
	}
	if err := h.inst.Close(); err != nil {
		t.Error(err)
	}
}
