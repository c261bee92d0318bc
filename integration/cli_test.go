package integration_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildCLI builds cmd/cryptofuse into the test's temp dir and returns its path.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cryptofuse")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/cryptofuse/cryptofuse-go/cmd/cryptofuse").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/cryptofuse: %v\n%s", err, out)
	}
	return bin
}

// TestCLIRevokeVerify runs "cryptofuse revoke -verify" as mainClient on the
// real server, on its own tokens mixed with otherClient's. DOT 1.7.0 revokes
// them all (exit 0). DOT 3.4.1 answers 200 for otherClient's tokens but keeps
// them, and -verify reports each as still active, by line and fingerprint
// (exit 1), where a run without -verify reports them revoked (exit 0).
func TestCLIRevokeVerify(t *testing.T) {
	base, ctx, client := setup(t, mainClient)
	_, _, other := setup(t, otherClient)
	bin := buildCLI(t)
	old := isDOT170(t)

	for _, verify := range []bool{false, true} {
		t.Run(fmt.Sprintf("verify=%v", verify), func(t *testing.T) {
			own := []string{issue(ctx, t, client).AccessToken, issue(ctx, t, client).AccessToken}
			foreign := issue(ctx, t, other).AccessToken
			args := []string{"revoke", "-concurrency", "2"}
			if verify {
				args = append(args, "-verify")
			}
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Env = append(os.Environ(), "CRYPTOFUSE_CLIENT_ID="+mainClient.id, "CRYPTOFUSE_CLIENT_SECRET="+mainClient.secret, "CRYPTOFUSE_BASE_URL="+base)
			cmd.Stdin = strings.NewReader(own[0] + "\n" + foreign + "\n" + own[1] + "\n")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("running the CLI: %v", err)
			}
			wantCode := 0
			if verify && !old {
				wantCode = 1
			}
			if code != wantCode {
				t.Fatalf("exit code: got %d, want %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, stdout.String(), stderr.String())
			}
			for _, tok := range own {
				rejected(ctx, t, base, tok)
			}
			if old {
				rejected(ctx, t, base, foreign)
			} else {
				accepted(ctx, t, base, foreign)
			}
			sum := sha256.Sum256([]byte(foreign))
			line := fmt.Sprintf("line 2 (fp %s): still active after revoke", hex.EncodeToString(sum[:4]))
			if got := strings.Contains(stderr.String(), line); got != (wantCode == 1) {
				t.Errorf("stderr names line 2 as still active: got %v, want %v\nstderr:\n%s", got, wantCode == 1, stderr.String())
			}
			wantRevoked := "revoked:        3 of 3"
			if wantCode == 1 {
				wantRevoked = "revoked:        2 of 3"
			}
			if !strings.Contains(stdout.String(), wantRevoked) {
				t.Errorf("stdout: got\n%s\nwant %q", stdout.String(), wantRevoked)
			}
		})
	}
}
