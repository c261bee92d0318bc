// Package cryptofuse is a client for Cryptofuse's OAuth2 token endpoints: it
// revokes tokens (OAuth 2.0 Token Revocation, RFC 7009) and issues and rotates
// a service's own token with the client credentials grant (RFC 6749 §4.4).
//
// A [Client] holds the service's client credentials and sends them with HTTP
// Basic authentication, form-encoded as RFC 6749 §2.3.1 requires. It is safe
// for concurrent use and meant to be built once and shared:
//
//	c, err := cryptofuse.NewClient(id, secret)
//	...
//	err = c.Revoke(ctx, accessToken, cryptofuse.AccessTokenHint)
//
// Every answer that is not a success is an [*Error], which [errors.Is] matches
// against the RFC 6749 §5.2 error codes ([ErrInvalidClient] and the others).
// Transport failures wrap their cause, so errors.Is(err,
// context.DeadlineExceeded) works. No error, and no formatting of a [Client] or
// a [Token], ever contains the client secret or a token.
//
// Calls retry what a later attempt can fix (a dropped connection, 429, 503
// and, for Revoke, other 5xx), with jittered backoff and Retry-After, within
// the context's deadline; see [RetryPolicy]. [WithLogger] logs each attempt;
// without it the package logs nothing.
//
// The package cryptofusetest provides an in-memory fake server for tests,
// which can also inject faults.
package cryptofuse

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Read caps. Every body read is bounded, and what is left over is drained up
// to a bound so that the connection can go back to the pool.
const (
	// maxBodySize caps a successful token answer (as x/oauth2 does).
	maxBodySize = 1 << 20
	// maxErrorBodySize caps an error answer: RFC 6749 §5.2 JSON is tiny, and
	// a proxy's HTML page is not read further than this.
	maxErrorBodySize = 64 << 10
	// maxDrainSize is how much more is read and discarded before closing a
	// body; past it the connection is closed rather than reused.
	maxDrainSize = 256 << 10
)

// Operation names, as in [Error.Op].
const (
	opRevoke = "revoke"
	opToken  = "token"
)

// Header values shared by every request. They are never mutated.
var formContentType = []string{"application/x-www-form-urlencoded"}

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
	authorization []string // "Basic " + base64(enc(id) ":" enc(secret))
	userAgent     []string

	tokenForm string // the client_credentials request body

	hc *http.Client
	// boundCalls makes send apply DefaultTimeout to a ctx without a deadline;
	// it is true when hc has no Timeout of its own.
	boundCalls bool

	retry      RetryPolicy  // with its defaults filled in
	logger     *slog.Logger // nil: no logging
	issueFirst bool         // RotateToken's order

	// redact holds the secret in the forms it could come back in: raw,
	// form-encoded and as the Basic credentials. It is used only to scrub
	// server-provided text before it reaches an *Error.
	redact []string
}

// NewClient returns a Client for the OAuth2 client with the given credentials
// (RFC 6749 §2.3.1). Neither may be empty or contain control characters.
//
// By default the Client talks to [DefaultBaseURL] over a shared *http.Client
// that never follows redirects, opens at most 64 connections per host (a
// 65th simultaneous call waits for one), keeps them all when idle, and
// bounds the dial, TLS handshake and response headers; a call whose ctx has
// no deadline is bounded by [DefaultTimeout]. Calls are retried under
// [DefaultRetryPolicy]. Options change these.
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
	}

	// RFC 6749 §2.3.1: each part is form-encoded before they are joined,
	// so that a ':' in the id, or a '+' or '%' in the secret, survives the
	// server's unquote_plus.
	creds := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(clientSecret)))
	c.authorization = []string{"Basic " + creds}
	c.redact = append(secretForms(clientSecret), creds)

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

// secretForms lists s as it could be echoed back: raw and form-encoded.
func secretForms(s string) []string {
	if s == "" {
		return nil
	}
	forms := []string{s}
	if v := strings.ToValidUTF8(s, "\uFFFD"); v != s {
		forms = append(forms, v) // as a server that decoded it leniently echoes it
	}
	for _, f := range forms[:len(forms):len(forms)] {
		if esc := url.QueryEscape(f); esc != f {
			forms = append(forms, esc)
		}
	}
	return forms
}

