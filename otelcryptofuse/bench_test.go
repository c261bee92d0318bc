package otelcryptofuse

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// The cost of otelcryptofuse on a call: Revoke and Token without hooks,
// and with an Instrumentation over no-op providers, over the SDK with every
// span sampled, and over the SDK with none sampled (metrics only). Each
// runs over a canned in-process transport (the SDK's and OpenTelemetry's
// own cost, no network) and over a loopback server. Run with:
//
//	go test -run '^$' -bench . -benchmem .

const benchToken = "Gx3mPq9ZkR2vT7wYb1nC5dF8hJ0lAs"

const tokenAnswer = `{"access_token": "kR2vT7wYb1nC5dF8hJ0lAsGx3mPq9Z", "expires_in": 36000, "token_type": "Bearer", "scope": "read write"}`

// cannedTransport answers every request with status and body, without a
// network.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body io.ReadCloser = http.NoBody
	n := 0
	if strings.HasSuffix(req.URL.Path, "/o/token/") {
		body, n = io.NopCloser(strings.NewReader(tokenAnswer)), len(tokenAnswer)
	}
	return &http.Response{StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: body, ContentLength: int64(n), Request: req}, nil
}

// benchSetups are the instrumentations compared; nil hooks means none.
func benchSetups(b *testing.B) []struct {
	name  string
	hooks func() *cryptofuse.Hooks
} {
	mk := func(opts ...Option) func() *cryptofuse.Hooks {
		return func() *cryptofuse.Hooks {
			inst, err := New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = inst.Close() })
			h := inst.Hooks()
			return &h
		}
	}
	sdk := func(sampler sdktrace.Sampler) []Option {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSyncer(tracetest.NewNoopExporter()))
		b.Cleanup(func() {
			_ = mp.Shutdown(context.Background())
			_ = tp.Shutdown(context.Background())
		})
		return []Option{WithMeterProvider(mp), WithTracerProvider(tp)}
	}
	return []struct {
		name  string
		hooks func() *cryptofuse.Hooks
	}{
		{"off", func() *cryptofuse.Hooks { return nil }},
		{"noop", mk(WithMeterProvider(noop.NewMeterProvider()), WithTracerProvider(tracenoop.NewTracerProvider()))},
		{"sdk", mk(sdk(sdktrace.AlwaysSample())...)},
		{"sdk-unsampled", mk(sdk(sdktrace.NeverSample())...)},
	}
}

func BenchmarkRevokeWithOTel(b *testing.B) {
	benchCall(b, func(ctx context.Context, c *cryptofuse.Client) error {
		return c.Revoke(ctx, benchToken, cryptofuse.AccessTokenHint)
	})
}

func BenchmarkTokenWithOTel(b *testing.B) {
	benchCall(b, func(ctx context.Context, c *cryptofuse.Client) error {
		_, err := c.Token(ctx)
		return err
	})
}

// benchCall benchmarks call for each transport and instrumentation, with a
// ctx that has a deadline.
func benchCall(b *testing.B, call func(context.Context, *cryptofuse.Client) error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/o/token/") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, tokenAnswer)
		}
	}))
	b.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	b.Cleanup(cancel)
	transports := []struct {
		name string
		opts []cryptofuse.Option
	}{
		{"canned", []cryptofuse.Option{cryptofuse.WithBaseURL("http://127.0.0.1:1"),
			cryptofuse.WithHTTPClient(&http.Client{Transport: cannedTransport{}})}},
		{"loopback", []cryptofuse.Option{cryptofuse.WithBaseURL(srv.URL)}},
	}
	for _, tr := range transports {
		for _, s := range benchSetups(b) {
			b.Run("transport="+tr.name+"/otel="+s.name, func(b *testing.B) {
				opts := tr.opts
				if h := s.hooks(); h != nil {
					opts = append(opts[:len(opts):len(opts)], cryptofuse.WithHooks(*h))
				}
				c, err := cryptofuse.NewClient(testID, testSecret, opts...)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := call(ctx, c); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
