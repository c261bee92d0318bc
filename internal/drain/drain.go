// Package drain closes an HTTP response body after reading what is left of
// it, within a bound of size and one of time: net/http puts a connection
// back in its pool only when the body was read to its end, and a body that
// stalls (a 2xx whose Content-Length never arrives) or never ends must not
// hold a caller that already has its answer. The SDK's request path, its
// TokenSource transport and the examples drain every body they do not read
// to its end with Close.
package drain

import (
	"io"
	"net/http"
	"time"
)

const (
	// MaxSize is how much is read and discarded before closing a body;
	// past it the connection is closed rather than reused.
	MaxSize = 256 << 10
	// MaxTime bounds the drain in time: a body that stalls is closed after
	// it, and its connection with it. A body already buffered, or arriving
	// at any usable speed, is drained well within it.
	MaxTime = 100 * time.Millisecond
)

// Close reads up to MaxSize of what is left of body, for at most MaxTime,
// and closes it. http.NoBody (what net/http gives for an empty answer) is
// only closed: draining it would cost allocations on every call.
//
// When the time is up, a timer closes the body while the drain may be
// blocked in Read: net/http's response bodies allow that (HTTP/1 closes the
// connection, HTTP/2 resets the stream) and the Read returns at once.
func Close(body io.ReadCloser) {
	if body != http.NoBody {
		stop := time.AfterFunc(MaxTime, func() { _ = body.Close() })
		_, _ = io.CopyN(io.Discard, body, MaxSize)
		stop.Stop()
	}
	_ = body.Close()
}
