package cryptofuse

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Issue 11, item 3: a 2xx token answer cut off mid-body means a token was
// probably issued and its answer lost. The caller gets an *Error with the
// status and the read error as its cause, and the call is not retried.

// cutServer answers each request with head and closes the connection.
func cutServer(t *testing.T, head string) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				n.Add(1)
				_, _ = io.WriteString(conn, head)
			}()
		}
	}()
	return "http://" + ln.Addr().String(), &n
}

func TestTokenAnswerCutOff(t *testing.T) {
	const half = `{"access_token":"AT-half-issued-0123`
	cases := []struct {
		name string
		head string
	}{
		{"Content-Length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n" + half},
		{"chunked", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + half},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, requests := cutServer(t, tc.head)
			c, err := NewClient("id", "secret", WithBaseURL(url), withClock(clock{sleep: noSleep}))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := c.Token(context.Background())
			if tok != nil {
				t.Errorf("got a token, want none")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T %v, want an *Error", err, err)
			}
			if e.StatusCode != http.StatusOK || e.Op != "token" {
				t.Errorf("got Op %q, StatusCode %d, want token, 200", e.Op, e.StatusCode)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("got %v, want it to wrap io.ErrUnexpectedEOF", err)
			}
			if got := requests.Load(); got != 1 {
				t.Errorf("got %d requests, want 1: a token may have been issued", got)
			}
			if strings.Contains(err.Error(), "AT-half") {
				t.Errorf("%q shows the partial token", err.Error())
			}
		})
	}
}
