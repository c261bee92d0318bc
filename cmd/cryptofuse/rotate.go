package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

const rotateHelp = `cryptofuse rotate [-scope "read write"] [-revoke-first] [-json] < old-token

Rotates a token: reads the old token from the first non-blank line of stdin,
issues a new one with -scope (RFC 6749 §4.4), revokes the old one (RFC 7009)
and prints the new one on stdout, as the access token alone or, with -json,
the whole token as one line of JSON. Give -scope the scopes the old token
had: the default asks for "read write", which may be wider.

The old token is never taken from an argument, where ps would show it to
every user, nor typed into a terminal, which would echo it: pipe or redirect
it into stdin. It must be one bearer token: letters, digits and - . _ ~ + /
with optional trailing = (RFC 6750 §2.1).

By default the new token is issued first, so that a failure never leaves you
without a valid token: if the issue fails (a scope the client may not have,
say), the old token was not touched; if the revoke then fails, the new token
is still printed, the exit status is 1, and the old token stays valid until
you revoke it. -revoke-first runs the order the API's documentation gives:
revoke, then issue; if the issue then fails you hold no valid token.
-issue-first, the default, is still accepted.

Once started, a rotation is not cut short by Ctrl-C (each step is bounded by
-timeout), so that it never stops between the two steps unnoticed. If the old
token was revoked but the new one could not be issued, the error says so: run
'cryptofuse token' to get one.

Exit status: 0 if the token was rotated, 1 if a step failed, 2 for a usage or
configuration error (nothing sent).
` + credentialsHelp + `
Example:
  cryptofuse rotate < old-token.txt > new-token.txt
  cryptofuse rotate -json < old-token.txt > new-token.json
  cryptofuse rotate -revoke-first < old-token.txt > new-token.txt
  cryptofuse token -scope read | cryptofuse rotate -scope read
`

// rotate is the rotate subcommand.
func (c *command) rotate(ctx context.Context, args []string) int {
	fs := newFlagSet("rotate")
	var cf clientFlags
	cf.register(fs, "give up after `D`, retries included")
	asJSON := fs.Bool("json", false, "print the whole new token as JSON")
	scope := registerScope(fs)
	revokeFirst := fs.Bool("revoke-first", false, "revoke the old token before issuing the new one, the order of the API's documentation (a failed issue then leaves no valid token)")
	issueFirstFlag := fs.Bool("issue-first", false, "issue the new token before revoking the old one: the default")
	if ok, code := c.parse(fs, args, rotateHelp); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.refuseArgs(fs)
	}
	if *revokeFirst && *issueFirstFlag {
		return c.usageError(fs, "-revoke-first and -issue-first are opposites: give one")
	}
	issueFirst := !*revokeFirst
	if c.isTerminal(c.stdin) {
		return c.usageError(fs, "stdin is a terminal: a token typed or pasted there is echoed, and stays in the scrollback; pipe or redirect it instead, as in 'cryptofuse rotate < old-token.txt'")
	}
	opts := []cryptofuse.Option{cryptofuse.WithScopes(strings.Fields(*scope)...)}
	if issueFirst {
		opts = append(opts, cryptofuse.WithIssueFirst())
	}
	client, ok := c.newClient(fs, cf, opts...)
	if !ok {
		return exitUsage
	}
	old, err := readFirstLine(c.stdin)
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %v\n", fs.Name(), err)
		return exitUsage
	}
	if ctx.Err() != nil {
		fmt.Fprintf(c.stderr, "%s: interrupted; nothing was sent\n", fs.Name())
		return exitFailed
	}
	// Not cancelled by an interrupt: stopping between the revoke and the
	// issue would leave no valid token.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cf.timeout)
	defer cancel()
	tok, err := client.RotateToken(rctx, old)
	if err != nil {
		msg := explain(err)
		var rerr *cryptofuse.RotateError
		if errors.As(err, &rerr) {
			msg = rotateState(rerr, issueFirst) + ": " + explain(rerr.Err)
		}
		fmt.Fprintf(c.stderr, "%s: old token fp %s: %s\n", fs.Name(), fingerprint(old), msg)
		switch {
		case errors.As(err, &rerr) && rerr.Revoked:
			fmt.Fprintln(c.stderr, "The old token is revoked and no new one was issued: run 'cryptofuse token' to get one.")
		case errors.As(err, &rerr) && rerr.Issued && tok != nil:
			// -issue-first: the new token is good, the old one is
			// still valid. Print the new one, so it is not lost.
			fmt.Fprintf(c.stderr, "The new token is printed, but the old one (fp %s) is still valid: revoke it with 'cryptofuse revoke' once the error is fixed, or let it expire.\n", fingerprint(old))
			c.hintFor(err)
			c.printToken(fs, tok, *asJSON)
			return exitFailed
		}
		c.hintFor(err)
		return exitFailed
	}
	return c.printToken(fs, tok, *asJSON)
}
