package main

import (
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// The bulk revocation's transport is the SDK's, with the pool sized for the
// workers.
func TestNewTransport(t *testing.T) {
	t.Parallel()
	sdk := cryptofuse.NewTransport()
	got := newTransport(16)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"TLSHandshakeTimeout", got.TLSHandshakeTimeout, sdk.TLSHandshakeTimeout},
		{"ResponseHeaderTimeout", got.ResponseHeaderTimeout, sdk.ResponseHeaderTimeout},
		{"IdleConnTimeout", got.IdleConnTimeout, sdk.IdleConnTimeout},
		{"ExpectContinueTimeout", got.ExpectContinueTimeout, sdk.ExpectContinueTimeout},
		{"ForceAttemptHTTP2", got.ForceAttemptHTTP2, sdk.ForceAttemptHTTP2},
		{"Proxy set", got.Proxy != nil, true},
		{"DialContext set", got.DialContext != nil, true},
		{"MaxIdleConns", got.MaxIdleConns, 16},
		{"MaxIdleConnsPerHost", got.MaxIdleConnsPerHost, 16},
		{"MaxConnsPerHost", got.MaxConnsPerHost, 16},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}
