// Command service is a service that calls the Cryptofuse API with a managed
// token: one [cryptofuse.TokenSource] keeps the service's client-credentials
// token, attaches it to every API call through its Transport, replaces it
// every -rotate-every (TokenPolicy.MaxAge), and revokes each replaced token
// -grace after it was replaced (TokenPolicy.RevokeAfter), so that requests
// still in flight with it finish first. On shutdown it revokes the token it
// holds (TokenPolicy.RevokeOnClose). Copy open and serve into your service.
//
// With no credentials in the environment it runs against the SDK's built-in
// fake server, whose test resource (cryptofusetest.ResourcePath) answers 200
// for an active bearer token and 401 otherwise:
//
//	go run ./examples/service
//
// runs a demo and exits: a few API calls, one rotation (TokenSource.Rotate),
// the old token still accepted during the grace period (200ms in the demo
// unless -grace is given) and rejected after it, and Close revoking the
// current token. With -serve it runs as a service instead, calling the API
// every -every until interrupted:
//
//	go run ./examples/service -serve -rotate-every 3s -grace 1s -every 500ms
//
// Against the real API, set CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET
// (and CRYPTOFUSE_BASE_URL if the API is elsewhere), and name the API path to
// call with -path. django-oauth-toolkit's stock protected views answer a
// rejected token with 403, not RFC 6750's 401, so the Transport's replay
// after a 401 does not fire there: on such an API, call
// TokenSource.Invalidate with the token on that 403. Tokens are shown only
// by fingerprint.
//
// With -store DIR the token is kept in a cryptofuse.DirStore (TokenPolicy.Store):
// one file per client, server and scope set, mode 0600, sealed with a key
// derived from the client secret. A service that restarts after a crash (no
// Close) picks its token up there instead of minting one; a clean shutdown
// revokes the token (RevokeOnClose) and deletes its record, so the next
// start mints a new one and never hands out the revoked one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/cryptofuse/cryptofuse-go/examples/internal/setup"
	"github.com/cryptofuse/cryptofuse-go/internal/drain"
)

// demoGrace is the demo's grace period when -grace is not given: short
// enough to wait for, long enough for one request with the old token.
const demoGrace = 200 * time.Millisecond

// config is what the flags set.
type config struct {
	RotateEvery time.Duration // TokenPolicy.MaxAge
	Grace       time.Duration // TokenPolicy.RevokeAfter
	Every       time.Duration // between API calls, with -serve
	Path        string        // the API path to call
	Store       string        // a DirStore directory for TokenPolicy.Store; "": memory only
	// Base is the transport under the TokenSource's; nil:
	// cryptofuse.NewTransport(). The tests record the tokens sent with it.
	Base http.RoundTripper
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.RotateEvery, "rotate-every", 10*time.Minute, "replace the token once it is this old")
	flag.DurationVar(&cfg.Grace, "grace", time.Minute, "revoke a replaced token this long after it was replaced (the demo: 200ms unless given)")
	flag.DurationVar(&cfg.Every, "every", 5*time.Second, "with -serve, call the API this often")
	flag.StringVar(&cfg.Path, "path", cryptofusetest.ResourcePath, "the API `path` to call")
	flag.StringVar(&cfg.Store, "store", "", "keep the token in this `directory` (a cryptofuse.DirStore) between runs")
	serveMode := flag.Bool("serve", false, "call the API until interrupted, instead of the demo")
	flag.Parse()
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !*serveMode && !given["grace"] {
		cfg.Grace = demoGrace
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var opts []cryptofuse.Option
	if *serveMode {
		// The TokenSource logs refreshes, rotations, revocations and
		// failures, never a token.
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		opts = append(opts, cryptofuse.WithLogger(logger))
	}
	env, err := setup.FromEnv(opts...)
	if err == nil {
		if *serveMode {
			err = serve(ctx, env, cfg, os.Stdout)
		} else {
			err = demo(ctx, env, cfg, os.Stdout)
		}
		env.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		os.Exit(1)
	}
}

// open builds what a service keeps for its lifetime: the TokenSource, and
// the http.Client that calls the API through it. Close the TokenSource on
// shutdown.
func open(c *cryptofuse.Client, cfg config) (*cryptofuse.TokenSource, *http.Client, error) {
	policy := cryptofuse.TokenPolicy{
		MaxAge:        cfg.RotateEvery, // a rotation schedule
		RevokeAfter:   cfg.Grace,       // requests in flight with a replaced token finish first
		RevokeOnClose: true,            // a stopped service leaves no live token behind
	}
	if cfg.Store != "" {
		// Sealed records, one per client, server and scope set; a restart
		// after a crash uses the stored token.
		policy.Store = cryptofuse.DirStore(cfg.Store)
	}
	ts, err := c.TokenSource(policy)
	if err != nil {
		return nil, nil, err
	}
	base := cfg.Base
	if base == nil {
		base = cryptofuse.NewTransport()
	}
	// The Transport sets "Authorization: Bearer" for the client's own
	// origin only, and after a 401 gets a new token and replays the request
	// once.
	api := &http.Client{Transport: ts.Transport(base), Timeout: 10 * time.Second}
	return ts, api, nil
}

