// Command fleet runs several instances of one service in one process, as a
// fleet: each instance has its own Client and TokenSource, as separate
// processes would, and all share one store, a [cryptofuse.DirStore] (a
// SharedStore for the processes of one host). Over it they keep one token:
// a cold start of every instance and all their callers mints one token, a
// rotation by one instance is taken up by all the others (the switch), and
// the last instance to close revokes every token of the run.
//
// With no credentials in the environment it runs against the SDK's built-in
// fake server, so it works on a fresh clone:
//
//	go run ./examples/fleet
//	go run ./examples/fleet -instances 10 -rotations 3 -dir /tmp/fleet
//
// It prints the tokens minted beside what the instances would have minted
// without a shared store. A fleet spread over several hosts shares a Redis
// instead, with github.com/cryptofuse/cryptofuse-go/redisstore: that is a
// module of its own (so the SDK needs no Redis client), and the policy is
// the same with Store: redisstore.New(rdb).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/examples/internal/setup"
)

// config is what the flags set.
type config struct {
	Instances int
	Callers   int           // goroutines per instance calling Token
	Rotations int           // Rotate calls by instance 0
	Grace     time.Duration // TokenPolicy.RevokeAfter
	Dir       string        // the DirStore; "": a temporary directory
}

func main() {
	var cfg config
	flag.IntVar(&cfg.Instances, "instances", 5, "instances of the service")
	flag.IntVar(&cfg.Callers, "callers", 20, "goroutines per instance asking for the token")
	flag.IntVar(&cfg.Rotations, "rotations", 2, "rotations by the first instance")
	flag.DurationVar(&cfg.Grace, "grace", time.Second, "revoke a replaced token this long after the fleet switched")
	flag.StringVar(&cfg.Dir, "dir", "", "the shared store's `directory` (default: a temporary one)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env, err := setup.FromEnv()
	if err == nil {
		err = run(ctx, env, cfg, os.Stdout)
		env.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// counter counts the token requests the instances send, whatever server
// answers them.
type counter struct {
	base   http.RoundTripper
	tokens atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/o/token/") {
		c.tokens.Add(1)
	}
	return c.base.RoundTrip(r)
}

// run is one run of the demo.
func run(ctx context.Context, env *setup.Env, cfg config, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "cryptofuse-fleet-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	fmt.Fprintf(out, "fleet of %d instances against %s\nshared store: DirStore %s\n", cfg.Instances, env.Describe(), dir)

	count := &counter{base: http.DefaultTransport}
	policy := cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir), RevokeAfter: cfg.Grace, RevokeOnClose: true}
	fleet := make([]*cryptofuse.TokenSource, cfg.Instances)
	for i := range fleet {
		c, err := cryptofuse.NewClient(env.ClientID, env.ClientSecret, cryptofuse.WithBaseURL(env.BaseURL),
			cryptofuse.WithHTTPClient(&http.Client{Transport: count}))
		if err == nil {
			fleet[i], err = c.TokenSource(policy)
		}
		if err != nil {
			return err
		}
	}
	closed := false
	defer func() {
		if !closed {
			for _, ts := range fleet {
				_ = ts.Close(ctx)
			}
		}
	}()

	// Cold start: every caller of every instance at once.
	seen, errs := coldStart(ctx, fleet, cfg.Callers)
	fmt.Fprintf(out, "cold start      %d callers: %d token(s) minted, %d distinct handed out, %d errors\n",
		cfg.Instances*cfg.Callers, count.tokens.Load(), len(seen), errs)
	if errs > 0 {
		return fmt.Errorf("cold start: %d callers got an error", errs)
	}

	for r := 1; r <= cfg.Rotations; r++ {
		tok, err := fleet[0].Rotate(ctx)
		if err != nil {
			return fmt.Errorf("rotating: %w", err)
		}
		seen[tok.AccessToken] = true
		took, err := switched(ctx, fleet, tok.AccessToken)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "rotation %d      token %s: every instance switched within %v\n", r, setup.Fingerprint(tok.AccessToken), took.Round(10*time.Millisecond))
	}
	minted := count.tokens.Load()
	fmt.Fprintf(out, "tokens minted   %d for %d instances (without a shared store: %d)\n",
		minted, cfg.Instances, int64(cfg.Instances)*(1+int64(cfg.Rotations)))

	closed = true
	for _, ts := range fleet {
		if err := ts.Close(ctx); err != nil {
			return fmt.Errorf("closing: %w", err)
		}
	}
	active := 0
	for tok := range seen {
		if ok, err := env.Active(ctx, tok); err == nil && ok {
			active++
		}
	}
	fmt.Fprintf(out, "after Close     %d of %d tokens still active (the last instance revoked them)\n", active, len(seen))
	return nil
}

// coldStart has callers goroutines per instance ask for the token at once,
// and returns the distinct tokens handed out and the errors.
func coldStart(ctx context.Context, fleet []*cryptofuse.TokenSource, callers int) (map[string]bool, int) {
	var mu sync.Mutex
	seen, errs := map[string]bool{}, 0
	var wg sync.WaitGroup
	for _, ts := range fleet {
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, err := ts.Token(ctx)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs++
					return
				}
				seen[tok.AccessToken] = true
			}()
		}
	}
	wg.Wait()
	return seen, errs
}

// switched waits until every instance hands out tok, and says how long
// that took.
func switched(ctx context.Context, fleet []*cryptofuse.TokenSource, tok string) (time.Duration, error) {
	start := time.Now()
	for {
		all := true
		for _, ts := range fleet {
			got, err := ts.Token(ctx)
			if err != nil {
				return 0, err
			}
			all = all && got.AccessToken == tok
		}
		if all {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for the switch: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
