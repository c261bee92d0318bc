package cryptofuse_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/storetest"
)

func TestDirStore_Conformance(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	storetest.TestSharedStore(t, func(*testing.T) cryptofuse.SharedStore { return cryptofuse.DirStore(dir) })
}

// The processes of TestDirStore_Processes: the test binary, run again with
// dirChildEnv naming what the child does.
const (
	dirChildEnv   = "CRYPTOFUSE_TEST_DIRSTORE_CHILD" // "lock" or "leave"
	dirChildDir   = "CRYPTOFUSE_TEST_DIRSTORE_DIR"
	dirChildName  = "CRYPTOFUSE_TEST_DIRSTORE_NAME"
	dirChildCount = "CRYPTOFUSE_TEST_DIRSTORE_COUNT"

	dirProcs        = 4
	dirLockRounds   = 40 // critical sections per process
	dirLeaveRounds  = 25 // keys every process leaves
	dirLockedKey    = "counter"
	dirCounterFile  = "counter.txt"
	dirLeaveKeyBase = "fleet-"
)

// TestDirStore_Processes runs dirProcs real processes over one DirStore.
// Lock: each enters a critical section dirLockRounds times and increments a
// counter file there with a read and a write that are not atomic, so a lock
// that let two processes in at once loses increments. Leave: every member
// of a key leaves at once, from its own process; the counts they see must
// be dirProcs-1 down to 0, each once (so exactly one sees 0).
func TestDirStore_Processes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	dir := t.TempDir()
	store := cryptofuse.DirStore(dir)
	ctx := t.Context()
	for r := range dirLeaveRounds {
		for p := range dirProcs {
			if err := store.Join(ctx, dirLeaveKeyBase+strconv.Itoa(r), "member-"+strconv.Itoa(p), time.Hour); err != nil {
				t.Fatal(err)
			}
		}
	}

	run := func(mode string) [][]string {
		t.Helper()
		outs := make([][]string, dirProcs)
		var wg sync.WaitGroup
		for p := range dirProcs {
			wg.Go(func() {
				cmd := exec.CommandContext(ctx, exe, "-test.run=^TestDirStore_ProcessChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), dirChildEnv+"="+mode, dirChildDir+"="+dir,
					dirChildName+"=member-"+strconv.Itoa(p), dirChildCount+"="+strconv.Itoa(dirLockRounds))
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Errorf("child %d (%s): %v\n%s%s", p, mode, err, stdout.String(), stderr.String())
					return
				}
				sc := bufio.NewScanner(&stdout)
				for sc.Scan() {
					if v, ok := strings.CutPrefix(sc.Text(), "result "); ok {
						outs[p] = append(outs[p], v)
					}
				}
			})
		}
		wg.Wait()
		return outs
	}

	t.Run("Lock", func(t *testing.T) {
		run("lock")
		b, err := os.ReadFile(filepath.Join(dir, dirCounterFile))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.TrimSpace(string(b)), strconv.Itoa(dirProcs*dirLockRounds); got != want {
			t.Errorf("counter: got %s, want %s (a lost increment: two processes held the lock at once)", got, want)
		}
	})
	t.Run("Leave", func(t *testing.T) {
		outs := run("leave")
		for r := range dirLeaveRounds {
			var seen []int
			for p := range dirProcs {
				if len(outs[p]) != dirLeaveRounds {
					t.Fatalf("child %d: got %d results, want %d", p, len(outs[p]), dirLeaveRounds)
				}
				n, err := strconv.Atoi(outs[p][r])
				if err != nil {
					t.Fatal(err)
				}
				seen = append(seen, n)
			}
			slices.Sort(seen)
			want := make([]int, dirProcs)
			for i := range want {
				want[i] = i
			}
			if !slices.Equal(seen, want) {
				t.Errorf("key %d: remaining counts the leavers saw: got %v, want %v (exactly one sees 0)", r, seen, want)
			}
		}
	})
}

// TestDirStore_ProcessChild is one process of TestDirStore_Processes; it
// skips unless run as one.
func TestDirStore_ProcessChild(t *testing.T) {
	mode := os.Getenv(dirChildEnv)
	if mode == "" {
		t.Skip("runs only as a child of TestDirStore_Processes")
	}
	store := cryptofuse.DirStore(os.Getenv(dirChildDir))
	me := os.Getenv(dirChildName)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	switch mode {
	case "lock":
		n, _ := strconv.Atoi(os.Getenv(dirChildCount))
		for range n {
			for {
				err := store.Lock(ctx, dirLockedKey, me, time.Minute)
				if err == nil {
					break
				}
				if !errors.Is(err, cryptofuse.ErrLocked) {
					t.Fatal(err)
				}
				time.Sleep(time.Millisecond) // another process holds it
			}
			p := filepath.Join(string(store), dirCounterFile)
			b, err := os.ReadFile(p)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if err := os.WriteFile(p, []byte(strconv.Itoa(v+1)), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := store.Unlock(ctx, dirLockedKey, me); err != nil {
				t.Fatal(err)
			}
		}
	case "leave":
		for r := range dirLeaveRounds {
			n, err := store.Leave(ctx, dirLeaveKeyBase+strconv.Itoa(r), me)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Printf("result %d\n", n)
		}
	}
}
