package cryptofusetest

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// Fault is how the server misbehaves for one request, queued with
// [Server.InjectFault]. A Fault is a plain value: InjectFault keeps its own
// copy.
//
// What a faulted request gets, in this order:
//
//  1. Delay, if set: the server waits that long before anything else. If
//     the client goes away, or the server is closed, during the wait, the
//     connection is dropped and the request goes no further.
//  2. Drop, if set: the connection is closed without a byte of response.
//  3. Status, if set: the canned answer below.
//  4. Otherwise (a Delay-only Fault) the real answer, after the delay. A
//     Fault with neither Delay, Drop nor Status changes nothing, but still
//     takes its requests and counts them in Counts.Faulted.
//
// Only a Delay-only Fault lets the request reach the real endpoint: a
// revocation answered with Status or dropped revoked nothing, and a token
// request answered so issued nothing.
type Fault struct {
	// Path limits the Fault to requests for this path, such as
	// [RevokePath], compared with the request's percent-decoded path; ""
	// matches any path.
	Path string

	// Delay makes the server wait this long before it drops or answers the
	// request. The wait stops early, and the connection is dropped, if the
	// client goes away (its request's context is done) or if the server is
	// closed.
	Delay time.Duration

	// Drop closes the TCP connection without writing any response, after
	// reading and discarding the request body: the client sees the
	// connection end (EOF, or a reset) before any response, as when a
	// proxy or the server process dies mid-request. The connection is
	// not reused. Drop wins over Status.
	Drop bool

	// Status, when not 0, answers with this status code instead of the real
	// answer, with the headers and body below. It must be 0 or in 200–999;
	// a 204 or 304 answer has no body.
	Status int

	// RetryAfter is the Retry-After header sent with Status, verbatim (an
	// integer of seconds, an HTTP date, or anything else a test wants the
	// client to cope with); "" sends none.
	RetryAfter string

	// ContentType is the Content-Type header sent with Status; "" sends
	// "text/html; charset=utf-8".
	ContentType string

	// Body is the body sent with Status; "" sends a short HTML page that
	// names the status, as a proxy's error page would.
	Body string

	// BodySize, if greater than the length of the body, makes the body
	// that many bytes long, Body (or the default page) repeated and the
	// last copy cut short. Content-Length is BodySize. The body is
	// streamed, never held in memory whole, so a test can send hundreds
	// of MiB; the stream stops when the client goes away or the server is
	// closed.
	BodySize int64

	// Every faults one in every Every requests the Fault takes (the
	// Every-th, the 2*Every-th, ...) and lets the others through
	// untouched; 0 or 1 faults each one. The n of InjectFault counts the
	// faulted requests only.
	Every int

	// OncePerToken limits the Fault to the first request that carries
	// each distinct `token` parameter (in the body or the query string, as
	// the revocation and introspection endpoints read it): a client's
	// retry with the same token then goes through. A request without a
	// token does not match. The server reads the token without consuming
	// the body, so a request that goes on to the endpoint is unchanged.
	OncePerToken bool
}

// InjectFault makes the server apply f to the next n requests that match it
// (n < 0: every matching request until [Server.ClearFaults]; n == 0 does
// nothing). Faults queue in order: a request takes the first queued Fault
// whose Path (and, with OncePerToken, token) matches it, and only that one;
// a Fault is removed from the queue once it has faulted n requests. A
// request that matches no Fault is answered normally.
//
// A faulted request is still counted in [Counts] by its path, and in
// Counts.Faulted as well; a request that a Fault let through (see Every)
// counts only by its path.
//
// InjectFault panics if f.Status is neither 0 nor in 200–999. It is safe
// for concurrent use, also while requests are being served.
func (s *Server) InjectFault(n int, f Fault) {
	if f.Status != 0 && (f.Status < 200 || f.Status > 999) {
		panic(fmt.Sprintf("cryptofusetest: InjectFault: status %d is not in 200-999", f.Status))
	}
	if n == 0 {
		return
	}
	if n < 0 {
		n = -1
	}
	s.faults.add(&faultEntry{f: f, left: n, tokens: map[string]struct{}{}})
}

// ClearFaults removes every queued Fault. Requests that already took a Fault
// (one waiting out a Delay, or streaming a body) carry on with it. It is
// safe for concurrent use.
func (s *Server) ClearFaults() {
	s.faults.clear()
}

// faultQueue holds the queued faults and what a fault in progress needs to
// know when the server closes. It is safe for concurrent use.
//
// Like store, it keeps its mutable state a pointer further away, so that
// printing a Server never prints a token a fault has seen.
type faultQueue struct {
	closing chan struct{} // closed by close; never reassigned
	mu      sync.Mutex
	d       *faultData
}

type faultData struct {
	entries []*faultEntry
	closed  bool
	streams map[net.Conn]struct{} // connections streaming a BodySize body
}

// faultEntry is one queued Fault and its progress.
type faultEntry struct {
	f      Fault
	left   int                 // faults still to apply; -1: no limit
	seen   int                 // requests taken, for Every
	tokens map[string]struct{} // tokens seen, for OncePerToken
}

func newFaultQueue() *faultQueue {
	return &faultQueue{closing: make(chan struct{}), d: &faultData{streams: map[net.Conn]struct{}{}}}
}

func (q *faultQueue) add(e *faultEntry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.d.entries = append(q.d.entries, e)
}

func (q *faultQueue) clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.d.entries = nil
}

// take finds the first queued fault that matches a request for path and
// decides whether it faults the request. token is the request's token
// parameter, if haveToken; when a fault needs it and it is not yet known,
// take changes nothing and reports needToken, and the caller calls take
// again with the token.
func (q *faultQueue) take(path, token string, haveToken bool) (f Fault, faulted, needToken bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, e := range q.d.entries {
		if e.f.Path != "" && e.f.Path != path {
			continue
		}
		if e.f.OncePerToken {
			if !haveToken {
				return Fault{}, false, true
			}
			if _, seen := e.tokens[token]; seen || token == "" {
				continue
			}
			e.tokens[token] = struct{}{}
		}
		e.seen++
		if every := max(e.f.Every, 1); e.seen%every != 0 {
			return Fault{}, false, false
		}
		if e.left > 0 {
			e.left--
			if e.left == 0 {
				q.d.entries = append(q.d.entries[:i:i], q.d.entries[i+1:]...)
			}
		}
		return e.f, true, false
	}
	return Fault{}, false, false
}

// close wakes every fault waiting out a Delay and cuts off every body being
// streamed, so that the server can shut down. It is safe to call more than
// once.
func (q *faultQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.d.closed {
		return
	}
	q.d.closed = true
	close(q.closing)
	for c := range q.d.streams {
		_ = c.Close()
	}
}

// track records a connection that streams a body, so that close can cut it
// off. It reports false if the server is already closing.
func (q *faultQueue) track(c net.Conn) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.d.closed {
		return false
	}
	q.d.streams[c] = struct{}{}
	return true
}

func (q *faultQueue) untrack(c net.Conn) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.d.streams, c)
}

// connKey is the context key under which withConn stores a request's
// connection.
type connKey struct{}

// withConn is the http.Server's ConnContext hook: it makes a request's
// connection known to its handler, for close to cut off a stream.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}
