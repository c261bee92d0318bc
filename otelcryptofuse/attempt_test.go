package otelcryptofuse

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// fastRetry keeps the backoff between attempts short: the tests count
// attempts, never time.
var fastRetry = cryptofuse.WithRetry(cryptofuse.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})

// recorded wraps h's hooks so that the test also sees each AttemptEvent.
type recorded struct {
	mu     sync.Mutex
	events []cryptofuse.AttemptEvent
}

func (r *recorded) hooks(h cryptofuse.Hooks) cryptofuse.Hooks {
	inner := h.Attempt
	h.Attempt = func(ev cryptofuse.AttemptEvent) {
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
		inner(ev)
	}
	return h
}

// TestAttempts drives real Clients against cryptofusetest through a
// success, a 503 that is retried, an introspection and a failure (a
// wrong secret), under a parent span, and reads back every span and the
// request metrics.
func TestAttempts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv := cryptofusetest.NewServer(testID, testSecret)
	t.Cleanup(srv.Close)
	var rec recorded
	c, err := cryptofuse.NewClient(testID, testSecret, cryptofuse.WithBaseURL(srv.URL),
		cryptofuse.WithHooks(rec.hooks(h.inst.Hooks())), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	const badSecret = "wrong-s3cr3t"
	bad, err := cryptofuse.NewClient(testID, badSecret, cryptofuse.WithBaseURL(srv.URL),
		cryptofuse.WithHooks(rec.hooks(h.inst.Hooks())), fastRetry)
	if err != nil {
		t.Fatal(err)
	}

	ctx, parent := h.tp.Tracer("test").Start(context.Background(), "handler")
	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable})
	if err := c.Revoke(ctx, tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
		t.Fatal(err)
	}
	if in, err := c.Introspect(ctx, tok.AccessToken); err != nil || in.Active {
		t.Fatalf("Introspect of the revoked token: got %+v, %v; want inactive", in, err)
	}
	if _, err := bad.Token(ctx); !errors.Is(err, cryptofuse.ErrInvalidClient) {
		t.Fatalf("Token with a wrong secret: got %v, want ErrInvalidClient", err)
	}
	parent.End()

	host, portText, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	port, _ := strconv.Atoi(portText)
	common := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String("POST"),
		semconv.ServerAddress(host),
		semconv.ServerPort(port),
	}
	with := func(kvs ...attribute.KeyValue) string { return attrs(append(kvs, common...)...) }
	tokenURL, revokeURL := srv.URL+cryptofusetest.TokenPath, srv.URL+cryptofusetest.RevokePath
	introspectURL := srv.URL + cryptofusetest.IntrospectPath

	if len(rec.events) != 5 {
		t.Fatalf("got %d attempt events, want 5: %+v", len(rec.events), rec.events)
	}
	// One span per attempt, in order, and the parent.
	type wantSpan struct {
		attrs  string
		status codes.Code
	}
	wants := []wantSpan{
		{with(AttrOperation.String("token"), semconv.HTTPResponseStatusCode(200), semconv.URLFull(tokenURL)), codes.Unset},
		{with(AttrOperation.String("revoke"), semconv.HTTPResponseStatusCode(503), semconv.ErrorTypeKey.String("503"),
			semconv.URLFull(revokeURL), AttrRetryIn.Float64(rec.events[1].RetryIn.Seconds())), codes.Error},
		{with(AttrOperation.String("revoke"), semconv.HTTPResponseStatusCode(200), semconv.URLFull(revokeURL),
			semconv.HTTPRequestResendCount(1)), codes.Unset},
		{with(AttrOperation.String("introspect"), semconv.HTTPResponseStatusCode(200), semconv.URLFull(introspectURL)), codes.Unset},
		{with(AttrOperation.String("token"), semconv.HTTPResponseStatusCode(401), semconv.ErrorTypeKey.String("401"),
			semconv.URLFull(tokenURL), AttrGaveUp.String("not retryable")), codes.Error},
	}
	spans := h.spans.GetSpans()
	if len(spans) != len(wants)+1 || len(rec.events) != len(wants) {
		t.Fatalf("got %d spans and %d events, want %d and %d", len(spans), len(rec.events), len(wants)+1, len(wants))
	}
	for i, want := range wants {
		s, ev := spans[i], rec.events[i]
		if s.Name != "POST" {
			t.Errorf("span %d: name: got %q, want %q", i, s.Name, "POST")
		}
		if s.SpanKind != trace.SpanKindClient {
			t.Errorf("span %d: kind: got %v, want %v", i, s.SpanKind, trace.SpanKindClient)
		}
		if s.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %d: parent: got %v, want %v", i, s.Parent.SpanID(), parent.SpanContext().SpanID())
		}
		if !s.StartTime.Equal(ev.Start) || !s.EndTime.Equal(ev.Start.Add(ev.Duration)) {
			t.Errorf("span %d: got %v to %v, want %v to %v", i, s.StartTime, s.EndTime, ev.Start, ev.Start.Add(ev.Duration))
		}
		if got := attrs(s.Attributes...); got != want.attrs {
			t.Errorf("span %d: attributes:\ngot  %s\nwant %s", i, got, want.attrs)
		}
		if s.Status.Code != want.status {
			t.Errorf("span %d: status: got %v, want %v", i, s.Status.Code, want.status)
		}
		if want.status == codes.Error && s.Status.Description == "" {
			t.Errorf("span %d: status Error without a description", i)
		}
	}

	ms := h.metrics(t)
	if m := ms["http.client.request.duration"]; m.Unit != "s" {
		t.Errorf("http.client.request.duration: unit: got %q, want %q", m.Unit, "s")
	}
	gotDur := histogramCounts(t, ms, "http.client.request.duration")
	wantDur := map[string]uint64{
		with(AttrOperation.String("token"), semconv.HTTPResponseStatusCode(200)):                                      1,
		with(AttrOperation.String("revoke"), semconv.HTTPResponseStatusCode(503), semconv.ErrorTypeKey.String("503")): 1,
		with(AttrOperation.String("revoke"), semconv.HTTPResponseStatusCode(200)):                                     1,
		with(AttrOperation.String("introspect"), semconv.HTTPResponseStatusCode(200)):                                 1,
		with(AttrOperation.String("token"), semconv.HTTPResponseStatusCode(401), semconv.ErrorTypeKey.String("401")):  1,
	}
	assertMap(t, "http.client.request.duration counts", gotDur, wantDur)
	assertMap(t, MetricRetries, sums(t, ms, MetricRetries), map[string]int64{
		attrs(AttrOperation.String("revoke"), semconv.ErrorTypeKey.String("503")): 1,
	})

	assertNoSecret(t, h, testSecret, badSecret, tok.AccessToken)
}

