package cryptofuse

import (
	"strings"
	"testing"
)

func TestFingerprint(t *testing.T) {
	tests := []struct {
		name, token string
	}{
		{"short", "a"},
		{"typical", "Zx9sV2kQpL0mN3bR7tY1uW4eC6dA8f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Fingerprint(tt.token)
			if len(got) != 12 {
				t.Errorf("len(Fingerprint) = %d, want 12", len(got))
			}
			if strings.Contains(got, tt.token) && len(tt.token) > 1 {
				t.Errorf("Fingerprint(%q) = %q holds the token", tt.token, got)
			}
			if again := Fingerprint(tt.token); again != got {
				t.Errorf("Fingerprint is not stable: got %q then %q", got, again)
			}
		})
	}
	if Fingerprint("a") == Fingerprint("b") {
		t.Errorf("Fingerprint(a) == Fingerprint(b)")
	}
}
