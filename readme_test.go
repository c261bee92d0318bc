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
