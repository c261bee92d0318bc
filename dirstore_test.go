package cryptofuse

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

const dirTestKey = "cryptofuse-v1-0123456789abcdef0123456789abcdef"

// newDirStore returns a DirStore in a fresh directory that does not exist yet.
func newDirStore(t *testing.T) DirStore {
	t.Helper()
	return DirStore(filepath.Join(t.TempDir(), "tokens"))
}

func TestDirStore_Modes(t *testing.T) {
	d := newDirStore(t)
	ctx := t.Context()
	if _, err := d.Get(ctx, dirTestKey); !errors.Is(err, ErrStoreMiss) {
		t.Fatalf("Get before the directory exists: got %v, want ErrStoreMiss", err)
	}
	if err := d.Put(ctx, dirTestKey, []byte("sealed")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{string(d), 0o700 | os.ModeDir}, {filepath.Join(string(d), dirTestKey), 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (os.ModeDir | os.ModePerm); got != c.want {
			t.Errorf("mode of %s: got %v, want %v", filepath.Base(c.path), got, c.want)
		}
	}
	// Put over a file at another mode leaves 0600.
	p := filepath.Join(string(d), dirTestKey)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, dirTestKey, []byte("again")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after Put over a 0644 file: got %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(string(d))
	for _, e := range entries {
		if e.Name() != dirTestKey {
			t.Errorf("file left in the directory: %s", e.Name())
		}
	}
}

// TestDirStore_Refuses: what DirStore will not read, and that a Put
// replaces it.
func TestDirStore_Refuses(t *testing.T) {
	tests := []struct {
		name    string
		plant   func(t *testing.T, p string)
		wantErr error
	}{
		{"group-writable", func(t *testing.T, p string) { writeMode(t, p, 0o620) }, errDirWritable},
		{"world-writable", func(t *testing.T, p string) { writeMode(t, p, 0o602) }, errDirWritable},
		{"symlink to a good file", func(t *testing.T, p string) {
			target := filepath.Join(t.TempDir(), "elsewhere")
			writeMode(t, target, 0o600)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}, errDirNotFile},
		{"directory", func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
		}, errDirNotFile},
		{"too large", func(t *testing.T, p string) {
			if err := os.WriteFile(p, make([]byte, maxDirFileSize+1), 0o600); err != nil {
				t.Fatal(err)
			}
		}, errDirTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDirStore(t)
			ctx := t.Context()
			if err := os.MkdirAll(string(d), 0o700); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(string(d), dirTestKey)
			tc.plant(t, p)
			b, err := d.Get(ctx, dirTestKey)
			if !errors.Is(err, tc.wantErr) || errors.Is(err, ErrStoreMiss) {
				t.Fatalf("Get: got %q, %v, want an error wrapping %v", b, err, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error text: got %q, want the prefix %q", err, prefix)
			}
			if tc.name == "directory" {
				return // Put cannot rename over a directory; Delete refuses it
			}
			if err := d.Put(ctx, dirTestKey, []byte("new")); err != nil {
				t.Fatalf("Put over it: %v", err)
			}
			if b, err := d.Get(ctx, dirTestKey); err != nil || string(b) != "new" {
				t.Errorf("Get after Put: got %q, %v, want %q", b, err, "new")
			}
		})
	}
}

// TestDirStore_SymlinkNotFollowed: a symbolic link at a record's path does
// not lead a Put or a Delete to the file it names.
func TestDirStore_SymlinkNotFollowed(t *testing.T) {
	d := newDirStore(t)
	ctx := t.Context()
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "victim")
	writeMode(t, target, 0o600)
	p := filepath.Join(string(d), dirTestKey)
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, dirTestKey); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, dirTestKey, []byte("new")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "victim" {
		t.Errorf("the link's target: got %q, %v, want it untouched (%q)", b, err, "victim")
	}
}

