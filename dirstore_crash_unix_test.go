//go:build unix

package cryptofuse_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// crashChildEnv makes the test binary a process that takes a DirStore's
// lock, joins as a member, holds the directory's guard, says "ready" and
// waits to be killed.
const crashChildEnv = "CRYPTOFUSE_TEST_DIRSTORE_CRASH"

// crashTTL is the crashed process's lock and membership ttl.
const crashTTL = time.Second

// TestDirStore_Crash: a process that dies holding the guard, a lock and a
// membership (SIGKILL: no Unlock, no Leave) blocks the others only until
// the kernel drops its flock (at once) and its ttls run out.
func TestDirStore_Crash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	dir := t.TempDir()
	store := cryptofuse.DirStore(dir)
	ctx := t.Context()
	if err := store.Join(ctx, "fleet", "survivor", time.Hour); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, "-test.run=^TestDirStore_CrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ready" {
	}

	// The guard is held: a Lock waits for it until its ctx is done.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err = store.Lock(short, "lock", "survivor", time.Minute)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while the other process holds the guard: got %v, want DeadlineExceeded", err)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// The guard went with the process; the lock is still held until its
	// ttl runs out, then it is free.
	if err := store.Lock(ctx, "lock", "survivor", time.Minute); !errors.Is(err, cryptofuse.ErrLocked) {
		t.Fatalf("Lock right after the holder died: got %v, want ErrLocked (its ttl has not run out)", err)
	}
	waitFor(t, "the dead holder's lock to expire", func() bool {
		return store.Lock(ctx, "lock", "survivor", time.Minute) == nil
	})
	waitFor(t, "the dead member to stop counting", func() bool {
		if err := store.Join(ctx, "fleet", "survivor", time.Hour); err != nil {
			t.Fatal(err)
		}
		n, err := store.Leave(ctx, "fleet", "survivor")
		if err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

// waitFor polls cond until it holds, failing the test after a bound far
// beyond the ttls involved.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
	}
}

// TestDirStore_CrashChild is the process of TestDirStore_Crash; it skips
// unless run as one.
func TestDirStore_CrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("runs only as a child of TestDirStore_Crash")
	}
	store := cryptofuse.DirStore(dir)
	ctx := context.Background()
	if err := store.Lock(ctx, "lock", "crasher", crashTTL); err != nil {
		t.Fatal(err)
	}
	if err := store.Join(ctx, "fleet", "crasher", crashTTL); err != nil {
		t.Fatal(err)
	}
	// Hold the guard as a Lock or a Leave does, in the middle of its work.
	f, err := os.OpenFile(filepath.Join(dir, ".guard"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ready\n")
	select {} // until killed
}
