package cryptofuse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
	// maxDrainTime bounds the drain in time: a body that stalls (a 2xx
	// revoke whose Content-Length never arrives) is closed after it, and
	// its connection with it, rather than holding a call that has its
	// answer. A body already buffered, or arriving at any usable speed, is
	// drained well within it.
	maxDrainTime = 100 * time.Millisecond
)

// Operation names, as in [Error.Op].
const (
	opRevoke = "revoke"
	opToken  = "token"
)

// Header values shared by every request. They are never mutated.
var formContentType = []string{"application/x-www-form-urlencoded"}

// call is one request that send makes: what to POST where, and what to do
// with the answer.
type call struct {
	op       string // opRevoke or opToken
	endpoint string // the full URL
	form     string // the form-encoded body
	keepBody bool   // return the body of a 2xx answer
	// sent is the token in the request, if any: it is scrubbed, with the
	// client secret, from every piece of server text that reaches an error.
	sent string
}

// send runs one call: it POSTs the call's form to its endpoint with the
// client's credentials, attempt by attempt under the client's RetryPolicy,
// and returns the status of a 2xx answer, with its body when the call keeps
// it. A non-2xx answer is an *Error; a request that got no answer is a
// *connError.
//
// The whole call, waits included, runs under one deadline: the caller's, or
// the call timeout ([DefaultTimeout]) when ctx has none and the *http.Client
// has no Timeout.
func (c *Client) send(ctx context.Context, k call) (int, []byte, error) {
	if ctx == nil {
		return 0, nil, &plainError{msg: k.op + ": nil Context"}
	}
	if c.hc == nil {
		return 0, nil, &plainError{msg: k.op + ": Client not built by NewClient"}
	}
	if c.boundCalls {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.clock.timeout)
			defer cancel()
		}
	}
	for n := 1; ; n++ {
		var start time.Time
		if c.logger != nil {
			start = c.clock.now()
		}
		status, body, err := c.attempt(ctx, k)
		wait, stop := time.Duration(-1), ""
		if err != nil {
			wait, stop = c.retry.nextWait(ctx, &c.clock, k.op, n, err)
		}
		if c.logger != nil {
			c.logAttempt(ctx, k.op, n, status, start, err, wait, stop)
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
		if cerr := c.clock.sleep(ctx, wait); cerr != nil {
			return 0, nil, finish(err, n, cerr)
		}
	}
}

// attempt is the one function in this package that sends an HTTP request.
// It sends one request, reads a capped body, drains and closes it, and turns
// a non-2xx answer into an *Error and a request without an answer into a
// *connError. For a 2xx answer it returns the status, and the body when the
// call keeps it. For an *Error it also returns the status, for the log.
func (c *Client) attempt(ctx context.Context, k call) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.endpoint, strings.NewReader(k.form))
	if err != nil {
		return 0, nil, &plainError{msg: k.op, err: err}
	}
	req.Header["Authorization"] = c.authorization
	req.Header["Content-Type"] = formContentType
	req.Header["User-Agent"] = c.userAgent

	resp, err := c.hc.Do(req)
	if err != nil {
		// The cause is a *url.Error naming the endpoint (no secret is in
		// a URL), but net/http's text may quote the server's bytes (a
		// malformed status line or header): it is scrubbed.
		return 0, nil, c.connError(ctx, k, err)
	}
	atEOF := false // the body was read to its end: nothing to drain
	defer func() { drainAndClose(resp.Body, atEOF) }()

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if !k.keepBody {
			return resp.StatusCode, nil, nil
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodySize+1))
		if err != nil {
			// A token may have been issued and its answer lost: the
			// status tells the caller so.
			return 0, nil, answerError(k.op, resp.StatusCode, "reading the response body: "+c.scrubber(k.sent)(err.Error()), readErr(ctx, err))
		}
		if len(body) > maxBodySize {
			return 0, nil, answerError(k.op, resp.StatusCode, fmt.Sprintf("response body is larger than %d bytes", maxBodySize), nil)
		}
		atEOF = true // ReadAll stopped short of the limit, at the body's end
		return resp.StatusCode, body, nil
	}

	// A broken error body still yields an *Error with the status, with the
	// read error as its cause (a deadline among them), and whatever RFC 6749
	// JSON could be read.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodySize))
	e := c.newError(k.op, resp, body, k.sent)
	if err != nil {
		e.err = readErr(ctx, err)
		e.detail = joinDetail(e.detail, "reading the response body: "+c.scrubber(k.sent)(err.Error()))
	}
	return resp.StatusCode, nil, e
}

// connError builds the *connError of an attempt that got no answer. When
// the transport's text held a secret, the cause is replaced by its scrubbed
// text too, so that no unwrapping can reach the secret; the context's error,
// if it ended the attempt, stays reachable for errors.Is.
func (c *Client) connError(ctx context.Context, k call, err error) *connError {
	raw := err.Error()
	text := c.scrubber(k.sent)(raw)
	if text != raw {
		err = &scrubbedError{text: text, ctx: ctx.Err()}
	}
	return &connError{op: k.op, err: err, text: text}
}

// scrubbedError stands in for a transport error whose text held a secret.
type scrubbedError struct {
	text string
	ctx  error // the context's error, if any
}

func (e *scrubbedError) Error() string { return e.text }
func (e *scrubbedError) Unwrap() error { return e.ctx }

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
		slog.Duration("duration", c.clock.now().Sub(start)),
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

// drainAndClose reads up to maxDrainSize of what is left of body, for at
// most maxDrainTime, so the connection can be reused, and closes it. A body
// known to be at its end (atEOF, or http.NoBody for an empty answer, which
// is what django-oauth-toolkit's revoke answers with) is only closed:
// draining it would cost allocations on every successful call.
//
// When the time is up, the timer closes the body while the drain may be
// blocked in Read: net/http's response bodies allow that (HTTP/1 closes the
// connection, HTTP/2 resets the stream) and the Read returns at once.
func drainAndClose(body io.ReadCloser, atEOF bool) {
	if !atEOF && body != http.NoBody {
		stop := time.AfterFunc(maxDrainTime, func() { _ = body.Close() })
		_, _ = io.CopyN(io.Discard, body, maxDrainSize)
		stop.Stop()
	}
	_ = body.Close()
}
