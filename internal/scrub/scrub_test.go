package scrub

import (
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/cryptofuse/cryptofuse-go/internal/scrub/scrubtest"
	"github.com/cryptofuse/cryptofuse-go/internal/wire"
)

const testID = "cf-client"

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func TestClean(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "Missing token parameter.", 64, "Missing token parameter."},
		{"newline", "a\nb\r\nc", 64, "a\uFFFDb\uFFFD\uFFFDc"},
		{"escape sequence", "\x1b[31mred", 64, "\uFFFD[31mred"},
		{"invalid UTF-8", "a\xffb", 64, "a\uFFFDb"},
		{"non-ASCII kept", "clé invalide", 64, "clé invalide"},
		{"cut", "abcdef", 3, "abc…"},
		{"cut on a rune boundary", "aé", 2, "a…"},
		// C1 controls: U+0085 is NEL, a line break; U+009B is CSI, which
		// terminals that honour C1 read as the start of an escape sequence.
		{"NEL", "a\u0085b", 64, "a\uFFFDb"},
		{"CSI", "\u009b2J", 64, "\uFFFD2J"},
		{"C1 bounds", "x\u0080\u009fy", 64, "x\uFFFD\uFFFDy"},
		{"DEL and NUL", "a\x7fb\x00", 64, "a\uFFFDb\uFFFD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Clean(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("Clean(%q, %d): got %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if i := strings.IndexFunc(got, unicode.IsControl); i >= 0 {
				t.Errorf("Clean(%q): got %q, with a control character at byte %d", tc.in, got, i)
			}
		})
	}
}

// TestScrubber: the client secret, the Basic credentials and the given
// tokens are replaced in server text in every form a server could echo
// them in.
func TestScrubber(t *testing.T) {
	t.Parallel()
	const secret = "p+ss:w%rd&/=é-SECRET"
	creds := wire.BasicCredentials(testID, secret) // what the SDK sends
	// The base64 padding is left: it tells nothing.
	padding := creds[len(strings.TrimRight(creds, "=")):]
	const token = "AT-\xff-0123456789abcdefghij"
	cases := []struct {
		name, in, want string
	}{
		{"raw secret", "bad " + secret, "bad [redacted]"},
		{"form-encoded secret", "bad " + url.QueryEscape(secret), "bad [redacted]"},
		{"Basic credentials", "Authorization: Basic " + creds, "Authorization: Basic [redacted]" + padding},
		{"raw token", "token " + token, "token [redacted]"},
		{"form-encoded token", "token=" + url.QueryEscape(token), "token=[redacted]"},
		{"token decoded leniently", "token " + strings.ToValidUTF8(token, "\uFFFD"), "token [redacted]"},
		{"back to back", secret + token, "[redacted][redacted]"},
		{"nothing to scrub", "Missing token parameter.", "Missing token parameter."},
		{"empty", "", ""},
	}
	sc := New(append(ClientSecrets(testID, secret), token)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := sc.String(tc.in); got != tc.want {
				t.Errorf("String(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestShortValues pins MinLen: a value shorter than it is replaced only as
// a word of its own, a longer one anywhere (issue 16, "Errors": a token "x"
// turned "x509" into "[redacted]509", a secret "s" turned "connection
// refused" into "connection refu[redacted]ed").
func TestShortValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, secret, in, want string
	}{
		{"token x inside x509", "x", "x509: certificate signed by unknown authority", "x509: certificate signed by unknown authority"},
		{"secret s inside words", "s", "dial tcp 127.0.0.1:1: connect: connection refused", "dial tcp 127.0.0.1:1: connect: connection refused"},
		{"one character as a word", "x", "lookup x: no such host", "lookup [redacted]: no such host"},
		{"one character at both ends", "x", "x", "[redacted]"},
		{"one character form-encoded as a word", "é", "token=%C3%A9&x=1", "token=[redacted]&x=1"},
		{"one character whose first form is not a word", "&", "a &amp; b", "a [redacted] b"},
		{"three characters inside a word", "abc", "xabcx abc", "xabcx [redacted]"},
		{"three characters beside punctuation", "abc", `"abc"`, `"[redacted]"`},
		{"three characters beside a non-ASCII letter", "abc", "éabc", "éabc"},
		{"MinLen characters inside a word", "conn", "connection refused", "[redacted]ection refused"},
		{"long inside a word", "s3cr3t-value", "xs3cr3t-valuex", "x[redacted]x"},
	}
	if got := len([]rune("conn")); got != MinLen {
		t.Fatalf("the MinLen case has %d characters, want %d", got, MinLen)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := New(tc.secret).String(tc.in); got != tc.want {
				t.Errorf("New(%q).String(%q): got %q, want %q", tc.secret, tc.in, got, tc.want)
			}
		})
	}
}

// A long token echoed back with one byte changed makes every position of
// the text a long near-match. The matcher's budget bounds that work, and
// text it could not check is replaced whole rather than shown.
func TestScrubber_BudgetOnHostileText(t *testing.T) {
	t.Parallel()
	tok := strings.Repeat("a", 64<<10)
	sc := New(append(ClientSecrets(testID, "test-secret"), tok)...)
	cases := []struct{ name, in, want string }{
		{"near-echo of a 64 KiB token", strings.Repeat("a", 64<<10-1) + "b", Redacted},
		{"exact echo", "x" + tok + "y", "x" + Redacted + "y"},
		{"plain text", strings.Repeat("b", 64<<10), strings.Repeat("b", 64<<10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := sc.String(tc.in); got != tc.want {
				t.Errorf("String: got %q, want %q", abbrev(got), abbrev(tc.want))
			}
		})
	}
}

// TestScrubForms pins the scrubber on each form by itself, with a secret
// that has no marker to fall back on.
func TestScrubForms(t *testing.T) {
	t.Parallel()
	const secret = "s3cr&t/é<+😀\"\\\xff\a\v"
	const id = "cf-echo-client"
	sc := New(ClientSecrets(id, secret)...)
	forms := scrubtest.EchoForms(secret)
	for name, b := range scrubtest.BasicForms(id, secret) {
		forms[name] = b
	}
	for name, f := range forms {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := "before " + f + " after"
			got := sc.String(in)
			want := "before " + Redacted + " after"
			// base64's padding and a Basic prefix are left, harmlessly.
			got = strings.Replace(strings.Replace(got, Redacted+"=", Redacted, -1), "Basic "+Redacted, Redacted, 1)
			got = strings.Replace(got, Redacted+"=", Redacted, -1)
			if got != want {
				t.Errorf("String(%q): got %q, want %q", in, got, want)
			}
		})
	}
	t.Run("text without a secret is kept", func(t *testing.T) {
		t.Parallel()
		for _, in := range []string{"", "plain", `a \u0026 b`, "100% &amp; \\", "s3cr&t/é<+", "%", "\\", "&#;", "&#x;"} {
			if got := sc.String(in); got != in {
				t.Errorf("String(%q): got %q, want it unchanged", in, got)
			}
		}
	})
}
