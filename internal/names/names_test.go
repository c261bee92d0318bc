package names

import "testing"

func TestFingerprint(t *testing.T) {
	t.Parallel()
	tests := []struct{ token, want string }{
		{"", "e3b0c442"},    // SHA-256 of the empty string
		{"abc", "ba7816bf"}, // FIPS 180-2's first example
	}
	for _, tt := range tests {
		if got := Fingerprint(tt.token); got != tt.want {
			t.Errorf("Fingerprint(%q): got %q, want %q", tt.token, got, tt.want)
		}
	}
}
