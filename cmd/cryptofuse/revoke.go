package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

const revokeHelp = `cryptofuse revoke [-hint access_token|refresh_token] [-concurrency N] [FILE]

Revokes every token in FILE, or in stdin when FILE is absent or "-" (RFC 7009).
The input holds one token per line; a UTF-8 byte order mark at its start is
dropped, spaces around a token are trimmed, blank lines and lines starting
with # are skipped, and a token that appears twice is revoked once. Tokens are
never taken from arguments.

The whole input is read, and checked, before anything is sent. Every line
that is not blank or a comment must be one bearer token (RFC 6750 §2.1):
letters, digits and - . _ ~ + / with optional trailing = padding, which covers
opaque tokens and JWTs. Any
other line (a "Bearer " prefix, quotes or a comma around the token, an
invisible Unicode character such as a no-break or zero-width space) refuses
the whole input with exit status 2, naming the line numbers but not their
content: the server answers 200 for any string, so such a line would be
reported revoked while the token stays valid. An input with no token at all
is refused too, so that a grep that matched nothing does not look like
success.

Requests run N at a time over one client, so connections are reused. A
progress line on stderr shows done/total, failures and the rate. Each failure
is printed as "line N (fp 1a2b3c4d): reason", naming the token by the first 8
hex digits of its SHA-256. At the end a summary on stdout counts the revoked
tokens, the failures by reason and the tokens not attempted.

Ctrl-C (or SIGTERM) stops starting new requests, waits for those in flight
(each up to -timeout) and prints the summary. A second Ctrl-C ends the process
at once, killed by the signal (exit status 130 in shells), without a summary.
Revoking a token again is harmless, so re-running the same input is the way to
retry. A server that refuses the client credentials (invalid_client) stops the
run: every later request would fail the same way.

Exit status: 0 if every token was revoked, 1 if any was not, 2 for a usage or
configuration error or an input refused (nothing sent).
` + credentialsHelp + `
Example:
  export CRYPTOFUSE_CLIENT_ID=my-client CRYPTOFUSE_CLIENT_SECRET=...
  grep -o 'tok_[A-Za-z0-9]*' leaked.log | cryptofuse revoke -concurrency 16
  cryptofuse revoke -credentials ~/.config/cryptofuse.env leaked-tokens.txt
`

// revokeOptions are the settings of one bulk revocation.
type revokeOptions struct {
	hint        cryptofuse.TokenTypeHint
	concurrency int
	timeout     time.Duration // per token, retries included
}

// revoke is the revoke subcommand.
func (c *command) revoke(ctx context.Context, args []string) int {
	fs := newFlagSet("revoke")
	var cf clientFlags
	cf.register(fs, "give up on a token after `D`, retries included")
	hint := fs.String("hint", string(cryptofuse.AccessTokenHint), "send token_type_hint `kind`: access_token, refresh_token, or \"\" for none (the server finds either kind either way)")
	concurrency := fs.Int("concurrency", 8, fmt.Sprintf("revoke up to `N` tokens at a time (1 to %d)", maxConcurrency))
	if ok, code := c.parse(fs, args, revokeHelp); !ok {
		return code
	}
	switch cryptofuse.TokenTypeHint(*hint) {
	case cryptofuse.AccessTokenHint, cryptofuse.RefreshTokenHint, "":
	default:
		return c.usageError(fs, "-hint must be access_token, refresh_token or \"\"")
	}
	if *concurrency < 1 || *concurrency > maxConcurrency {
		return c.usageError(fs, "-concurrency must be from 1 to %d", maxConcurrency)
	}
	if fs.NArg() > 1 {
		return c.usageError(fs, "takes at most one FILE, after the flags; tokens are read from a file or stdin, never from arguments")
	}
	in, name, closeIn, err := c.openInput(fs.Arg(0))
	if errors.Is(err, errNoSuchFile) {
		return c.usageError(fs, "%v", err)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %v\n", fs.Name(), err)
		return exitUsage
	}
	client, ok := c.newClient(fs, cf, cryptofuse.WithHTTPClient(&http.Client{Transport: newTransport(*concurrency)}))
	if !ok {
		closeIn()
		return exitUsage
	}
	if name == "stdin" && c.isTerminal(c.stdin) {
		fmt.Fprintln(c.stderr, "cryptofuse revoke: reading tokens from the terminal, one per line; end with Ctrl-D")
	}
	list, err := readTokens(in)
	closeIn()
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %s: %v\n", fs.Name(), name, err)
		return exitUsage
	}
	if len(list.entries) == 0 {
		fmt.Fprintf(c.stderr, "%s: no tokens in %s; nothing sent\n", fs.Name(), name)
		return exitUsage
	}

	sum := c.revokeAll(ctx, client, list, revokeOptions{
		hint:        cryptofuse.TokenTypeHint(*hint),
		concurrency: *concurrency,
		timeout:     cf.timeout,
	})
	sum.print(c.stdout)
	if sum.failed["invalid_client"] > 0 {
		fmt.Fprintln(c.stderr, hintInvalidClient)
	}
	if sum.revoked < sum.total {
		return exitFailed
	}
	return exitOK
}

// newTransport is the transport of a bulk revocation with n workers: the
// SDK's default transport (cryptofuse.NewTransport), with a pool of n
// connections to the server, all kept for reuse. A worker whose connection is
// still on its way back to the pool waits for it rather than dialling a new
// one, so the server sees at most n connections.
func newTransport(n int) *http.Transport {
	t := cryptofuse.NewTransport()
	t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = n, n, n
	return t
}

