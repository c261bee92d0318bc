package cryptofuse_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/internal/benchserver"
)

// The cost of Hooks on the send path. Unset, they must cost nothing: the
// same allocations as a Client built without WithHooks (TestAllocsPerCall
// guards that Client's count). Set, an Attempt hook that only counts shows
// what the SDK's own part of a hook costs; otelcryptofuse's benchmarks
// show the cost with OpenTelemetry attached. Run with:
//
//	go test -run '^$' -bench 'Revoke|Hooks' -benchmem .

// hookSetups are the Clients the hook benchmarks and TestHooksAllocs
// compare: without WithHooks, with an empty Hooks, and with an Attempt
// hook that counts.
func hookSetups(n *atomic.Int64) []struct {
	name string
	opts []cryptofuse.Option
} {
	return []struct {
		name string
		opts []cryptofuse.Option
	}{
		{"none", nil},
		{"empty", []cryptofuse.Option{cryptofuse.WithHooks(cryptofuse.Hooks{})}},
		{"attempt", []cryptofuse.Option{cryptofuse.WithHooks(cryptofuse.Hooks{
			Attempt: func(cryptofuse.AttemptEvent) { n.Add(1) },
		})}},
	}
}

// BenchmarkHooks runs Revoke and Token against the child server, serially,
// with a ctx that has a deadline, for each of hookSetups.
func BenchmarkHooks(b *testing.B) {
	sp := benchserver.Start(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	b.Cleanup(cancel)
	for _, op := range []string{"revoke", "token"} {
		var n atomic.Int64
		for _, hs := range hookSetups(&n) {
			b.Run("op="+op+"/hooks="+hs.name, func(b *testing.B) {
				c, err := cryptofuse.NewClient(benchID, benchSecret, append([]cryptofuse.Option{cryptofuse.WithBaseURL(sp.BaseURL)}, hs.opts...)...)
				if err != nil {
					b.Fatal(err)
				}
				call := func(ctx context.Context) error { return sdkRevoke(ctx, c) }
				if op == "token" {
					call = func(ctx context.Context) error { return sdkToken(ctx, c) }
				}
				benchOne(b, sp, call, ctx, false)
			})
		}
	}
}

// TestHooksAllocs: a Client with WithHooks(Hooks{}) allocates exactly what
// one without WithHooks does per successful call, and one with an Attempt
// hook no more than that (the event is passed by value; the hook's own
// work, here none, is the hook's).
//
// It is not parallel, for testing.AllocsPerRun (see TestAllocsPerCall).
func TestHooksAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes net/http's allocations vary (sync.Pool drops items at random)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	ops := []struct {
		name string
		rt   cannedTransport
		call func(context.Context, *cryptofuse.Client) error
	}{
		{"revoke", cannedTransport{status: http.StatusOK}, sdkRevoke},
		{"token", cannedTransport{status: http.StatusOK, body: benchserver.TokenAnswer}, sdkToken},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			var n atomic.Int64
			allocs := map[string]float64{}
			for _, hs := range hookSetups(&n) {
				opts := append([]cryptofuse.Option{
					cryptofuse.WithBaseURL("http://127.0.0.1:1"), // never dialled
					cryptofuse.WithHTTPClient(&http.Client{Transport: op.rt}),
				}, hs.opts...)
				c, err := cryptofuse.NewClient(benchID, benchSecret, opts...)
				if err != nil {
					t.Fatal(err)
				}
				allocs[hs.name] = allocsPerCall(t, func() error { return op.call(ctx, c) })
			}
			t.Logf("allocs per call: %v", allocs)
			if allocs["empty"] != allocs["none"] {
				t.Errorf("with Hooks{}: got %v allocs per call, want %v, as without WithHooks", allocs["empty"], allocs["none"])
			}
			if allocs["attempt"] > allocs["none"] {
				t.Errorf("with an Attempt hook: got %v allocs per call, want at most %v, as without WithHooks", allocs["attempt"], allocs["none"])
			}
			if n.Load() == 0 {
				t.Errorf("the Attempt hook was never called")
			}
		})
	}
}
