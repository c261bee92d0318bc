package main

import (
	"testing"

	"github.com/cryptofuse/cryptofuse-go"
)

// TestHasAuthScheme: the CLI knows every scheme the SDK refuses in front of
// a token (both read internal/tokensyntax); 0.2 knew only five of them.
func TestHasAuthScheme(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want bool
	}{
		{"Bearer abc", true},
		{"bearer abc", true},
		{"Negotiate abc", true},
		{"NTLM abc", true},
		{"JWT abc", true},
		{"vapid abc", true},
		{"Authorization: Bearer abc", true},
		{"Bearer ", false},
		{"Bearer", false},
		{"Bearerish abc", false},
		{"abc def", false},
	}
	for _, tt := range tests {
		if got := hasAuthScheme(tt.line); got != tt.want {
			t.Errorf("hasAuthScheme(%q): got %v, want %v", tt.line, got, tt.want)
		}
	}
}

// TestMaxConcurrency: -concurrency is capped at the connections per host of
// the SDK's default transport, open and idle, as its comment says (0.2
// capped it at 100, above both).
func TestMaxConcurrency(t *testing.T) {
	t.Parallel()
	tr := cryptofuse.NewTransport()
	if maxConcurrency != tr.MaxConnsPerHost || maxConcurrency != tr.MaxIdleConnsPerHost {
		t.Errorf("maxConcurrency: got %d, want the transport's MaxConnsPerHost %d and MaxIdleConnsPerHost %d",
			maxConcurrency, tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost)
	}
}
