package cryptofusetest

import (
	"errors"
	"testing"
)

// The wants below are what Python 3.11's base64.b64decode answered.
func TestPyB64Decode(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"", "", true},
		{"YXBwMTpzZWNyZXQx", "app1:secret1", true},
		{"YXBw*MTpz ZWNy-ZXQx", "app1:secret1", true},
		{"YXBwMTpzZWNyZXQx=garbage", "", false},
		{"YQ", "", false},
		{"YQ=", "", false},
		{"YQ==", "a", true},
		{"YQ==YQ==", "a", true},
		{"YWI=Yw==", "ab", true},
		{"Y", "", false},
		{"=YQ==", "a", true},
		{"Y=Q==", "a", true},
		{"YQ=x=", "a\x0c", true},
		{"YWJj", "abc", true},
		{"YWJjZA", "", false},
		{"YWJjZA=", "", false},
		{"YWJjZA==trailing", "abcd", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := pyB64Decode(tt.in)
			if ok != tt.wantOK || ok && string(got) != tt.want {
				t.Errorf("pyB64Decode(%q): got %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDecodeBasic(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantID     string
		wantSecret string
		wantErr    error
	}{
		{"plain", "YXBwMTpzZWNyZXQx", "app1", "secret1", nil},
		{"split on the first colon", b64("a:b:c"), "a", "b:c", nil},
		{"empty secret", b64("a:"), "a", "", nil},
		{"form-encoded", b64("%3A%2B+x:%C3%A9%26"), ":+ x", "é&", nil},
		{"no colon", b64("app1secret1"), "", "", errBasicValue},
		{"not UTF-8", b64("a:\xff"), "", "", errBasicValue},
		{"bad padding", "YQ", "", "", errBasicValue},
		{"non-ASCII", "YXBwMTpzZWNyZXQx\xe9", "", "", errNonASCII},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, err := decodeBasic(tt.in)
			if id != tt.wantID || secret != tt.wantSecret || !errors.Is(err, tt.wantErr) {
				t.Errorf("decodeBasic(%q): got %q, %q, %v; want %q, %q, %v", tt.in, id, secret, err, tt.wantID, tt.wantSecret, tt.wantErr)
			}
		})
	}
}

func TestBasicAuthString(t *testing.T) {
	tests := []struct {
		header    string
		hasHeader bool
		want      string
		wantOK    bool
	}{
		{"Basic abc", true, "abc", true},
		{"Basic  abc", true, " abc", true},
		{"Basic abc def", true, "abc def", true},
		{"basic abc", true, "", false},
		{"BASIC abc", true, "", false},
		{"Basic\tabc", true, "", false},
		{"Basic", true, "", false},
		{"Basic ", true, "", false},
		{"Bearer abc", true, "", false},
		{"", true, "", false},
		{"", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, ok := basicAuthString(tt.header, tt.hasHeader)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("basicAuthString(%q): got %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name      string
		header    string
		hasHeader bool
		params    params
		want      string
	}{
		{"Bearer", "Bearer abc", true, nil, "abc"},
		{"any case", "bEaReR abc", true, nil, "abc"},
		{"extra whitespace", "  Bearer \t abc ", true, nil, "abc"},
		{"NBSP is whitespace in ISO-8859-1", "Bearer\xa0abc", true, nil, "abc"},
		{"three fields", "Bearer abc def", true, nil, ""},
		{"Basic", "Basic abc", true, params{"access_token": "p"}, ""},
		{"parameter without a header", "", false, params{"access_token": "p"}, "p"},
		{"nothing", "", false, params{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bearerToken(tt.header, tt.hasHeader, tt.params); got != tt.want {
				t.Errorf("bearerToken(%q): got %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}
