package cryptofuse

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cryptofuse/cryptofuse-go/internal/wire"
)

// Client sends revocation and token requests for one OAuth2 client. Build it
// with [NewClient]. A Client is immutable and safe for concurrent use by
// multiple goroutines; build one and share it.
//
// Formatting a Client with any fmt verb prints its base URL and client id but
// never the secret.
type Client struct {
	baseURL   string // the validated base URL, without a trailing slash
	revokeURL string
	tokenURL  string
	clientID  string

	// Header values computed once in NewClient and shared, read-only, by
	// every request.
	// secret holds what the credentials give: behind a pointer, so that
	// even fmt's bad-verb path (%p of a Client value, which bypasses
	// Format) prints an address, not the credentials.
	secret    *clientCreds
	userAgent []string

	tokenForm string // the client_credentials request body

	introspectURL string // the introspection endpoint (RFC 7662 §2.1)

	hc *http.Client
	// boundCalls makes send apply the call timeout to a ctx without a
	// deadline; it is true when hc has no Timeout of its own.
	boundCalls bool

	retry      RetryPolicy  // with its defaults filled in
	logger     *slog.Logger // nil: no logging
	issueFirst bool         // RotateToken's order
	clock      clock        // time, randomness and the call timeout
	hooks      Hooks        // WithHooks; nil fields are skipped
	server     serverAddr   // the endpoints' host and port, for AttemptEvent

	// The store identity of sealParams (seal.go): the key of this client's
	// records, the scope set they name, and the AEAD that seals them
	// (AES-256-GCM under a key derived from the secret). Format never
	// prints them.
	sealKeyName string
	sealScope   string
	seal        cipher.AEAD
}

// NewClient returns a Client for the OAuth2 client with the given credentials
// (RFC 6749 §2.3.1). Neither may be empty or contain control characters.
//
// By default the Client talks to [DefaultBaseURL] over a shared *http.Client
// that never follows redirects and uses a transport from [NewTransport]; a
// call whose ctx has no deadline is bounded by [DefaultTimeout]. Calls are
// retried under [DefaultRetryPolicy]. Options change these.
//
// NewClient sends nothing. It returns an error wrapping [ErrInvalidConfig] for
// bad input.
func NewClient(clientID, clientSecret string, opts ...Option) (*Client, error) {
	if err := checkCredential("client id", clientID); err != nil {
		return nil, err
	}
	if err := checkCredential("client secret", clientSecret); err != nil {
		return nil, err
	}
	cfg := config{
		baseURL:   DefaultBaseURL,
		scopes:    defaultScopes,
		userAgent: "cryptofuse-go/" + Version,
		retry:     DefaultRetryPolicy,
		clock:     systemClock,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	base, err := parseBaseURL(cfg.baseURL)
	if err != nil {
		return nil, err
	}

	c := &Client{
		baseURL:   base,
		revokeURL: base + "/o/revoke_token/",
		tokenURL:  base + "/o/token/",
		clientID:  clientID,
		userAgent: []string{cfg.userAgent},
		tokenForm: tokenForm(cfg.scopes),

		retry:      cfg.retry,
		logger:     cfg.logger,
		issueFirst: cfg.issueFirst,
		clock:      cfg.clock,
		hooks:      cfg.hooks,
		server:     serverOf(base),
	}

	creds := wire.BasicCredentials(clientID, clientSecret) // RFC 6749 §2.3.1
	c.secret = &clientCreds{
		authorization: []string{"Basic " + creds},
		redact:        clientSecrets(clientID, clientSecret),
	}
	c.introspectURL = base + "/o/introspect/"
	c.sealKeyName, c.sealScope, c.seal, err = sealParams(base, clientID, clientSecret, cfg.scopes)
	if err != nil {
		return nil, err
	}

	if cfg.httpClient == nil {
		c.hc = defaultHTTPClient()
	} else {
		hc := *cfg.httpClient // a copy: the caller's client is never mutated
		hc.CheckRedirect = refuseRedirect
		c.hc = &hc
	}
	c.boundCalls = c.hc.Timeout == 0
	return c, nil
}

// checkCredential rejects an empty credential or one with a control
// character, which is almost always a newline read from a file. The value
// itself never appears in the error.
func checkCredential(what, v string) error {
	if v == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalidConfig, what)
	}
	if i := strings.IndexFunc(v, isCTL); i >= 0 {
		return fmt.Errorf("%w: %s has a control character at byte %d (a trailing newline?)", ErrInvalidConfig, what, i)
	}
	return nil
}

// parseBaseURL validates a base URL and returns it without a trailing slash.
func parseBaseURL(raw string) (string, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: base URL: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the raw URL, which may hold user info
		}
		return "", bad("%v", err)
	}
	switch {
	case u.User != nil:
		return "", bad("must not carry user info; pass credentials to NewClient")
	case u.Scheme != "https" && u.Scheme != "http":
		return "", bad("%q is not absolute with scheme https (or http for a loopback host)", u.Redacted())
	case u.Opaque != "" || u.Hostname() == "":
		return "", bad("%q has no host", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery:
		return "", bad("%q must not carry a query: the server refuses one", u.Redacted())
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", bad("%q must not carry a fragment", u.Redacted())
	case !validPort(u.Port()):
		return "", bad("%q has an invalid port", u.Redacted())
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return "", bad("%q uses plain http for a host that is not loopback; use https", u.Redacted())
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// validPort reports whether p is empty or a TCP port number.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n > 0
}

// isLoopback reports whether host is "localhost" or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tokenForm is the client_credentials request body (RFC 6749 §4.4.2).
func tokenForm(scopes []string) string {
	form := "grant_type=client_credentials"
	if len(scopes) > 0 {
		form += "&scope=" + url.QueryEscape(strings.Join(scopes, " "))
	}
	return form
}

// Format implements [fmt.Formatter]. Every verb prints the same redacted
// summary, so no %v, %+v, %#v or %s of a Client (or of a *Client) can show
// the secret.
//
// Its receiver is a value, unlike every other method's, on purpose: with a
// pointer receiver, formatting a Client value (fmt.Print(*c)) would not call
// Format, and fmt would print the unexported fields, the credentials among
// them.
func (c Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "cryptofuse.Client{BaseURL:%q, ClientID:%q, ClientSecret:%s}", c.baseURL, c.clientID, redacted)
}

// clientCreds is what a Client derives from its credentials.
type clientCreds struct {
	authorization []string // "Basic " + base64(enc(id) ":" enc(secret))
	// redact holds the client secret and the base64 text of the Basic
	// credentials (clientSecrets in scrub.go), for the scrubber that cleans
	// server and transport text before it reaches an error or a log line.
	redact []string
}
