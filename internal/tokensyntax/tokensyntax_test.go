package tokensyntax

import "testing"

func TestIsB64Token(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		want bool
	}{
		{"Zt9QpW3xLr7KmN2vB8cY4hJ6fD1sA5", true},
		{"tok_abc-DEF.123~+/", true},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", true},
		{"abc=", true},
		{"abc==", true},
		{"", false},
		{"=", false},
		{"==abc", false},
		{"a=b", false},
		{"tokA\u00a0tokB", false},
		{"\"tokC\",", false},
		{"tokD\u200b", false},
		{"\ufefftokE", false},
		{"tok F", false},
		{"tok\tG", false},
		{"tok\x7fH", false},
		{"tök", false},
		{"tok%20I", false},
	}
	for _, tt := range tests {
		if got := IsB64Token(tt.s); got != tt.want {
			t.Errorf("IsB64Token(%q): got %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestScheme(t *testing.T) {
	t.Parallel()
	tests := []struct {
		word, want string
		ok         bool
	}{
		{"Bearer", "Bearer", true},
		{"bearer", "Bearer", true},
		{"dpop", "DPoP", true},
		{"VAPID", "vapid", true},
		{"scram-sha-256", "SCRAM-SHA-256", true},
		{"Bearerish", "", false},
		{"Authorization:", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := Scheme(tt.word); got != tt.want || ok != tt.ok {
			t.Errorf("Scheme(%q): got %q, %v, want %q, %v", tt.word, got, ok, tt.want, tt.ok)
		}
	}
}
