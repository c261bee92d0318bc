//go:build unix

package cryptofuse_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// fleetChildEnv makes the test binary one instance of a fleet over a
// DirStore: "URL DIR REVOKEAFTER". It gets its token with 20 goroutines at
// once, prints "token T", then answers stdin: "rotate" prints "rotated NEW",
// "token" prints "token T"; at EOF it closes its TokenSource and exits.
const fleetChildEnv = "CRYPTOFUSE_TEST_FLEET_CHILD"

// TestFleetProcessChild is the child's body; it does nothing in a normal run.
func TestFleetProcessChild(t *testing.T) {
	arg := os.Getenv(fleetChildEnv)
	if arg == "" {
		t.Skip("only as a child of the fleet process tests")
	}
	var url, dir string
	var revokeAfter time.Duration
	if _, err := fmt.Sscan(arg, &url, &dir, &revokeAfter); err != nil {
		t.Fatal(err)
	}
	opts := []cryptofuse.Option{cryptofuse.WithBaseURL(url)}
	if os.Getenv("CRYPTOFUSE_TEST_FLEET_LOG") != "" { // debugging: the child's log on stderr
		opts = append(opts, cryptofuse.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	c, err := cryptofuse.NewClient("fleet-id", "fleet-secret", opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir), RevokeAfter: revokeAfter})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := ts.Token(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tok, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("token", tok.AccessToken)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "rotate":
			tok, err = ts.Rotate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Println("rotated", tok.AccessToken)
		case "token":
			tok, err = ts.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Println("token", tok.AccessToken)
		}
	}
	if err := ts.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// fleetChild is a running child instance.
type fleetChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startFleetChildren starts n child instances at once over dir.
func startFleetChildren(t *testing.T, n int, srv *cryptofusetest.Server, dir string, revokeAfter time.Duration) []*fleetChild {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	children := make([]*fleetChild, n)
	for i := range children {
		cmd := exec.Command(exe, "-test.run=^TestFleetProcessChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s", fleetChildEnv, srv.URL, dir, revokeAfter))
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = &fleetChild{cmd: cmd, in: in, out: bufio.NewScanner(out)}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	return children
}

// read returns the child's next line's value after word ("token T": T).
func (c *fleetChild) read(t *testing.T, word string) string {
	t.Helper()
	for c.out.Scan() {
		if v, ok := strings.CutPrefix(c.out.Text(), word+" "); ok {
			return v
		}
	}
	t.Fatalf("child ended before %q", word)
	return ""
}

// stop closes the child's stdin (it closes its TokenSource) and waits.
func (c *fleetChild) stop(t *testing.T) {
	t.Helper()
	_ = c.in.Close()
	for c.out.Scan() {
	}
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("child: %v", err)
	}
}

// TestFleetProcesses_ColdStart: four processes over one DirStore, started at
// once with 20 callers each, mint one token and hand out the same.
func TestFleetProcesses_ColdStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	srv := cryptofusetest.NewServer("fleet-id", "fleet-secret")
	defer srv.Close()
	children := startFleetChildren(t, 4, srv, t.TempDir(), 0)
	seen := map[string]bool{}
	for _, c := range children {
		seen[c.read(t, "token")] = true
	}
	for _, c := range children {
		c.stop(t)
	}
	if n := srv.Counts().Token; n != 1 {
		t.Errorf("tokens minted by 4 processes: got %d, want 1", n)
	}
	if len(seen) != 1 {
		t.Errorf("distinct tokens handed out: got %d, want 1", len(seen))
	}
}

// TestFleetProcesses_CrashedRotator: the process that rotated is killed
// (SIGKILL: no Close); the others switch to its token, and one of them
// revokes the token it replaced, once, after RevokeAfter.
func TestFleetProcesses_CrashedRotator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	srv := cryptofusetest.NewServer("fleet-id", "fleet-secret")
	defer srv.Close()
	const revokeAfter = 500 * time.Millisecond
	children := startFleetChildren(t, 3, srv, t.TempDir(), revokeAfter)
	var old string
	for _, c := range children {
		old = c.read(t, "token")
	}
	fmt.Fprintln(children[0].in, "rotate")
	rotated := children[0].read(t, "rotated")
	if err := children[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = children[0].cmd.Wait()
	if !srv.Active(old) {
		t.Fatal("the replaced token was revoked at once, want after RevokeAfter")
	}
	deadline := time.Now().Add(20 * time.Second)
	for srv.Active(old) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if srv.Active(old) {
		t.Fatal("the replaced token is still active 20 s after the rotation, want revoked by a survivor")
	}
	for _, c := range children[1:] {
		fmt.Fprintln(c.in, "token")
		if got := c.read(t, "token"); got != rotated {
			t.Errorf("survivor's token: got another, want the rotated one")
		}
	}
	for _, c := range children[1:] {
		c.stop(t)
	}
	if n := srv.Counts().Revoke; n != 1 {
		t.Errorf("revocations: got %d, want 1", n)
	}
	if n := srv.Counts().Token; n != 2 {
		t.Errorf("tokens minted: got %d, want 2", n)
	}
}
