// Command rotate is a token rotation job: it replaces the service's own
// client-credentials token with a new one (cryptofuse.Client.RotateToken)
// and then shows that the old token is rejected and the new one accepted.
//
// With no credentials in the environment it runs against the SDK's built-in
// fake server, so it works on a fresh clone:
//
//	go run ./examples/rotate
//
// Against the real API, set CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET
// (and CRYPTOFUSE_BASE_URL if the API is elsewhere). With -state FILE the job
// keeps its token in FILE (JSON, mode 0600) between runs: the first run
// issues a token, every later run rotates it. With -issue-first the job
// issues the new token before it revokes the old one (cryptofuse.WithIssueFirst),
// so a service still using the old token is never left without a valid one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/examples/internal/setup"
)

func main() {
	state := flag.String("state", "", "keep the token in this JSON `file` between runs")
	issueFirst := flag.Bool("issue-first", false, "issue the new token before revoking the old one")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var opts []cryptofuse.Option
	if *issueFirst {
		opts = append(opts, cryptofuse.WithIssueFirst())
	}
	env, err := setup.FromEnv(opts...)
	if err == nil {
		err = run(ctx, env, *state, os.Stdout)
		env.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rotate:", err)
		os.Exit(1)
	}
}

// run is one run of the job: it rotates the token kept in statePath (or a
// fresh one when there is none) and checks the result.
func run(ctx context.Context, env *setup.Env, statePath string, out io.Writer) error {
	fmt.Fprintln(out, "rotating against", env.Describe())

	// A job bounds its whole run; each call inherits the deadline.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	old, err := load(statePath)
	switch {
	case err != nil:
		return err
	case old == nil: // no state yet: this is the token the service runs with
		if old, err = env.Client.Token(ctx); err != nil {
			return fmt.Errorf("issuing the first token: %w", err)
		}
	}
	fmt.Fprintf(out, "current token  %s  %s\n", setup.Fingerprint(old.AccessToken), describe(old))

	tok, err := env.Client.RotateToken(ctx, old.AccessToken)
	oldLive := false
	var rerr *cryptofuse.RotateError
	switch {
	case errors.As(err, &rerr) && rerr.Revoked:
		// The old token is gone and no new one was issued: get one now, or
		// the service is left with nothing.
		fmt.Fprintln(out, "issue step failed after the revoke; issuing again:", err)
		tok, err = env.Client.Token(ctx)
	case errors.As(err, &rerr) && rerr.Issued:
		// Issue-first order: the new token is good, but the old one could
		// not be revoked. Keep the new one; the old one stays valid until
		// it expires or a later run revokes it.
		fmt.Fprintln(out, "new token issued, but the old one is still valid:", err)
		oldLive, err = true, nil
	}
	if err != nil {
		return fmt.Errorf("rotating: %w", err)
	}
	if err := save(statePath, tok); err != nil {
		return err
	}
	fmt.Fprintf(out, "new token      %s  %s\n", setup.Fingerprint(tok.AccessToken), describe(tok))

	for _, check := range []struct {
		name, token string
		wantActive  bool
	}{
		{"old token", old.AccessToken, oldLive},
		{"new token", tok.AccessToken, true},
	} {
		active, err := env.Active(ctx, check.token)
		if err != nil {
			fmt.Fprintf(out, "%-14s cannot check (%v)\n", check.name, err)
			continue
		}
		verdict := map[bool]string{true: "accepted: the server reports it active", false: "rejected: the server reports it inactive"}[active]
		fmt.Fprintf(out, "%-14s %s\n", check.name, verdict)
		if active != check.wantActive {
			return fmt.Errorf("%s: active=%t, want %t", check.name, active, check.wantActive)
		}
	}
	return nil
}

// describe summarizes a token without showing it.
func describe(t *cryptofuse.Token) string {
	s := fmt.Sprintf("(%s, scope %q", t.TokenType, t.Scope)
	if !t.Expiry.IsZero() {
		s += ", expires " + t.Expiry.UTC().Format(time.RFC3339)
	}
	return s + ")"
}

// load reads the token saved by an earlier run; nil if there is none.
func load(path string) (*cryptofuse.Token, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var tok cryptofuse.Token
	if err := json.Unmarshal(b, &tok); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("%s: no access_token", path)
	}
	return &tok, nil
}

// save writes tok to path, readable by its owner only, replacing the file
// atomically so that a crash never leaves half a token.
func save(path string, tok *cryptofuse.Token) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(tok, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
