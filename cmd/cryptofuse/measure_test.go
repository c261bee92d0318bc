package main

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestMeasure10k revokes 10,000 tokens against the fake server with
// -concurrency 32 and reports the wall time and the TCP connections the
// server saw. It is a measurement, not a check of speed, and runs only when
// CRYPTOFUSE_MEASURE=1:
//
//	CRYPTOFUSE_MEASURE=1 go test -run TestMeasure10k -v ./cmd/cryptofuse
func TestMeasure10k(t *testing.T) {
	if os.Getenv("CRYPTOFUSE_MEASURE") != "1" {
		t.Skip("set CRYPTOFUSE_MEASURE=1 to measure")
	}
	const total = 10000
	f := newFixture(t)
	toks := f.issue(total)
	path := writeFile(t, "tokens.txt", lines(toks...), 0o600)
	start := time.Now()
	res := f.run(t, "", "revoke", "-concurrency", "32", path)
	wall := time.Since(start)
	wantCode(t, res, exitOK)
	if revoked, _, _ := accounted(t, res.stdout, total); revoked != total {
		t.Fatalf("revoked %d of %d", revoked, total)
	}
	for i, tok := range toks {
		if f.srv.Active(tok) {
			t.Fatalf("token %d still active", i)
		}
	}
	c := f.srv.Counts()
	t.Logf("%d tokens, -concurrency 32: wall %s (%.0f/s), %d revoke requests, %d TCP connections",
		total, wall.Round(time.Millisecond), float64(total)/wall.Seconds(), c.Revoke, c.Connections)
	fmt.Print(res.stdout)
}
