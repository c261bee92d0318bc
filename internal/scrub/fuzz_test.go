package scrub

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cryptofuse/cryptofuse-go/internal/scrub/scrubtest"
)

// FuzzScrub checks the scrubber's invariants on any text, client secret and
// token:
//
//   - it never panics;
//   - its output is bounded: at most len(Redacted) bytes per byte of text;
//   - every supported echo form (scrubtest.EchoForms) of the secret and of
//     the token is found where it starts, alone and inside any text;
//   - Clean's output is valid UTF-8 without control characters, and cut to
//     its bound.
//
// The seeds are the cases of the package's tests.
func FuzzScrub(f *testing.F) {
	seeds := []struct{ text, secret, token string }{
		{"bad p+ss:w%rd&/=é-SECRET", "p+ss:w%rd&/=é-SECRET", "AT-\xff-0123456789abcdefghij"},
		{`the request was {"token":"Tk7W-tok/é&<>+😀\"\\=.~"}`, `Zq9X-s3cr&t/é<>+:%😀"\'=`, `Tk7W-tok/é&<>+😀"\=.~`},
		{"HTTP/1.1Zq9X-s3cr\xffet\xfe\xfd", "Zq9X-s3cr\xffet\xfe\xfd", "Tk7W-tok\xfe\xffen"},
		{"before s3cr&amp;t after", "s3cr&t/é<+😀\"\\\xff\a\v", "tok"},
		{"x509: certificate signed by unknown authority", "s3cr3t-value", "x"},
		{"dial tcp 127.0.0.1:1: connect: connection refused", "s", "tok-value"},
		{"lookup x: no such host", "secret", "x"},
		{strings.Repeat("a", 255) + "b", "test-secret", strings.Repeat("a", 256)},
		{"100% &amp; \\ &#; &#x; \\u0026", "&", "%"},
		{"", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.text, s.secret, s.token)
	}
	f.Fuzz(func(t *testing.T, text, secret, token string) {
		if len(text) > 4<<10 || len(secret) > 256 || len(token) > 256 {
			t.Skip("longer inputs only cost time: the budget test covers them")
		}
		sc := New(append(ClientSecrets("cf-client", secret), token)...)
		out := sc.String(text)
		if len(out) > len(Redacted)*len(text) {
			t.Errorf("String(%q): got %d bytes, want at most %d", text, len(out), len(Redacted)*len(text))
		}
		for _, value := range []string{secret, token} {
			if value == "" {
				continue
			}
			alone := New(value)
			for name, form := range scrubtest.EchoForms(value) {
				if got := alone.String(form); !strings.HasPrefix(got, Redacted) {
					t.Errorf("%s form %q of %q: got %q, want it found", name, form, value, got)
				}
				in := text + " " + form + " " + text
				if strings.Contains(in, Redacted) {
					continue // a replacement could look like the text it replaced
				}
				if got := sc.String(in); got == in {
					t.Errorf("%s form of %q inside text: got %q unchanged, want it found", name, value, got)
				}
			}
		}
		const max = 64
		c := Clean(text, max)
		if !utf8.ValidString(c) || strings.IndexFunc(c, unicode.IsControl) >= 0 {
			t.Errorf("Clean(%q): got %q, want valid UTF-8 without control characters", text, c)
		}
		if len(c) > max+len("…") {
			t.Errorf("Clean(%q): got %d bytes, want at most %d", text, len(c), max+len("…"))
		}
	})
}