// send runs one call: it POSTs form to endpoint with the client's
// credentials, attempt by attempt under the client's RetryPolicy, and returns
// the status of a 2xx answer, with its body when keepBody is set. A non-2xx
// answer is an *Error; a request that got no answer is a *connError.
//
// sent is the token in the request, if any: it is scrubbed, with the client
// secret, from every piece of server text that reaches an error.
//
// The whole call, waits included, runs under one deadline: the caller's, or
// DefaultTimeout when ctx has none and the *http.Client has no Timeout.
func (c *Client) send(ctx context.Context, op, endpoint, form string, keepBody bool, sent string) (int, []byte, error) {
	if ctx == nil {
		return 0, nil, fmt.Errorf("cryptofuse: %s: nil Context", op)
	}
	if c.hc == nil {
		return 0, nil, fmt.Errorf("cryptofuse: %s: Client not built by NewClient", op)
	}
	if c.boundCalls {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
			defer cancel()
		}
	}
	for n := 1; ; n++ {
		var start time.Time
		if c.logger != nil {
			start = time.Now()
		}
		status, body, err := c.attempt(ctx, op, endpoint, form, keepBody, sent)
		wait, stop := time.Duration(-1), ""
		if err != nil {
			wait, stop = c.retry.nextWait(ctx, op, n, err)
		}
		if c.logger != nil {
			c.logAttempt(ctx, op, n, status, start, err, wait, stop)
		}
		if err == nil {
			return status, body, nil
		}
		if wait < 0 {
			var cerr error
			if stop == stopContext {
				cerr = ctx.Err()
			}
			return 0, nil, finish(err, n, cerr)
		}
		if cerr := sleep(ctx, wait); cerr != nil {
			return 0, nil, finish(err, n, cerr)
		}
	}
}

// attempt is the one function in this package that sends an HTTP request.
// It sends one request, reads a capped body, drains and closes it, and turns
// a non-2xx answer into an *Error and a request without an answer into a
// *connError. For a 2xx answer it returns the status, and the body when
// keepBody is set. For an *Error it also returns the status, for the log.
func (c *Client) attempt(ctx context.Context, op, endpoint, form string, keepBody bool, sent string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
	if err != nil {
		return 0, nil, fmt.Errorf("cryptofuse: %s: %w", op, err)
	}
	req.Header["Authorization"] = c.authorization
	req.Header["Content-Type"] = formContentType
	req.Header["User-Agent"] = c.userAgent

	resp, err := c.hc.Do(req)
	if err != nil {
		// The cause is a *url.Error naming the endpoint (no secret is in
		// a URL).
		return 0, nil, &connError{op: op, err: err}
	}
	atEOF := false // the body was read to its end: nothing to drain
	defer func() { drainAndClose(resp.Body, atEOF) }()

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if !keepBody {
			return resp.StatusCode, nil, nil
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodySize+1))
		if err != nil {
			return 0, nil, fmt.Errorf("cryptofuse: %s: reading the %d response: %w", op, resp.StatusCode, readErr(ctx, err))
		}
		if len(body) > maxBodySize {
			return 0, nil, answerError(op, resp.StatusCode, fmt.Sprintf("response body is larger than %d bytes", maxBodySize), nil)
		}
		atEOF = true // ReadAll stopped short of the limit, at the body's end
		return resp.StatusCode, body, nil
	}

	// A broken error body still yields an *Error with the status, with the
	// read error as its cause (a deadline among them), and whatever RFC 6749
	// JSON could be read.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodySize))
	e := c.newError(op, resp, body, sent)
	if err != nil {
		e.err = readErr(ctx, err)
		e.detail = joinDetail(e.detail, "reading the response body: "+err.Error())
	}
	return resp.StatusCode, nil, e
}

// logAttempt writes the debug line of one attempt: its outcome, how long it
// took, and what follows (a wait before the next attempt, or why there is
// none). Every error in this package is free of secrets by construction, so
// its text may be logged.
func (c *Client) logAttempt(ctx context.Context, op string, n, status int, start time.Time, err error, wait time.Duration, stop string) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs,
		slog.String("op", op),
		slog.Int("attempt", n),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
	)
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	if wait >= 0 {
		attrs = append(attrs, slog.Duration("retry_wait", wait))
	} else if err != nil {
		attrs = append(attrs, slog.String("gave_up", stop))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "cryptofuse: attempt", attrs...)
}

// readErr adds the context's error to a body read that failed because the
// context ended, so that errors.Is(err, context.DeadlineExceeded) holds.
func readErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", err, cerr)
	}
	return err
}

// drainAndClose reads up to maxDrainSize of what is left of body, so the
// connection can be reused, and closes it. A body known to be at its end
// (atEOF, or http.NoBody for an empty answer) is only closed: draining it
// would cost an allocation on every successful call.
func drainAndClose(body io.ReadCloser, atEOF bool) {
	if !atEOF && body != http.NoBody {
		_, _ = io.CopyN(io.Discard, body, maxDrainSize)
	}
	_ = body.Close()
}

// Format implements [fmt.Formatter]. Every verb prints the same redacted
// summary, so no %v, %+v, %#v or %s of a Client (or of a *Client) can show
// the secret.
func (c Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "cryptofuse.Client{BaseURL:%q, ClientID:%q, ClientSecret:%s}", c.baseURL, c.clientID, redacted)
}

// redacted stands in for a secret in formatted output.
const redacted = "[redacted]"
