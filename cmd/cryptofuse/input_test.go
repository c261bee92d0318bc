package main

import "testing"

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
