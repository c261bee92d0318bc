package main

import (
	"context"
	"errors"
	"fmt"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

const rotateHelp = `cryptofuse rotate [-json] < old-token

Rotates a token: reads the old token from the first non-blank line of stdin,
revokes it (RFC 7009), issues a new one (RFC 6749 §4.4) and prints the new one
on stdout, as the access token alone or, with -json, the whole token as one
line of JSON. The old token is never taken from an argument, where ps would
show it to every user.

Once started, a rotation is not cut short by Ctrl-C (each step is bounded by
-timeout), so that it never stops between the two steps unnoticed. If the old
token was revoked but the new one could not be issued, the error says so: run
'cryptofuse token' to get one.

Exit status: 0 if the token was rotated, 1 if a step failed, 2 for a usage or
configuration error (nothing sent).
` + credentialsHelp + `
Example:
  cryptofuse rotate < old-token.txt > new-token.txt
`

// rotate is the rotate subcommand.
func (c *command) rotate(ctx context.Context, args []string) int {
	fs := newFlagSet("rotate")
	var cf clientFlags
	cf.register(fs, "give up after `D`, retries included")
	asJSON := fs.Bool("json", false, "print the whole new token as JSON")
	if ok, code := c.parse(fs, args, rotateHelp); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.refuseArgs(fs)
	}
	client, ok := c.newClient(fs, cf)
	if !ok {
		return exitUsage
	}
	if c.isTerminal(c.stdin) {
		fmt.Fprintln(c.stderr, "cryptofuse rotate: paste the token to rotate and press Enter (or pipe it in: cryptofuse rotate < FILE)")
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
		fmt.Fprintf(c.stderr, "%s: old token fp %s: %v\n", fs.Name(), fingerprint(old), err)
		var rerr *cryptofuse.RotateError
		if errors.As(err, &rerr) && rerr.Revoked {
			fmt.Fprintln(c.stderr, "The old token is revoked and no new one was issued: run 'cryptofuse token' to get one.")
		}
		c.hintFor(err)
		return exitFailed
	}
	return c.printToken(fs, tok, *asJSON)
}
