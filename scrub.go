package cryptofuse

import (
	"slices"

	"github.com/cryptofuse/cryptofuse-go/internal/scrub"
)

// redacted stands in for a secret in formatted output and in scrubbed server
// text.
const redacted = scrub.Redacted

// Scrubbing. Every piece of text that comes from the server or the transport
// and reaches an error or a log line goes through a scrubber first (package
// internal/scrub says how, in which forms, and from which length a value is
// found inside a word). The client's part of the secrets (the client secret
// and the base64 text of both Basic credentials) is computed once, in
// NewClient (scrub.ClientSecrets); a call adds its tokens only when it
// builds an error, so the success path pays nothing.

// scrubber returns a function that replaces the client secret and the given
// tokens, in every form internal/scrub lists, in text.
func (c *Client) scrubber(tokens ...string) func(string) string {
	return scrub.New(append(slices.Clip(c.secret.redact), tokens...)...).String
}

// scrubbed returns err with its text scrubbed by sc, without changing what
// it is: errors.Is and errors.As see the original cause (scrub.Wrap).
func scrubbed(err error, sc func(string) string) error { return scrub.Wrap(err, sc) }

// clean makes server text safe to print: invalid UTF-8 and control
// characters become U+FFFD, and it is cut to at most max bytes plus "…".
func clean(s string, max int) string { return scrub.Clean(s, max) }

// clientSecrets lists what NewClient keeps for the scrubber: the client
// secret and the base64 text of both Basic credentials.
func clientSecrets(clientID, clientSecret string) []string {
	return scrub.ClientSecrets(clientID, clientSecret)
}
