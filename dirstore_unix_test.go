//go:build unix

package cryptofuse

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDirStore_FIFO: a FIFO at a record's path (nobody writes to it) is
// refused at once; opening it for reading does not hang Get.
func TestDirStore_FIFO(t *testing.T) {
	d := newDirStore(t)
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(string(d), dirTestKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := d.Get(t.Context(), dirTestKey); !errors.Is(err, errDirNotFile) {
		t.Errorf("Get: got %q, %v, want an error wrapping errDirNotFile", b, err)
	}
	if err := d.Put(t.Context(), dirTestKey, []byte("new")); err != nil {
		t.Fatalf("Put over it: %v", err)
	}
	if b, err := d.Get(t.Context(), dirTestKey); err != nil || string(b) != "new" {
		t.Errorf("Get after Put: got %q, %v, want %q", b, err, "new")
	}
}
