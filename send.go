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

	"github.com/cryptofuse/cryptofuse-go/internal/drain"
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
	maxDrainSize = drain.MaxSize
	// maxDrainTime bounds the drain in time: a body that stalls (a 2xx
	// revoke whose Content-Length never arrives) is closed after it, and
	// its connection with it, rather than holding a call that has its
	// answer. A body already buffered, or arriving at any usable speed, is
	// drained well within it.
	maxDrainTime = drain.MaxTime
)

// Operation names, as in [Error.Op].
const (
	opRevoke     = "revoke"
	opToken      = "token"
	opIntrospect = "introspect"
)

// Header values shared by every request. They are never mutated.
var formContentType = []string{"application/x-www-form-urlencoded"}

// call is one request that send makes: what to POST where, and what to do
// with the answer.
type call struct {
	op       string // opRevoke, opToken or opIntrospect
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
	// The clock is read only for a logger or an Attempt hook: without
	// them an attempt costs no clock read.
	timed := c.logger != nil || c.hooks.Attempt != nil
	for n := 1; ; n++ {
		var start time.Time
		if timed {
			start = c.clock.now()
		}
		status, body, err := c.attempt(ctx, k)
		var took time.Duration
		if timed {
			took = c.clock.now().Sub(start)
		}
		wait, stop := time.Duration(-1), ""
		if err != nil {
			wait, stop = c.retry.nextWait(ctx, &c.clock, k.op, n, err)
		}
		if c.logger != nil {
			c.logAttempt(ctx, k.op, n, status, took, err, wait, stop)
		}
		if c.hooks.Attempt != nil {
			c.emitAttempt(ctx, &k, n, status, start, took, err, wait, stop)
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
	req.Header["Authorization"] = c.secret.authorization
	req.Header["Content-Type"] = formContentType
	req.Header["User-Agent"] = c.userAgent

	resp, err := c.hc.Do(req)
	if err != nil {
		// The cause is a *url.Error naming the endpoint (no secret is in
		// a URL), but net/http's text may quote the server's bytes (a
		// malformed status line or header): it is scrubbed.
		return 0, nil, c.connError(k, err)
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
			sc := c.scrubber(k.sent)
			return 0, nil, answerError(k.op, resp.StatusCode, "reading the response body: "+sc(err.Error()), scrubbed(readErr(ctx, err), sc))
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
		sc := c.scrubber(k.sent)
		e.err = scrubbed(readErr(ctx, err), sc)
		e.detail = joinDetail(e.detail, "reading the response body: "+sc(err.Error()))
	}
	return resp.StatusCode, nil, e
}

// connError builds the *connError of an attempt that got no answer. Its
// text is the transport's, scrubbed; what it is does not change: the retry
// decision is made on the transport's error itself, and errors.Is and
// errors.As see it through the scrubbed wrapper (scrubbed, in scrub.go).
func (c *Client) connError(k call, err error) *connError {
	shown := scrubbed(err, c.scrubber(k.sent))
	return &connError{op: k.op, err: shown, cause: err, text: shown.Error()}
}

// logAttempt writes the debug line of one attempt: its outcome, how long it
// took, and what follows (a wait before the next attempt, or why there is
// none). Every error in this package is free of secrets by construction, so
// its text may be logged.
func (c *Client) logAttempt(ctx context.Context, op string, n, status int, took time.Duration, err error, wait time.Duration, stop string) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs,
		slog.String("op", op),
		slog.Int("attempt", n),
		slog.Int("status", status),
		slog.Duration("duration", took),
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
// most maxDrainTime, so the connection can be reused, and closes it
// (internal/drain, which every drain in the module uses). A body known to
// be at its end (atEOF, or http.NoBody for an empty answer, which is what
// django-oauth-toolkit's revoke answers with) is only closed: draining it
// would cost allocations on every successful call.
func drainAndClose(body io.ReadCloser, atEOF bool) {
	if atEOF {
		_ = body.Close()
		return
	}
	drain.Close(body)
}
