package main

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// A bulk revocation stops early, rather than spend every token's retries,
// when its failures say that no token can succeed. The rules,
// also in revokeHelp and the README:
//
//   - invalid_client, at any time: the server refused the credentials.
//   - The first verdictSample outcomes are all failures with the same
//     verdict: a reason that is about the request or the client, never the
//     token (invalid_request, invalid_client, unauthorized_client, or a
//     401, 403, 404, 405 or redirect). With a non-ASCII client id, say, DOT
//     answers every request invalid_request. One success, or one other
//     outcome first, turns the rule off for the rest of the run.
//   - downRun failures in a row are all transient (no answer at all, a
//     timeout, 429 or 5xx), each after its own retries: the server or the
//     network is down. Any answer that is not transient (a success, a 4xx)
//     starts the count again.
//
// Tokens in flight when the run stops finish and are counted; the rest are
// not attempted. No token is counted revoked unless the server said so.
const (
	verdictSample = 3
	downRun       = 10
)

// failureClass says what a failure means for the other tokens, and whether
// re-running the same input can fix it.
type failureClass int

const (
	// classToken may be about this token alone (unsupported_token_type, a
	// plain 400): other tokens may succeed, and a re-run gets the same
	// answer for this one.
	classToken failureClass = iota
	// classTransient is the server or the network (no answer, a timeout,
	// 429, 5xx): a re-run later can fix it.
	classTransient
	// classVerdict is about the request or the credentials, the same for
	// every token: a re-run fixes it only once the configuration is fixed.
	classVerdict
)

// classify sorts a failed revocation, from the error's exported fields.
func classify(err error) failureClass {
	var e *cryptofuse.Error
	if !errors.As(err, &e) {
		return classTransient // no answer: refused, reset, DNS, timeout
	}
	switch {
	case e.StatusCode == http.StatusTooManyRequests, e.StatusCode >= 500,
		e.Code == "temporarily_unavailable", e.Code == "server_error":
		return classTransient
	case errors.Is(err, cryptofuse.ErrInvalidClient), errors.Is(err, cryptofuse.ErrInvalidRequest),
		errors.Is(err, cryptofuse.ErrUnauthorizedClient),
		e.StatusCode >= 300 && e.StatusCode < 400,
		e.StatusCode == http.StatusUnauthorized, e.StatusCode == http.StatusForbidden,
		e.StatusCode == http.StatusNotFound, e.StatusCode == http.StatusMethodNotAllowed:
		return classVerdict
	}
	return classToken
}

// errBadCredentials stops a run whose credentials the server refused.
var errBadCredentials = errors.New("the server refused the client credentials (invalid_client)")

// verdictStop stops a run whose first requests all failed with the same
// verdict.
type verdictStop struct {
	n      int
	reason string
}

func (e *verdictStop) Error() string {
	return fmt.Sprintf("the first %d requests all failed with %s, which no token can change: check the credentials and the base URL, then re-run", e.n, e.reason)
}

// downStop stops a run whose recent requests all failed for want of a
// working server.
type downStop struct {
	n      int
	reason string // the last one's
}

func (e *downStop) Error() string {
	return fmt.Sprintf("%d requests in a row failed (the last with %s): the server or the network is down, not the tokens; re-run with the same input when it is back", e.n, e.reason)
}

// stopper applies the rules above to the outcomes of a run, in the order
// they complete. It is safe for concurrent use.
type stopper struct {
	mu          sync.Mutex
	sampling    bool // still within the first outcomes, all the same verdict
	sameVerdict int
	verdict     string
	transient   int // failures in a row, all transient
}

func newStopper() *stopper { return &stopper{sampling: true} }

// record adds one outcome: err nil for a revoked token, else the failure,
// its class and its reason. It returns why the run must stop, or nil.
func (s *stopper) record(err error, class failureClass, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.sampling, s.transient = false, 0
		return nil
	}
	if errors.Is(err, cryptofuse.ErrInvalidClient) {
		return errBadCredentials
	}
	if s.sampling {
		if class == classVerdict && (s.sameVerdict == 0 || reason == s.verdict) {
			s.sameVerdict++
			s.verdict = reason
			if s.sameVerdict == verdictSample {
				return &verdictStop{n: s.sameVerdict, reason: reason}
			}
		} else {
			s.sampling = false
		}
	}
	if class != classTransient {
		s.transient = 0
		return nil
	}
	s.transient++
	if s.transient == downRun {
		return &downStop{n: s.transient, reason: reason}
	}
	return nil
}
