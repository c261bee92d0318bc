package otelcryptofuse_test

// FAILING attack tests of otelcryptofuse.

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// Promise broken: package doc: error.type is "tls_certificate" for a TLS
// certificate failure; cryptofuse's Error doc: scrubbing changes text only.
// With a token whose text occurs in the TLS error ("certificate"), the scrubbed
// error no longer unwraps to the x509 error, and the span says otherwise.
func TestAttackFailOtelTLSErrorTypeLostToScrubbing(t *testing.T) {
	tsrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tsrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tsrv.StartTLS()
	defer tsrv.Close()
	h := atkNew(t)
	c, _ := cryptofuse.NewClient(atkID, "some-long-secret", cryptofuse.WithBaseURL(tsrv.URL), cryptofuse.WithHooks(h.inst.Hooks()),
		cryptofuse.WithHTTPClient(&http.Client{Transport: cryptofuse.NewTransport()}))
	c.Introspect(context.Background(), "certificate")
	sp := h.spans.GetSpans()
	if len(sp) != 1 {
		t.Fatalf("%d spans, want 1", len(sp))
	}
	got := ""
	for _, a := range sp[0].Attributes {
		if a.Key == "error.type" {
			got = a.Value.AsString()
		}
	}
	if got != "tls_certificate" {
		t.Errorf("error.type = %q, want tls_certificate", got)
	}
}
