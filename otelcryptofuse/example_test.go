package otelcryptofuse_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"sort"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/cryptofuse/cryptofuse-go/otelcryptofuse"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Instrument a Client, and every TokenSource built on it, with
// OpenTelemetry. A program would pass its own providers, or none to use
// the global ones; this example reads back what was recorded.
func Example() {
	srv := cryptofusetest.NewServer("my-id", "my-secret")
	defer srv.Close()

	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewInMemoryExporter()
	inst, err := otelcryptofuse.New(
		otelcryptofuse.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))),
		otelcryptofuse.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer inst.Close()

	client, err := cryptofuse.NewClient("my-id", "my-secret",
		cryptofuse.WithBaseURL(srv.URL),
		cryptofuse.WithHooks(inst.Hooks()))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := client.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	if err := client.Revoke(context.Background(), tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
		log.Fatal(err)
	}

	for _, s := range spans.GetSpans() {
		fmt.Println("span:", s.Name, s.SpanKind)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			names = append(names, m.Name)
		}
	}
	sort.Strings(names)
	fmt.Println("metrics:", names)
	// Output:
	// span: POST client
	// span: POST client
	// metrics: [http.client.request.duration]
}

// A service instruments its Client with the global providers it set up at
// start-up: every request attempt, and every token, store call and
// revocation of the TokenSources built on the Client, is measured.
// Compiled, not run: it needs real credentials.
func ExampleNew() {
	id, secret := os.Getenv("CRYPTOFUSE_CLIENT_ID"), os.Getenv("CRYPTOFUSE_CLIENT_SECRET")

	inst, err := otelcryptofuse.New() // the global providers; or WithMeterProvider, WithTracerProvider
	if err != nil {
		log.Fatal(err)
	}
	defer inst.Close()
	c, err := cryptofuse.NewClient(id, secret, cryptofuse.WithHooks(inst.Hooks()))
	if err != nil {
		log.Fatal(err)
	}
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{})
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close(context.Background())
}
