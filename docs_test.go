package cryptofuse_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// docFiles are the Markdown files whose Go snippets must compile: the README,
// every guide in docs/, and the CLI's README.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md", "cmd/cryptofuse/README.md"}, files...)
}

// compiledMarker names, on the line before a ```go fence, the file and the
// function that compile the snippet: <!-- compiled: FILE FUNC -->.
var compiledMarker = regexp.MustCompile(`^<!-- compiled: (\S+) (\S+) -->$`)

// TestDocSnippetsCompile keeps every Go snippet of the docs in step with
// code that CI compiles and runs: each ```go block is preceded by a marker
// naming a function in a _test.go file, and every line of the block, but its
// comments, imports and elisions (…), appears in that function in the same
// order (the function may add lines between them, such as the fake server's
// base URL).
func TestDocSnippetsCompile(t *testing.T) {
	blocks := 0
	for _, doc := range docFiles(t) {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		docLines := strings.Split(string(text), "\n")
		for i := 0; i < len(docLines); i++ {
			if docLines[i] != "```go" {
				continue
			}
			start := i + 1
			end := start
			for end < len(docLines) && docLines[end] != "```" {
				end++
			}
			blocks++
			block := strings.Join(docLines[start:end], "\n")
			t.Run(doc+":"+strconv.Itoa(start), func(t *testing.T) {
				m := compiledMarker.FindStringSubmatch(prevNonBlank(docLines, i))
				if m == nil {
					t.Fatalf("%s:%d: a ```go block without a <!-- compiled: FILE FUNC --> marker on the line before it", doc, i+1)
				}
				checkSnippet(t, doc, block, m[1], m[2])
			})
			i = end
		}
	}
	if blocks == 0 {
		t.Fatal("no ```go block found in the docs: is the working directory the module root?")
	}
}

// checkSnippet reports the lines of block that are not, in order, in the
// function fn of file.
func checkSnippet(t *testing.T, doc, block, file, fn string) {
	t.Helper()
	if !strings.HasSuffix(file, "_test.go") {
		t.Fatalf("%s: marker names %s, not a _test.go file that CI compiles", doc, file)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%s: marker names %s: %v", doc, file, err)
	}
	body := lines(funcText(t, file, string(src), "func "+fn+"("))
	next := 0
	for _, line := range lines(block) {
		if strings.HasPrefix(line, "//") || strings.HasPrefix(line, "import ") || strings.Contains(line, "…") {
			continue
		}
		for next < len(body) && body[next] != line {
			next++
		}
		if next == len(body) {
			t.Fatalf("%s: line %q of the snippet is not in %s's %s (in this order):\n%s", doc, line, file, fn, block)
		}
		next++
	}
}

// prevNonBlank is the last non-blank line before line i.
func prevNonBlank(ls []string, i int) string {
	for j := i - 1; j >= 0; j-- {
		if strings.TrimSpace(ls[j]) != "" {
			return strings.TrimSpace(ls[j])
		}
	}
	return ""
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

// releaseHeading is a released version's heading in CHANGELOG.md.
var releaseHeading = regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$`)

// TestChangelogNamesVersion keeps Version and CHANGELOG.md in step: the
// newest released entry is this version.
func TestChangelogNamesVersion(t *testing.T) {
	text, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	m := releaseHeading.FindSubmatch(text)
	if m == nil {
		t.Fatal("CHANGELOG.md has no released version heading (## [X.Y.Z] - YYYY-MM-DD)")
	}
	if got, want := string(m[1]), cryptofuse.Version; got != want {
		t.Errorf("CHANGELOG.md's newest release: got %s, want cryptofuse.Version %s", got, want)
	}
	if !strings.Contains(string(text), "["+cryptofuse.Version+"]: ") {
		t.Errorf("CHANGELOG.md has no link for [%s]", cryptofuse.Version)
	}
}

// TestModulesRequireThisVersion keeps the modules of this repository
// (oauth2adapt, redisstore, otelcryptofuse) in step with Version: each
// requires the root module at this version (their replace directive only
// serves development here; a user's build ignores it and fetches the tag).
func TestModulesRequireThisVersion(t *testing.T) {
	mods, err := filepath.Glob("*/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 {
		t.Fatal("no module beside the root: is the working directory the module root?")
	}
	want := "github.com/cryptofuse/cryptofuse-go v" + cryptofuse.Version
	for _, m := range mods {
		text, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), "\t"+want+"\n") {
			t.Errorf("%s does not require %s", m, want)
		}
	}
}
