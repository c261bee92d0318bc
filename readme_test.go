package cryptofuse_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMELogoutCompiles keeps the README's logout handler in step with
// the copy in example_logout_test.go, which CI compiles and runs: the README
// shows only code that builds.
func TestREADMELogoutCompiles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_logout_test.go")
	if err != nil {
		t.Fatal(err)
	}
	got := funcText(t, "README.md", string(readme), "func logout(")
	want := funcText(t, "example_logout_test.go", string(src), "func logout(")
	if got != want {
		t.Errorf("README.md's logout handler:\n%s\nwant the one example_logout_test.go compiles:\n%s", got, want)
	}
}

// TestREADMEManagedTokensCompile keeps the code blocks of the README's
// "Managed tokens" section in step with the examples that CI compiles and
// runs: every line of a block, but its comments and imports, must appear in
// the example in the same order (an example may add lines between them,
// such as the fake server's base URL).
func TestREADMEManagedTokensCompile(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ block, example string }{
		{"ts, err := c.TokenSource(cryptofuse.TokenPolicy{}) // the zero policy", "func ExampleTokenSource_Transport() {"},
		{"c, err := cryptofuse.NewClient(id, secret,\n\tcryptofuse.WithHTTPClient(&http.Client{Transport: otelhttp", "func ExampleTokenSource_Transport_tracing() {"},
	} {
		block := codeBlock(t, string(readme), tc.block)
		example := lines(funcText(t, "example_test.go", string(src), tc.example))
		next := 0
		for _, line := range lines(block) {
			if strings.HasPrefix(line, "//") || strings.HasPrefix(line, "import ") {
				continue
			}
			for next < len(example) && example[next] != line {
				next++
			}
			if next == len(example) {
				t.Errorf("README.md's block with %q: line %q is not in %s (in this order):\n%s", tc.block, line, tc.example, block)
				break
			}
			next++
		}
	}
}

// codeBlock returns the fenced code block of the README that holds text.
func codeBlock(t *testing.T, readme, text string) string {
	t.Helper()
	i := strings.Index(readme, text)
	if i < 0 {
		t.Fatalf("README.md has no %q", text)
	}
	start := strings.LastIndex(readme[:i], "```go\n")
	end := strings.Index(readme[i:], "\n```\n")
	if start < 0 || end < 0 {
		t.Fatalf("README.md: %q is not in a go code block", text)
	}
	return readme[start+len("```go\n") : i+end+1]
}

// lines returns the non-blank lines of text, trimmed of white space.
func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// funcText returns the function that starts with start in text, up to its
// closing brace at the start of a line.
func funcText(t *testing.T, name, text, start string) string {
	t.Helper()
	i := strings.Index(text, start)
	if i < 0 {
		t.Fatalf("%s has no %q", name, start)
	}
	end := strings.Index(text[i:], "\n}\n")
	if end < 0 {
		t.Fatalf("%s: %q has no end", name, start)
	}
	return text[i : i+end+3]
}
