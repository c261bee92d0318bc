package storetest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/storetest"
)

func TestMemStore(t *testing.T) {
	m := newMemStore()
	storetest.TestSharedStore(t, func(*testing.T) cryptofuse.SharedStore { return m })
}

// flawEnv names the flaw a child process gives its memStore in
// TestFlawedStore.
const flawEnv = "STORETEST_FLAW"

// TestFlawedStore runs the suite, in a child process, against stores that
// each break one promise, and checks that it fails, in the check that
// covers that promise.
func TestFlawedStore(t *testing.T) {
	if flaw := os.Getenv(flawEnv); flaw != "" {
		storetest.SetPatience(2 * time.Second)
		m := newMemStore(flaw)
		storetest.TestSharedStore(t, func(*testing.T) cryptofuse.SharedStore { return m })
		return
	}
	if testing.Short() {
		t.Skip("runs the suite once per flaw; skipped with -short")
	}
	cases := []struct{ flaw, failing string }{
		{"get-aliases", "TokenStore/GetAfterPut"},
		{"miss-is-nil", "TokenStore/Miss"},
		{"ignore-ctx", "TokenStore/Context/Cancelled/Get"},
		{"lock-never-expires", "LockExpiry"},
		{"lock-no-extend", "LockExtend"},
		{"unlock-any", "LockExclusive"},
		{"delete-silent", "Watch"},
		{"watch-never-closes", "WatchClose"},
		{"leave-not-atomic", "LeaveRace"},
		{"members-never-expire", "JoinExpiry"},
	}
	for _, c := range cases {
		t.Run(c.flaw, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFlawedStore$", "-test.v")
			cmd.Env = append(os.Environ(), flawEnv+"="+c.flaw)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("suite passed a store with flaw %s, want it to fail", c.flaw)
			}
			if want := "--- FAIL: TestFlawedStore/" + c.failing + " "; !strings.Contains(string(out), want) {
				t.Errorf("output has no line %q; got:\n%s", want, out)
			}
		})
	}
}
