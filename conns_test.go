package cryptofuse_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/internal/benchserver"
)

// TestConnectionsUnderConcurrentCallers counts the TCP connections that
// benchCallers goroutines open while they revoke 10,000 tokens in all (1,000
// with -short or -race, which makes 10,000 take seconds). The SDK's default
// client keeps up to 64 idle connections per host and opens at most 64, so
// it must open no more than one per caller. Go's default
// transport (http.DefaultClient) keeps 2, so it opens a new connection for
// most calls; its count is logged for the README, not asserted.
//
// It is not parallel: it starts benchCallers goroutines per case, and tests
// running beside it would slow the callers and change how many connections
// a burst opens.
func TestConnectionsUnderConcurrentCallers(t *testing.T) {
	calls := 10_000
	if testing.Short() || raceEnabled {
		calls = 1_000
	}
	cases := []struct {
		name    string
		opts    []cryptofuse.Option
		maxConn int64 // 0: log only
	}{
		{"sdk default client", nil, benchCallers},
		{"http.DefaultClient", []cryptofuse.Option{cryptofuse.WithHTTPClient(http.DefaultClient)}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sp := benchserver.Start(t)
			c, err := cryptofuse.NewClient(benchID, benchSecret, append(tc.opts, cryptofuse.WithBaseURL(sp.BaseURL))...)
			if err != nil {
				t.Fatal(err)
			}
			before := sp.Connections(t)
			failed := revokeConcurrently(c, benchCallers, calls)
			conns := sp.Connections(t) - before
			if failed != 0 {
				t.Errorf("got %d failed revokes of %d, want 0", failed, calls)
			}
			t.Logf("%d callers, %d revokes: %d connections opened", benchCallers, calls, conns)
			if tc.maxConn > 0 && conns > tc.maxConn {
				t.Errorf("got %d connections for %d revokes from %d callers, want at most %d", conns, calls, benchCallers, tc.maxConn)
			}
		})
	}
}

// revokeConcurrently makes calls revokes from callers goroutines and returns
// how many failed.
func revokeConcurrently(c *cryptofuse.Client, callers, calls int) int64 {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(calls) {
				if err := c.Revoke(context.Background(), benchToken, cryptofuse.AccessTokenHint); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return failed.Load()
}
