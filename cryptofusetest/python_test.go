package cryptofusetest

import (
	"strings"
	"testing"
)

// The wants below are what Python 3.11 answered for the same input.

func TestUnquotePlus(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a+b", "a b"},
		{"%3A%2B%25%26%2F%3D%C3%A9", ":+%&/=é"},
		{"%c3%a9", "é"},
		{"%zz", "%zz"},
		{"100%", "100%"},
		{"%4", "%4"},
		{"%4g", "%4g"},
		{"%C3", "\uFFFD"},
		{"%C3é", "\uFFFDé"},
		{"%E2%82", "\uFFFD"},
		{"%E2%82%AC", "€"},
		{"%F0%9F%98", "\uFFFD"},
		{"%ff%fe", "\uFFFD\uFFFD"},
		{"%ED%A0%80", "\uFFFD\uFFFD\uFFFD"},
		{"é+%41", "é A"},
		{"%2B", "+"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := unquotePlus(tt.in); got != tt.want {
				t.Errorf("unquotePlus(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeUTF8Replace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ok", "ok"},
		{"\xe2\x82", "\uFFFD"},
		{"\xe2\x82A", "\uFFFDA"},
		{"\xf0\x80\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xc0\xaf", "\uFFFD\uFFFD"},
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"\xff", "\uFFFD"},
		{"\xf0\x9f\x98", "\uFFFD"},
		{"\xef\xbf\xbd", "\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := decodeUTF8Replace([]byte(tt.in)); got != tt.want {
				t.Errorf("decodeUTF8Replace(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPyStripAndSplit(t *testing.T) {
	tests := []struct {
		in        string
		wantStrip string
		wantSplit []string
	}{
		{" read ", "read", []string{"read"}},
		{"\x1fread\x1c", "read", []string{"read"}},
		{"\u00a0a\u2028b\u3000", "a\u2028b", []string{"a", "b"}},
		{"a\u200bb", "a\u200bb", []string{"a\u200bb"}}, // a zero-width space is no space
		{"\t\n", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := pyStrip(tt.in); got != tt.wantStrip {
				t.Errorf("pyStrip(%q): got %q, want %q", tt.in, got, tt.wantStrip)
			}
			if got := pySplit(tt.in); strings.Join(got, "|") != strings.Join(tt.wantSplit, "|") || len(got) != len(tt.wantSplit) {
				t.Errorf("pySplit(%q): got %q, want %q", tt.in, got, tt.wantSplit)
			}
		})
	}
}

func TestDecodeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"é", "é"},
		{"\xe9", "é"}, // not UTF-8: read as ISO-8859-1
		{"a\xff", "aÿ"},
	}
	for _, tt := range tests {
		if got := decodeText([]byte(tt.in)); got != tt.want {
			t.Errorf("decodeText(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