// writeMode writes a file with its name as content, at mode.
func writeMode(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(filepath.Base(p)), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func TestDirStore_DirectoryWritableByOthers(t *testing.T) {
	d := newDirStore(t)
	if err := os.Mkdir(string(d), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(string(d), 0o770); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	writeMode(t, filepath.Join(string(d), dirTestKey), 0o600) // planted, or put back
	if b, err := d.Get(ctx, dirTestKey); !errors.Is(err, errDirWritable) {
		t.Errorf("Get: got %q, %v, want an error wrapping errDirWritable", b, err)
	}
	if err := d.Put(ctx, dirTestKey, []byte("x")); !errors.Is(err, errDirWritable) {
		t.Errorf("Put: got %v, want an error wrapping errDirWritable", err)
	}
	if err := d.Lock(ctx, dirTestKey, "me", time.Minute); !errors.Is(err, errDirWritable) {
		t.Errorf("Lock: got %v, want an error wrapping errDirWritable", err)
	}
}

func TestDirStore_Keys(t *testing.T) {
	d := newDirStore(t)
	ctx := t.Context()
	for _, key := range []string{"", ".", "..", ".guard", ".lock-x", "../escape", "a/b", `a\b`, "a b", "a\x00b", "ключ", strings.Repeat("k", maxDirKeyLen+1)} {
		if err := d.Put(ctx, key, []byte("x")); !errors.Is(err, errDirKey) {
			t.Errorf("Put(%q): got %v, want an error wrapping errDirKey", key, err)
		}
		if _, err := d.Get(ctx, key); !errors.Is(err, errDirKey) {
			t.Errorf("Get(%q): got %v, want an error wrapping errDirKey", key, err)
		}
		if err := d.Lock(ctx, key, "me", time.Minute); !errors.Is(err, errDirKey) {
			t.Errorf("Lock(%q): got %v, want an error wrapping errDirKey", key, err)
		}
	}
	for _, key := range []string{"a", "A.b_c-9", strings.Repeat("k", maxDirKeyLen)} {
		if err := d.Put(ctx, key, []byte("x")); err != nil {
			t.Errorf("Put(%q): got %v, want nil", key, err)
		}
	}
	if err := d.Put(ctx, "big", make([]byte, maxDirFileSize+1)); !errors.Is(err, errDirTooLarge) {
		t.Errorf("Put of %d bytes: got %v, want an error wrapping errDirTooLarge", maxDirFileSize+1, err)
	}
	if err := d.Lock(ctx, "a", "me", 0); !errors.Is(err, errDirTTL) {
		t.Errorf("Lock with ttl 0: got %v, want an error wrapping errDirTTL", err)
	}
}

// TestDirStore_LockExpiry runs in a bubble: the lock files hold the
// bubble's time.
func TestDirStore_LockExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := DirStore(filepath.Join(t.TempDir(), "tokens"))
		ctx := t.Context()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		locked := func(owner string) {
			t.Helper()
			if err := d.Lock(ctx, dirTestKey, owner, time.Minute); !errors.Is(err, ErrLocked) {
				t.Fatalf("Lock by %s: got %v, want ErrLocked", owner, err)
			}
		}
		must(d.Lock(ctx, dirTestKey, "A", 10*time.Second))
		locked("B")
		must(d.Unlock(ctx, dirTestKey, "B")) // not B's: nothing happens
		locked("B")
		time.Sleep(8 * time.Second)
		must(d.Lock(ctx, dirTestKey, "A", 10*time.Second)) // extends to 18 s
		time.Sleep(8 * time.Second)
		locked("B") // 16 s: held thanks to the extension
		time.Sleep(2 * time.Second)
		must(d.Lock(ctx, dirTestKey, "B", 10*time.Second)) // 18 s: A's ran out (A crashed)
		locked("A")
		must(d.Unlock(ctx, dirTestKey, "B"))
		must(d.Lock(ctx, dirTestKey, "A", time.Second))
		if _, err := os.Lstat(filepath.Join(string(d), ".lock-"+dirTestKey)); err != nil {
			t.Errorf("lock file: %v", err)
		}
		must(d.Unlock(ctx, dirTestKey, "A"))
		if _, err := os.Lstat(filepath.Join(string(d), ".lock-"+dirTestKey)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("lock file after Unlock: got %v, want it gone", err)
		}
	})
}

func TestDirStore_JoinLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := DirStore(filepath.Join(t.TempDir(), "tokens"))
		ctx := t.Context()
		for _, m := range []string{"m1", "m2", "m3"} {
			if err := d.Join(ctx, dirTestKey, m, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Join(ctx, dirTestKey, "short", time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // "short" ran out: it crashed
		for _, c := range []struct {
			member string
			want   int
		}{{"never-joined", 3}, {"m1", 2}, {"m1", 2}, {"m3", 1}, {"m2", 0}} {
			got, err := d.Leave(ctx, dirTestKey, c.member)
			if err != nil || got != c.want {
				t.Errorf("Leave(%s): got %d, %v, want %d", c.member, got, err, c.want)
			}
		}
		entries, err := os.ReadDir(filepath.Join(string(d), ".members-"+dirTestKey))
		if err != nil || len(entries) != 0 {
			t.Errorf("member files left: got %d, %v, want none (the expired one collected)", len(entries), err)
		}
	})
}