// openInput opens the input named by the argument: stdin for "" or "-",
// else a file. A file that does not exist is not named in the error, since
// the argument may be a token given in the wrong place; the error then
// matches errNoSuchFile.
func (c *command) openInput(arg string) (r io.Reader, name string, closeFn func(), err error) {
	if arg == "" || arg == "-" {
		return c.stdin, "stdin", func() {}, nil
	}
	f, err := os.Open(arg)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil, fmt.Errorf("%w (argument fingerprint %s); tokens are read from a file or stdin, never from arguments", errNoSuchFile, fingerprint(arg))
	}
	if err != nil {
		return nil, "", nil, err
	}
	return f, arg, func() { f.Close() }, nil
}

// Outcomes of one token.
const (
	notAttempted = iota
	revoked
	failed
)

// outcome is what happened to one token.
type outcome struct {
	state  int
	reason string // for failed
}

// errNoSuchFile is openInput's error for a FILE that does not exist.
var errNoSuchFile = errors.New("no such file")

// errBadCredentials stops a run whose credentials the server refused.
var errBadCredentials = errors.New("the server refused the client credentials (invalid_client)")

// revokeAll revokes every token of list with opt.concurrency workers sharing
// client. Workers take tokens in input order. When ctx is cancelled no new
// request starts; each request runs on a context that the interrupt does not
// cancel, bounded by opt.timeout, so that a request in flight finishes and
// its outcome is known. It returns the summary, which accounts for every
// token.
func (c *command) revokeAll(ctx context.Context, client *cryptofuse.Client, list tokenList, opt revokeOptions) summary {
	start := time.Now()
	results := make([]outcome, len(list.entries))
	prog := newProgress(c.stderr, c.isTerminal(c.stderr), len(list.entries), c.progressEvery)

	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var (
		next     atomic.Int64 // index of the next token to take
		inFlight atomic.Int64
		wg       sync.WaitGroup
	)
	// Say once, at the interrupt, what is being waited for.
	interrupted, noted := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(noted)
		select {
		case <-ctx.Done():
			prog.print(fmt.Sprintf("interrupted: starting no new requests; waiting for %d in flight (Ctrl-C again to quit at once)", inFlight.Load()))
		case <-interrupted:
		}
	}()

	for range min(opt.concurrency, len(list.entries)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(list.entries) {
					return
				}
				inFlight.Add(1)
				e := list.entries[i]
				reqCtx, cancel := context.WithTimeout(context.WithoutCancel(runCtx), opt.timeout)
				err := client.Revoke(reqCtx, e.token, opt.hint)
				cancel()
				inFlight.Add(-1)
				if err == nil {
					results[i] = outcome{state: revoked}
					prog.succeeded()
					continue
				}
				results[i] = outcome{state: failed, reason: reason(err)}
				prog.failedWith(fmt.Sprintf("line %d (fp %s): %s", e.line, fingerprint(e.token), describe(err)))
				if errors.Is(err, cryptofuse.ErrInvalidClient) {
					stop(errBadCredentials)
				}
			}
		}()
	}
	wg.Wait()
	close(interrupted)
	<-noted
	prog.finish()

	sum := summary{
		total:      len(list.entries),
		duplicates: list.duplicates,
		failed:     map[string]int{},
		elapsed:    time.Since(start),
	}
	for i, r := range results {
		switch r.state {
		case revoked:
			sum.revoked++
		case failed:
			sum.failed[r.reason]++
			sum.nFailed++
		default:
			if sum.notAttempted == 0 {
				sum.firstNotAttempted = list.entries[i].line
			}
			sum.notAttempted++
		}
	}
	if sum.notAttempted > 0 {
		switch cause := context.Cause(runCtx); {
		case errors.Is(cause, errBadCredentials):
			sum.stopped = cause.Error()
		case ctx.Err() != nil:
			sum.stopped = "interrupted"
		}
	}
	return sum
}

// summary is the outcome of a bulk revocation.
type summary struct {
	total             int // distinct tokens
	revoked           int
	nFailed           int
	failed            map[string]int // by reason
	notAttempted      int
	firstNotAttempted int    // line of the first token not attempted
	stopped           string // why the run stopped early, if it did
	duplicates        int
	elapsed           time.Duration
}

// print writes the summary, one "key: value" per line, the failures by
// reason indented under "failed".
func (s summary) print(w io.Writer) {
	fmt.Fprintf(w, "revoked:        %d of %d\n", s.revoked, s.total)
	fmt.Fprintf(w, "failed:         %d\n", s.nFailed)
	type count struct {
		reason string
		n      int
	}
	var counts []count
	for r, n := range s.failed {
		counts = append(counts, count{r, n})
	}
	slices.SortFunc(counts, func(a, b count) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.reason, b.reason))
	})
	for _, c := range counts {
		fmt.Fprintf(w, "  %s: %d\n", c.reason, c.n)
	}
	fmt.Fprintf(w, "not attempted:  %d", s.notAttempted)
	if s.notAttempted > 0 {
		fmt.Fprintf(w, " (the first is on line %d)", s.firstNotAttempted)
	}
	fmt.Fprintln(w)
	if s.stopped != "" {
		fmt.Fprintf(w, "stopped:        %s\n", s.stopped)
	}
	if s.duplicates > 0 {
		fmt.Fprintf(w, "duplicates:     %d skipped (each token is revoked once)\n", s.duplicates)
	}
	fmt.Fprintf(w, "elapsed:        %s\n", s.elapsed.Round(time.Millisecond))
	if s.revoked < s.total {
		fmt.Fprintln(w, "Revoking a token again is harmless: re-run with the same input to retry (after fixing the cause).")
	}
}
