//go:build cryptofusetest_faults

// This test uses cryptofusetest's fault injection (InjectFault), which lands
// on another branch. Run it with -tags cryptofusetest_faults until then; the
// tag is removed when the branches meet.

package main

import (
	"strings"
	"testing"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// The fake server answers every token's first revoke with 503 and
// Retry-After: 0; the SDK's default policy (3 attempts) revokes them all.
func TestRevoke1000WithInjected503s(t *testing.T) {
	t.Parallel()
	const total = 1000
	f := newFixture(t)
	toks := f.issue(total)
	f.srv.InjectFault(-1, cryptofusetest.Fault{
		Path:         cryptofusetest.RevokePath,
		Status:       503,
		RetryAfter:   "0",
		OncePerToken: true,
	})
	res := f.run(t, "# leaked\n"+lines(toks...), "revoke")
	wantCode(t, res, exitOK)
	revoked, failed, notAttempted := accounted(t, res.stdout, total)
	if revoked != total || failed != 0 || notAttempted != 0 {
		t.Errorf("revoked, failed, not attempted: got %d, %d, %d; want %d, 0, 0", revoked, failed, notAttempted, total)
	}
	c := f.srv.Counts()
	if c.Faulted != total {
		t.Errorf("faulted requests: got %d, want %d", c.Faulted, total)
	}
	if c.Revoke != 2*total {
		t.Errorf("revoke requests: got %d, want %d (one 503 and one success per token)", c.Revoke, 2*total)
	}
	for i, tok := range toks {
		if f.srv.Active(tok) {
			t.Errorf("token %d still active", i)
		}
	}
	if strings.Contains(res.stderr, "line ") {
		t.Errorf("stderr reports failures:\n%s", res.stderr)
	}
}
