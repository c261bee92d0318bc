package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

const revokeHelp = `cryptofuse revoke [-hint access_token|refresh_token] [-concurrency N] [-verify] [FILE]

Revokes every token in FILE, or in stdin when FILE is absent or "-" (RFC 7009).
The input holds one token per line; a UTF-8 byte order mark at its start is
dropped, white space around a token (tabs, CR, Unicode spaces such as a
no-break space) is trimmed, blank lines and lines starting
with # are skipped, and a token that appears twice is revoked once. Tokens are
never taken from arguments.

The whole input is read, and checked, before anything is sent. Every line
that is not blank or a comment must be one bearer token (RFC 6750 §2.1):
letters, digits and - . _ ~ + / with optional trailing = padding, which covers
opaque tokens and JWTs. Any
other line (a "Bearer " prefix, quotes or a comma around the token, an
invisible Unicode character such as a zero-width space anywhere, or a
no-break space inside the token) refuses
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
retry; the summary says which failures a re-run can fix (the server's or the
network's), which only after the configuration is fixed, and which not at all.

The run stops early, with the tokens not sent counted as not attempted, when
its failures say that no token can succeed: at once when the server refuses
the client credentials (invalid_client); when the first 3 requests all fail
with the same reason that is about the request or the client, never the
token (invalid_request, unauthorized_client, HTTP 401, 403, 404, 405 or a
redirect); and when 10 requests in a row fail, each after its retries, for
want of a working server (no answer, a timeout, 429 or 5xx). No token is
counted revoked unless the server answered 2xx for it.

Tokens are never read from a terminal, which would echo them: put them in a
file or pipe them.

-verify checks each revocation with the server's token introspection
endpoint (RFC 7662, POST /o/introspect/), because a 200 from the revocation
endpoint proves nothing: the server answers 200 for a token it does not know
(RFC 7009 §2.2), and django-oauth-toolkit 3.x answers 200 for another
client's token but leaves it valid (RFC 7009 §2.1). Revoking leaked tokens
with an operations client's credentials would then report every token
revoked while all of them stay valid. With -verify, a token that is still
active after its revocation is a failure ("still active after revoke"),
printed as "line N (fp 1a2b3c4d): ...". The endpoint is probed before any
token is revoked: a server without one, or one that refuses the client's
credentials there, exits with status 2 and nothing revoked.

Exit status: 0 if every token was revoked (and, with -verify, is inactive),
1 if any was not, 2 for a usage or configuration error or an input refused
(nothing revoked).
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
	// verify, when set, is asked after each successful revocation whether
	// the token is still active (-verify), within the same timeout.
	verify func(ctx context.Context, token string) (active bool, err error)
}

// revoke is the revoke subcommand.
func (c *command) revoke(ctx context.Context, args []string) int {
	fs := newFlagSet("revoke")
	var cf clientFlags
	cf.register(fs, "give up on a token after `D`, retries included")
	hint := fs.String("hint", string(cryptofuse.AccessTokenHint), "send token_type_hint `kind`: access_token, refresh_token, or \"\" for none (the server finds either kind either way)")
	concurrency := fs.Int("concurrency", 8, fmt.Sprintf("revoke up to `N` tokens at a time (1 to %d)", maxConcurrency))
	verify := fs.Bool("verify", false, "after each revocation, ask the server's introspection endpoint (RFC 7662) whether the token is still active, and count it as a failure if it is (see below)")
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
	if (fs.Arg(0) == "" || fs.Arg(0) == "-") && c.isTerminal(c.stdin) {
		return c.usageError(fs, "stdin is a terminal: tokens typed or pasted there are echoed, and stay in the scrollback; put them in a file, or pipe them, as in 'cryptofuse revoke leaked-tokens.txt' or 'grep ... | cryptofuse revoke'")
	}
	in, name, closeIn, err := c.openInput(fs.Arg(0))
	if errors.Is(err, errNoSuchFile) {
		return c.usageError(fs, "%v", err)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %v\n", fs.Name(), err)
		return exitUsage
	}
	transport := newTransport(*concurrency)
	client, ok := c.newClient(fs, cf, cryptofuse.WithHTTPClient(&http.Client{Transport: transport}))
	if !ok {
		closeIn()
		return exitUsage
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

	opt := revokeOptions{
		hint:        cryptofuse.TokenTypeHint(*hint),
		concurrency: *concurrency,
		timeout:     cf.timeout,
	}
	if *verify {
		probeCtx, cancel := context.WithTimeout(ctx, cf.timeout)
		err := probeIntrospection(probeCtx, client)
		cancel()
		if err != nil {
			fmt.Fprintf(c.stderr, "%s: -verify: %v; nothing revoked\n", fs.Name(), err)
			return exitUsage
		}
		opt.verify = introspect(client)
	}
	sum := c.revokeAll(ctx, client, list, opt)
	sum.print(c.stdout)
	if sum.failed["invalid_client"] > 0 {
		fmt.Fprintln(c.stderr, hintInvalidClient)
	}
	if sum.failed["HTTP 404"] > 0 {
		c.hintNotFound()
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

// Outcomes of one token.
const (
	notAttempted = iota
	revoked
	failed
)

// outcome is what happened to one token.
type outcome struct {
	state  int
	reason string       // for failed
	class  failureClass // for failed
}

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
	stopper := newStopper()
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
				var verr error
				if err == nil && opt.verify != nil {
					verr = verifyRevoked(reqCtx, opt.verify, e.token)
				}
				cancel()
				inFlight.Add(-1)
				if verr != nil {
					results[i] = outcome{state: failed, reason: verifyReason(verr)}
					prog.failedWith(fmt.Sprintf("line %d (fp %s): %v", e.line, fingerprint(e.token), verr))
					continue
				}
				if err == nil {
					results[i] = outcome{state: revoked}
					prog.succeeded()
					stopper.record(nil, 0, "")
					continue
				}
				o := outcome{state: failed, reason: reason(err), class: classify(err)}
				results[i] = o
				prog.failedWith(fmt.Sprintf("line %d (fp %s): %s", e.line, fingerprint(e.token), describe(err)))
				if cause := stopper.record(err, o.class, o.reason); cause != nil {
					stop(cause)
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
		classes:    map[string]failureClass{},
		elapsed:    time.Since(start),
	}
	for i, r := range results {
		switch r.state {
		case revoked:
			sum.revoked++
		case failed:
			sum.failed[r.reason]++
			sum.classes[r.reason] = max(sum.classes[r.reason], r.class)
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
		case ctx.Err() != nil:
			sum.stopped = "interrupted"
		case cause != nil && !errors.Is(cause, context.Canceled):
			sum.stopped = cause.Error()
		}
	}
	return sum
}