// serve calls the API every cfg.Every until ctx is done, then closes the
// TokenSource. A failed call is reported, and the service goes on.
func serve(ctx context.Context, env *setup.Env, cfg config, out io.Writer) error {
	target, err := url.JoinPath(env.BaseURL, cfg.Path)
	if err != nil {
		return err
	}
	ts, api, err := open(env.Client, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "serving against %s: rotate every %v, grace %v; Ctrl-C stops\n", env.Describe(), cfg.RotateEvery, cfg.Grace)
	tick := time.NewTicker(cfg.Every)
	defer tick.Stop()
	for ctx.Err() == nil {
		status, err := get(ctx, api, target, "")
		switch {
		case ctx.Err() != nil:
		case err != nil:
			fmt.Fprintln(out, "call failed:", err)
		default:
			fmt.Fprintln(out, "call", status)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	// Shutting down: ctx is done, so Close gets a bound of its own.
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := ts.Close(closeCtx); err != nil {
		return fmt.Errorf("closing the token source: %w", err)
	}
	fmt.Fprintln(out, "stopped; the tokens held are revoked")
	return nil
}

// demo shows a rotation with a grace period, then Close, and checks each
// step.
func demo(ctx context.Context, env *setup.Env, cfg config, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	target, err := url.JoinPath(env.BaseURL, cfg.Path)
	if err != nil {
		return err
	}
	if cfg.Base == nil {
		cfg.Base = cryptofuse.NewTransport()
	}
	ts, api, err := open(env.Client, cfg)
	if err != nil {
		return err
	}
	defer ts.Close(ctx) // on an early return; a second Close does nothing
	// plain sends a token given by hand, as a request still in flight with
	// a replaced token would; it never follows a redirect with it.
	plain := &http.Client{
		Transport:     cfg.Base,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	fmt.Fprintln(out, "service against", env.Describe())
	fmt.Fprintf(out, "policy         rotate every %v, revoke a replaced token %v after, revoke on close\n", cfg.RotateEvery, cfg.Grace)

	for i := 1; i <= 3; i++ {
		if err := call(ctx, out, fmt.Sprintf("call %d", i), ts, api, target); err != nil {
			return err
		}
	}
	old, err := ts.Token(ctx)
	if err != nil {
		return err
	}
	tok, err := ts.Rotate(ctx)
	if err != nil {
		return fmt.Errorf("rotating: %w", err)
	}
	fmt.Fprintf(out, "rotated        %s -> %s\n", setup.Fingerprint(old.AccessToken), setup.Fingerprint(tok.AccessToken))
	if err := call(ctx, out, "call 4", ts, api, target); err != nil {
		return err
	}

	status, err := get(ctx, plain, target, old.AccessToken)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "old token      %s  %s: accepted during the grace period\n", setup.Fingerprint(old.AccessToken), status)
	if status != "200 OK" {
		return fmt.Errorf("old token during the grace period: %s, want 200 OK", status)
	}
	// The revocation is due once the grace period has passed; it takes
	// one request to the server. The fake answers a revoked token with 401;
	// django-oauth-toolkit's stock protected views answer 403.
	time.Sleep(cfg.Grace)
	for status == "200 OK" && ctx.Err() == nil {
		if status, err = get(ctx, plain, target, old.AccessToken); err != nil {
			return err
		}
		if status == "200 OK" {
			time.Sleep(10 * time.Millisecond)
		}
	}
	fmt.Fprintf(out, "old token      %s  %s: revoked after the grace period\n", setup.Fingerprint(old.AccessToken), status)

	if err := ts.Close(ctx); err != nil {
		return fmt.Errorf("closing the token source: %w", err)
	}
	if status, err = get(ctx, plain, target, tok.AccessToken); err != nil {
		return err
	}
	fmt.Fprintf(out, "closed         %s  %s: revoked on close\n", setup.Fingerprint(tok.AccessToken), status)
	_, err = ts.Token(ctx)
	_, callErr := api.Get(target)
	fmt.Fprintf(out, "after close    Token: ErrClosed %t; API call: ErrClosed %t\n", errors.Is(err, cryptofuse.ErrClosed), errors.Is(callErr, cryptofuse.ErrClosed))
	if status == "200 OK" {
		return fmt.Errorf("current token after Close: %s, want it rejected", status)
	}
	return nil
}

// call makes one API call through the TokenSource and reports it, naming the
// current token.
func call(ctx context.Context, out io.Writer, name string, ts *cryptofuse.TokenSource, api *http.Client, target string) error {
	status, err := get(ctx, api, target, "")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	tok, err := ts.Token(ctx) // no request: the token the call just used
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%-14s %s  %s\n", name, setup.Fingerprint(tok.AccessToken), status)
	if status != "200 OK" {
		return fmt.Errorf("%s: %s, want 200 OK", name, status)
	}
	return nil
}

// get sends GET target with hc and returns the response's status; with a
// token, it sets the Authorization header itself.
func get(ctx context.Context, hc *http.Client, target, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	drain.Close(resp.Body) // bounded in size and time, so that the connection is reused
	return resp.Status, nil
}