// assertMap fails unless got and want hold the same entries.
func assertMap[V comparable](t *testing.T, what string, got, want map[string]V) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s[%s]: got %v (present: %v), want %v", what, k, g, ok, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected [%s] = %v", what, k, g)
		}
	}
}

// TestAttemptNoParent: an event without a Context (a hook called by hand)
// makes a root span.
func TestAttemptNoParent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inst.Hooks().Attempt(cryptofuse.AttemptEvent{Op: "token", Method: "POST", StatusCode: 200, Start: time.Now()})
	spans := h.spans.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	if spans[0].Parent.IsValid() {
		t.Errorf("got parent %v, want none", spans[0].Parent)
	}
}

func TestErrorType(t *testing.T) {
	t.Parallel()
	ctxTimeout, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctxTimeout.Done()
	tests := []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"status", errors.New("x"), 503, "503"},
		{"status in Error", &cryptofuse.Error{Op: "token", StatusCode: 401}, 0, "401"},
		{"unusable 2xx", &cryptofuse.Error{Op: "token", StatusCode: 200}, 200, "invalid_response"},
		{"deadline", ctxTimeout.Err(), 0, "timeout"},
		{"canceled", context.Canceled, 0, "canceled"},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, 0, "connection_refused"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, 0, "connection_reset"},
		{"dns", &net.DNSError{Err: "no such host", Name: "x.invalid"}, 0, "dns_error"},
		{"other net", &net.OpError{Op: "write", Net: "tcp", Err: errors.New("broken")}, 0, "connection_error"},
		{"other", errors.New("what"), 0, "_OTHER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorType(tt.err, tt.status); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAttemptsRefused: a request that gets no answer has error.type and
// no status code, in the span and the metric.
func TestAttemptsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	_ = ln.Close()
	c, err := cryptofuse.NewClient(testID, testSecret, cryptofuse.WithBaseURL(base),
		cryptofuse.WithHooks(h.inst.Hooks()), cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(context.Background(), "tok-"+testSecret, cryptofuse.AccessTokenHint); err == nil {
		t.Fatal("Revoke: got nil error, want a connection error")
	}
	counts := histogramCounts(t, h.metrics(t), "http.client.request.duration")
	host, portText, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(portText)
	assertMap(t, "http.client.request.duration counts", counts, map[string]uint64{
		attrs(semconv.HTTPRequestMethodKey.String("POST"), semconv.ServerAddress(host), semconv.ServerPort(port),
			AttrOperation.String("revoke"), semconv.ErrorTypeKey.String("connection_refused")): 1,
	})
	assertNoSecret(t, h, testSecret)
}
