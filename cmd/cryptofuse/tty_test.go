package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Only a terminal is a terminal: not /dev/null (a character device), a
// pipe, a regular file or something that is not a file.
func TestIsTerminalNot(t *testing.T) {
	t.Parallel()
	open := func(t *testing.T, path string) *os.File {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Skipf("opening %s: %v", path, err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	tests := []struct {
		name string
		v    func(t *testing.T) any
	}{
		{"null device", func(t *testing.T) any { return open(t, os.DevNull) }},
		{"regular file", func(t *testing.T) any {
			return open(t, writeFile(t, "f.txt", "x\n", 0o600))
		}},
		{"pipe", func(t *testing.T) any {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close(); w.Close() })
			return r
		}},
		{"directory", func(t *testing.T) any { return open(t, filepath.Clean(t.TempDir())) }},
		{"nil *os.File", func(*testing.T) any { return (*os.File)(nil) }},
		{"not a file", func(*testing.T) any { return strings.NewReader("") }},
		{"nil", func(*testing.T) any { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if isTerminal(tt.v(t)) {
				t.Error("isTerminal: got true, want false")
			}
		})
	}
}
