package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

const tokenHelp = `cryptofuse token [-scope "read write"] [-json] [-cache DIR [-min-valid D]]

Issues an access token with the client credentials grant (RFC 6749 §4.4) and
prints it on stdout: the access token alone, or with -json the whole token
({"access_token", "token_type", "scope", "expires_in", "expiry"}) as one line
of JSON. This output holds a live token: send it where it belongs.

With -cache DIR, a token kept in the directory DIR is printed instead of a new
one while it stays valid for at least -min-valid; a new token is kept there.
DIR is a cryptofuse.DirStore: created at mode 0700, one file per client,
server and scope set (mode 0600, replaced atomically), each sealed with a key
derived from the client secret, so the directory holds no token in clear and
a token kept for one client or scope set is never printed for another. A
script that runs every minute then mints one token per lifetime, not 1,440 a
day (django-oauth-toolkit keeps every token it issues as a row). A cache that
cannot be read or written is reported on stderr and does not fail the run.
(Before 0.3, -cache named a JSON file holding the token in clear; such a file
is reported and not used: delete it and name a directory.)

Exit status: 0 if a token was printed, 1 if the server refused or could not be
reached, 2 for a usage or configuration error (nothing sent).
` + credentialsHelp + `
Example:
  cryptofuse token -scope read -json > token.json
  curl -H "Authorization: Bearer $(cryptofuse token -cache ~/.cache/cryptofuse)" ...
`

// token is the token subcommand.
func (c *command) token(ctx context.Context, args []string) int {
	fs := newFlagSet("token")
	var cf clientFlags
	cf.register(fs, "give up after `D`, retries included")
	scope := registerScope(fs)
	asJSON := fs.Bool("json", false, "print the whole token as JSON")
	cache := fs.String("cache", "", "reuse the token kept in the directory `DIR` while it is valid, and keep a new one there")
	minValid := fs.Duration("min-valid", 5*time.Minute, "with -cache, reuse a kept token only while it stays valid for at least `D`")
	if ok, code := c.parse(fs, args, tokenHelp); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.refuseArgs(fs)
	}
	opts := []cryptofuse.Option{cryptofuse.WithScopes(strings.Fields(*scope)...)}
	if *cache != "" {
		*cache = c.checkCacheDir(fs, *cache)
		opts = append(opts, cryptofuse.WithHooks(cacheHooks(c.stderr, fs.Name())))
	}
	client, ok := c.newClient(fs, cf, opts...)
	if !ok {
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	var tok *cryptofuse.Token
	var err error
	if *cache != "" {
		tok, err = c.cachedToken(ctx, client, *cache, *minValid)
	} else {
		tok, err = client.Token(ctx)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %s\n", fs.Name(), explain(err))
		c.hintFor(err)
		return exitFailed
	}
	return c.printToken(fs, tok, *asJSON)
}

// registerScope adds token's and rotate's -scope flag to fs.
func registerScope(fs *flag.FlagSet) *string {
	return fs.String("scope", "read write", "the space-separated `scopes` to ask for; \"\" asks for none, and the server grants its default")
}

// printToken prints a new token on stdout: the access token, or all of it as
// JSON.
func (c *command) printToken(fs *flag.FlagSet, tok *cryptofuse.Token, asJSON bool) int {
	if !asJSON {
		fmt.Fprintln(c.stdout, tok.AccessToken)
		return exitOK
	}
	if err := json.NewEncoder(c.stdout).Encode(tok); err != nil {
		fmt.Fprintf(c.stderr, "%s: writing the token: %v\n", fs.Name(), err)
		return exitFailed
	}
	return exitOK
}

// hintInvalidClient is the advice for an invalid_client answer.
const hintInvalidClient = "The server refused the client credentials: check " + envClientID + " and " + envClientSecret + " (or -credentials)."

// hintFor adds advice to an error the operator can act on.
func (c *command) hintFor(err error) {
	switch reason(err) {
	case "invalid_client":
		fmt.Fprintln(c.stderr, hintInvalidClient)
	case "invalid_scope":
		fmt.Fprintln(c.stderr, "The server does not grant that scope to this client: check -scope.")
	case "HTTP 404":
		c.hintNotFound()
	}
}

// hintNotFound is the advice for a 404: the base URL is wrong.
func (c *command) hintNotFound() {
	fmt.Fprintf(c.stderr, "The server has no such endpoint (HTTP 404): check %s (or -base-url), now %s. It is the API's base URL, such as %s; /o/token/ and /o/revoke_token/ are appended to it.\n",
		envBaseURL, c.baseURL, cryptofuse.DefaultBaseURL)
}