func TestDirStore_Watch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := DirStore(filepath.Join(t.TempDir(), "tokens"))
		ctx, cancel := context.WithCancel(t.Context())
		ch, err := d.Watch(ctx, dirTestKey)
		if err != nil {
			t.Fatal(err)
		}
		// pending reports whether a notification is waiting after one
		// polling interval.
		pending := func() bool {
			time.Sleep(dirWatchInterval)
			synctest.Wait()
			select {
			case _, ok := <-ch:
				return ok
			default:
				return false
			}
		}
		other := DirStore(string(d)) // another process, as far as the files go
		steps := []struct {
			name string
			do   func() error
			want bool
		}{
			{"nothing", func() error { return nil }, false},
			{"Put", func() error { return other.Put(ctx, dirTestKey, []byte("one")) }, true},
			{"nothing after Put", func() error { return nil }, false},
			{"Put of the same bytes", func() error { return other.Put(ctx, dirTestKey, []byte("one")) }, true},
			{"Put under another key", func() error { return other.Put(ctx, "other-key", []byte("one")) }, false},
			{"Delete", func() error { return other.Delete(ctx, dirTestKey) }, true},
			{"two Puts", func() error {
				if err := other.Put(ctx, dirTestKey, []byte("a")); err != nil {
					return err
				}
				return other.Put(ctx, dirTestKey, []byte("bb"))
			}, true},
			{"coalesced", func() error { return nil }, false},
		}
		for _, s := range steps {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if got := pending(); got != s.want {
				t.Errorf("%s: notified %t, want %t", s.name, got, s.want)
			}
		}
		cancel()
		synctest.Wait()
		if _, ok := <-ch; ok {
			t.Errorf("channel after ctx is done: got a value, want it closed")
		}
	})
}

func TestDirStore_ContextDone(t *testing.T) {
	d := newDirStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"Get":    func() error { _, err := d.Get(ctx, dirTestKey); return err },
		"Put":    func() error { return d.Put(ctx, dirTestKey, []byte("x")) },
		"Delete": func() error { return d.Delete(ctx, dirTestKey) },
		"Lock":   func() error { return d.Lock(ctx, dirTestKey, "me", time.Minute) },
		"Unlock": func() error { return d.Unlock(ctx, dirTestKey, "me") },
		"Join":   func() error { return d.Join(ctx, dirTestKey, "me", time.Minute) },
		"Leave":  func() error { _, err := d.Leave(ctx, dirTestKey, "me"); return err },
		"Watch":  func() error { _, err := d.Watch(ctx, dirTestKey); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled ctx: got %v, want context.Canceled", name, err)
		}
	}
	if _, err := os.Stat(string(d)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory after calls with a cancelled ctx: got %v, want none created", err)
	}
}

// TestDirStore_GuardHeld: a Lock waiting for the guard, which another
// process holds, returns when its ctx is done.
func TestDirStore_GuardHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := DirStore(filepath.Join(t.TempDir(), "tokens"))
		if err := d.mkdir(); err != nil {
			t.Fatal(err)
		}
		unlock, err := lockGuard(t.Context(), filepath.Join(string(d), ".guard"))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- d.Lock(ctx, dirTestKey, "me", time.Minute) }()
		time.Sleep(time.Second) // 50 tries at the guard
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Lock while the guard is held: returned %v, want it waiting", err)
		default:
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Lock while the guard is held, ctx cancelled: got %v, want context.Canceled", err)
		}
		synctest.Wait() // the guard poller has given up
		unlock()
		if err := d.Lock(t.Context(), dirTestKey, "me", time.Minute); err != nil {
			t.Errorf("Lock after the guard is released: %v", err)
		}
	})
}

func TestDirStore_ErrorsNameNoData(t *testing.T) {
	d := newDirStore(t)
	secret := []byte("AT-secret-token-bytes")
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(string(d), dirTestKey)
	if err := os.WriteFile(p, secret, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := d.Get(t.Context(), dirTestKey)
	if err == nil || bytes.Contains([]byte(err.Error()), secret) {
		t.Errorf("Get of a world-writable record: got %v, want an error without the content", err)
	}
}

// BenchmarkDirStore measures the calls a TokenSource makes a few times per
// token lifetime (never per Token call).
func BenchmarkDirStore(b *testing.B) {
	d := DirStore(filepath.Join(b.TempDir(), "tokens"))
	ctx := context.Background()
	rec := bytes.Repeat([]byte{0xA5}, 400) // a sealed record's size
	if err := d.Put(ctx, dirTestKey, rec); err != nil {
		b.Fatal(err)
	}
	b.Run("Get", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.Get(ctx, dirTestKey); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Put", func(b *testing.B) {
		for b.Loop() {
			if err := d.Put(ctx, dirTestKey, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LockUnlock", func(b *testing.B) {
		for b.Loop() {
			if err := d.Lock(ctx, dirTestKey, "me", time.Minute); err != nil {
				b.Fatal(err)
			}
			if err := d.Unlock(ctx, dirTestKey, "me"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JoinLeave", func(b *testing.B) {
		for b.Loop() {
			if err := d.Join(ctx, dirTestKey, "me", time.Minute); err != nil {
				b.Fatal(err)
			}
			if _, err := d.Leave(ctx, dirTestKey, "me"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
