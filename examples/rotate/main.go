// Command rotate is a token rotation job: it keeps the service's own
// client-credentials token with a [cryptofuse.TokenSource], replaces it
// (TokenSource.Rotate) and shows that the old token stays valid for a grace
// period, for requests still in flight with it, and is revoked after it
// (TokenPolicy.RevokeAfter), while the new one is accepted.
//
// With no credentials in the environment it runs against the SDK's built-in
// fake server, so it works on a fresh clone:
//
//	go run ./examples/rotate
//
// Against the real API, set CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET
// (and CRYPTOFUSE_BASE_URL if the API is elsewhere).
//
// With -state DIR the job keeps its token in the directory DIR between runs
// (a cryptofuse.DirStore: one file per client, server and scope set, mode
// 0600, replaced atomically, sealed with a key derived from the client
// secret): a run uses the stored token while it is valid and younger than
// -max-age, and mints nothing; once it is older, the run rotates it. The
// TokenSource stores every new token itself, and Close waits for that.
// Without -state there is nothing to keep, so every run issues a token and
// rotates it at once.
// -grace sets how long the replaced token stays valid; the job waits that
// long before it exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/examples/internal/setup"
)

// config is what the flags set.
type config struct {
	State  string        // the DirStore directory; "": none
	MaxAge time.Duration // with State, rotate a stored token this old
	Grace  time.Duration // TokenPolicy.RevokeAfter
}

// revokeWait bounds how long the job waits, after the grace period, to see
// the replaced token revoked; a revocation that fails is logged by the
// TokenSource and the token is left to expire.
var revokeWait = 10 * time.Second

func main() {
	var cfg config
	flag.StringVar(&cfg.State, "state", "", "keep the token in this `directory` (a cryptofuse.DirStore) between runs")
	flag.DurationVar(&cfg.MaxAge, "max-age", 24*time.Hour, "with -state, rotate the stored token once it is this old")
	flag.DurationVar(&cfg.Grace, "grace", 200*time.Millisecond, "keep the replaced token valid this long, then revoke it")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// The TokenSource logs what fails (a revocation, saving the token),
	// never a token.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env, err := setup.FromEnv(cryptofuse.WithLogger(logger))
	if err == nil {
		err = run(ctx, env, cfg, os.Stdout)
		env.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rotate:", err)
		os.Exit(1)
	}
}

// run is one run of the job.
func run(ctx context.Context, env *setup.Env, cfg config, out io.Writer) error {
	fmt.Fprintln(out, "rotating against", env.Describe())

	// A job bounds its whole run; each call inherits the deadline.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	policy := cryptofuse.TokenPolicy{RevokeAfter: cfg.Grace}
	if cfg.State != "" {
		policy.Store = cryptofuse.DirStore(cfg.State)
	}
	ts, err := env.Client.TokenSource(policy)
	if err != nil {
		return err
	}
	// Close waits for the new token to be saved. It would revoke at once a
	// replaced token still in its grace period: the job waits it out first.
	defer ts.Close(ctx)

	old, err := ts.Token(ctx) // the stored token while it is fresh, else a new one
	if err != nil {
		return fmt.Errorf("getting the current token: %w", err)
	}
	age := time.Since(issued(old))
	fmt.Fprintf(out, "current token  %s  %s\n", setup.Fingerprint(old.AccessToken), describe(old))
	if cfg.State != "" && age < cfg.MaxAge {
		fmt.Fprintf(out, "kept           %v old, younger than -max-age %v: nothing to rotate\n", age.Round(time.Second), cfg.MaxAge)
		return ts.Close(ctx)
	}

	tok, err := ts.Rotate(ctx) // issues the new token; the old one is revoked after the grace period
	if err != nil {
		return fmt.Errorf("rotating: %w", err)
	}
	fmt.Fprintf(out, "new token      %s  %s\n", setup.Fingerprint(tok.AccessToken), describe(tok))

	if err := expect(ctx, env, out, "old token", old.AccessToken, true, fmt.Sprintf("during the %v grace period", cfg.Grace)); err != nil {
		return err
	}
	// The revocation is due once the grace period has passed, and takes one
	// request to the server.
	time.Sleep(cfg.Grace)
	for wait := time.Now().Add(revokeWait); ; time.Sleep(10 * time.Millisecond) {
		active, err := env.Active(ctx, old.AccessToken)
		if err == nil && active && time.Now().Before(wait) {
			continue
		}
		if err == nil && active {
			// The TokenSource logged why; the token expires on its own.
			fmt.Fprintln(out, "old token      still active after the grace period: its revocation failed; it is left to expire")
		} else if err := expect(ctx, env, out, "old token", old.AccessToken, false, "after the grace period"); err != nil {
			return err
		}
		break
	}
	if err := expect(ctx, env, out, "new token", tok.AccessToken, true, ""); err != nil {
		return err
	}
	// Close tries once more to revoke a replaced token whose revocation
	// failed, and reports what still fails: the job has its new token, and
	// the old one expires on its own.
	if err := ts.Close(ctx); err != nil {
		fmt.Fprintf(out, "closing        %v; left to expire\n", err)
	}
	return nil
}

// expect checks, with introspection, that token is active or not, and says
// so.
func expect(ctx context.Context, env *setup.Env, out io.Writer, name, token string, want bool, when string) error {
	active, err := env.Active(ctx, token)
	if err != nil {
		fmt.Fprintf(out, "%-14s cannot check (%v)\n", name, err)
		return nil
	}
	verdict := map[bool]string{true: "accepted: the server reports it active", false: "rejected: the server reports it inactive"}[active]
	if when != "" {
		verdict += " " + when
	}
	fmt.Fprintf(out, "%-14s %s\n", name, verdict)
	if active != want {
		return fmt.Errorf("%s: active=%t, want %t", name, active, want)
	}
	return nil
}

// issued is when tok was issued, as far as it tells: its expiry less its
// lifetime; now when it has neither.
func issued(tok *cryptofuse.Token) time.Time {
	if tok.Expiry.IsZero() || tok.ExpiresIn <= 0 {
		return time.Now()
	}
	return tok.Expiry.Add(-time.Duration(tok.ExpiresIn) * time.Second)
}

// describe summarizes a token without showing it.
func describe(t *cryptofuse.Token) string {
	s := fmt.Sprintf("(%s, scope %q", t.TokenType, t.Scope)
	if !t.Expiry.IsZero() {
		s += ", expires " + t.Expiry.UTC().Format(time.RFC3339)
	}
	return s + ")"
}
