// Command cryptofuse is an operator's tool for Cryptofuse's OAuth2 endpoints.
// It revokes leaked tokens in bulk (OAuth 2.0 Token Revocation, RFC 7009),
// issues a token with the client credentials grant (RFC 6749 §4.4), and
// rotates one.
//
//	go install github.com/cryptofuse/cryptofuse-go/cmd/cryptofuse@latest
//
//	cryptofuse revoke [-hint access_token|refresh_token] [-concurrency N] [-verify] [FILE]
//	cryptofuse token [-scope "read write"] [-json]
//	cryptofuse rotate [-scope "read write"] [-revoke-first] [-json] < old-token
//	cryptofuse version
//
// The client credentials never come from the command line, where every user
// can read them through ps: they come from CRYPTOFUSE_CLIENT_ID and
// CRYPTOFUSE_CLIENT_SECRET, or from a file named with -credentials. Tokens
// come from a file or stdin, never from arguments. No token and no secret is
// ever printed, except the new token that token and rotate exist to print;
// a token is named by its fingerprint, the first 8 hex digits of its SHA-256.
//
// Exit codes: 0 when everything succeeded, 1 when anything failed (a token
// not revoked, a request refused), 2 for a usage or configuration error, in
// which case nothing was sent.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// Exit codes.
const (
	exitOK     = 0 // everything succeeded
	exitFailed = 1 // something failed: a token not revoked, a request refused
	exitUsage  = 2 // a usage or configuration error: nothing was sent
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C cancels ctx: new work stops and the summary is
	// printed. Stopping the notification then restores the default action,
	// so a second Ctrl-C ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args (without the program name) and returns the
// exit code. Cancelling ctx is an interrupt: see [command.revokeAll]. The
// process environment is read through os.Getenv.
// ctx comes first, as everywhere in the module, and is what lets a test
// interrupt a run.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &command{
		stdin:      stdin,
		stdout:     stdout,
		stderr:     stderr,
		getenv:     os.Getenv,
		isTerminal: isTerminal,
	}
	return c.run(ctx, args)
}

// command is one invocation: its streams and its environment. Tests build
// one with their own getenv, so that they never touch the process
// environment and can run in parallel.
type command struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// isTerminal reports whether a stream (stdin or stderr) is a terminal.
	isTerminal func(any) bool
	// progressEvery is how often the progress line is redrawn; 0 is the
	// default for the kind of stderr (see newProgress).
	progressEvery time.Duration
	// backoff, when set, replaces the SDK's backoff base delay, so that
	// tests of retries do not wait.
	backoff time.Duration
	// baseURL is the base URL the client was built with, for hints.
	baseURL string
}

// usage is the top-level help.
const usage = `cryptofuse: revoke leaked tokens in bulk, issue and rotate tokens
(Cryptofuse OAuth2: RFC 7009 revocation, RFC 6749 client credentials).

Usage:
  cryptofuse revoke [-hint access_token|refresh_token] [-concurrency N] [-verify] [FILE]
                            revoke every token in FILE (or stdin), one per line
  cryptofuse token [-scope "read write"] [-json]
                            issue a token and print it
  cryptofuse rotate [-scope "read write"] [-revoke-first] [-json] < old-token
                            issue a new token, print it, then revoke the one
                            read from stdin; -revoke-first revokes first
  cryptofuse version        print the versions of this tool and of Go

Run 'cryptofuse COMMAND -h' for a command's flags and an example.

Credentials (never on the command line, where ps shows them to every user):
  CRYPTOFUSE_CLIENT_ID      the OAuth2 client id
  CRYPTOFUSE_CLIENT_SECRET  the OAuth2 client secret
  CRYPTOFUSE_BASE_URL       the API's base URL (default https://api.cryptofuse.io)
  or -credentials FILE on revoke, token and rotate: a file of KEY=VALUE lines
  with the same names, mode 0600. -credentials wins over the environment
  (a note on stderr says so when both are set).

Tokens are read from a file or stdin, never from arguments. Output names a
token only by its fingerprint: the first 8 hex digits of its SHA-256.

Ctrl-C stops a revoke: no new request starts, those in flight finish, and the
summary is printed. A second Ctrl-C ends the process at once, killed by the
signal (exit status 130 in shells), without a summary.

Exit codes:
  0  everything succeeded
  1  something failed (a token not revoked, a request refused)
  2  usage or configuration error, or an input refused; nothing was sent

Examples:
  export CRYPTOFUSE_CLIENT_ID=my-client CRYPTOFUSE_CLIENT_SECRET=...
  grep -o 'tok_[A-Za-z0-9]*' leaked.log | cryptofuse revoke -concurrency 16
  cryptofuse revoke -credentials ~/.config/cryptofuse.env leaked-tokens.txt
  cryptofuse token -scope read -json > token.json
  cryptofuse rotate -scope read < old-token.txt > new-token.txt
`

// run dispatches to a subcommand.
func (c *command) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "revoke":
		return c.revoke(ctx, rest)
	case "token":
		return c.token(ctx, rest)
	case "rotate":
		return c.rotate(ctx, rest)
	case "version":
		return c.version(rest)
	case "-h", "-help", "--help", "help":
		if name == "help" && len(rest) == 1 {
			if _, ok := subcommands[rest[0]]; ok {
				return c.run(ctx, []string{rest[0], "-h"})
			}
		}
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(c.stderr, "cryptofuse: flags go after the command, as in 'cryptofuse revoke -concurrency 16 FILE'\nRun 'cryptofuse -h' for usage.\n")
		return exitUsage
	}
	fmt.Fprintf(c.stderr, "cryptofuse: unknown command %s\nRun 'cryptofuse -h' for usage.\n", describeArg(name))
	return exitUsage
}

// subcommands names the subcommands, for 'cryptofuse help COMMAND'.
var subcommands = map[string]struct{}{"revoke": {}, "token": {}, "rotate": {}, "version": {}}

// version prints the versions of the SDK (which this tool is part of) and of
// the Go toolchain that built it.
func (c *command) version(args []string) int {
	fs := newFlagSet("version")
	ok, code := c.parse(fs, args, "cryptofuse version\n\nPrints the version of cryptofuse-go and of the Go toolchain that built it.\n\nExample:\n  cryptofuse version\n")
	if !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageError(fs, "takes no arguments")
	}
	fmt.Fprintf(c.stdout, "cryptofuse-go %s (%s %s/%s)\n", cryptofuse.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
