//go:build go1.25

package cryptofuse

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Issue 11, item 2: a 2xx revoke whose body stalls must not hold Revoke
// until the deadline. Revoke returns maxDrainTime after the headers,
// whatever the body does.

// stallingBody is a response body that sends head and then blocks until it
// is closed, as a server that never sends the rest of its Content-Length.
type stallingBody struct {
	head   *strings.Reader
	closed chan struct{}
}

func newStallingBody(head string) *stallingBody {
	return &stallingBody{head: strings.NewReader(head), closed: make(chan struct{})}
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if b.head.Len() > 0 {
		return b.head.Read(p)
	}
	<-b.closed
	return 0, errors.New("read on closed body")
}

func (b *stallingBody) Close() error {
	select {
	case <-b.closed:
	default:
		close(b.closed)
	}
	return nil
}

// stallTransport answers every request with a 200 whose body stalls.
type stallTransport struct{ bodies chan *stallingBody }

func (st stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body := newStallingBody("partial")
	st.bodies <- body
	return &http.Response{
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Body:          body,
		ContentLength: 1000,
		Request:       req,
	}, nil
}

// TestRevokeStalledSuccessBody runs in a synctest bubble: time is fake, so
// the test measures the wait exactly and depends on no scheduling. Without
// the bound on the drain, Revoke blocks for ever on the body and synctest
// reports the deadlock.
func TestRevokeStalledSuccessBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := stallTransport{bodies: make(chan *stallingBody, 1)}
		c, err := NewClient("id", "secret", WithBaseURL("http://127.0.0.1:1"),
			WithHTTPClient(&http.Client{Transport: st}))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := c.Revoke(context.Background(), "tok", AccessTokenHint); err != nil {
			t.Errorf("got %v, want nil: the server answered 200", err)
		}
		if got := time.Since(start); got != maxDrainTime {
			t.Errorf("Revoke returned %v after the headers, want %v", got, maxDrainTime)
		}
		body := <-st.bodies
		select {
		case <-body.closed:
		default:
			t.Error("the stalled body was not closed")
		}
	})
}

// TestRevokeStalledSuccessBodyOverTCP is the same over a real connection,
// where net/http's body must give up its blocked Read when the drain's
// timer closes it. The server holds the body until the client has gone;
// the call has a deadline far beyond the test's patience only so that a
// broken drain shows as a failure, not as a hang.
func TestRevokeStalledSuccessBodyOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	clientGone := make(chan struct{})
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		buf := make([]byte, 4096)
		_, _ = conn.Read(buf) // the request, small enough for one read
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\npartial")
		_, _ = io.Copy(io.Discard, conn) // until the client closes
		close(clientGone)
	}()
	c, err := NewClient("id", "secret", WithBaseURL("http://"+ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Revoke(ctx, "tok", AccessTokenHint) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("got %v, want nil: the server answered 200", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Revoke still waits for the stalled body of a 200")
	}
	<-clientGone // the connection was closed, not left to the pool
}

// TestRevokeEmptySuccessBodyKeepsConnection: the DOT answer
// (Content-Length: 0) goes back to the pool, so two revokes use one
// connection.
func TestRevokeEmptySuccessBodyKeepsConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan struct{}, 8)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Length", "0")
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns <- struct{}{}
			}
		},
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c, err := NewClient("id", "secret", WithBaseURL("http://"+ln.Addr().String()),
		WithHTTPClient(&http.Client{Transport: NewTransport()}))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := c.Revoke(context.Background(), "tok", AccessTokenHint); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(conns); got != 1 {
		t.Errorf("got %d connections, want 1", got)
	}
}
