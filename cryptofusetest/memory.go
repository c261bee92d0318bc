package cryptofusetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
)

// unlistenedURL is the URL of a Server built with [WithoutListener]: a
// loopback address (so that a client that insists on https for other hosts
// accepts it) on the discard port, which nothing here ever dials.
const unlistenedURL = "http://127.0.0.1:9"

// maxMemoryBody caps a response body held by [Server.Transport]: a Fault's
// BodySize larger than this is cut off there, and the client reads an
// unexpected EOF, as when a streamed body is cut off on a socket.
const maxMemoryBody = 32 << 20

// WithoutListener makes [NewServer] open no socket and start no goroutine:
// the Server is reached only through [Server.Transport] (or
// [Server.Client]), which calls its handler directly. Its URL is
// "http://127.0.0.1:9", a loopback URL to pass to the SDK's WithBaseURL
// that is never dialled; a client that tries to reach it any other way
// fails to connect.
//
// This is the server for a testing/synctest bubble: built inside the
// bubble, it waits (a [Fault]'s Delay) and stamps token expiry (the default
// clock, time.Now) on the bubble's fake clock, and nothing in it blocks on
// the network, so time advances as soon as every goroutine of the bubble
// waits. A day of token rotations then runs in milliseconds:
//
//	synctest.Test(t, func(t *testing.T) {
//		srv := cryptofusetest.NewServer("id", "secret", cryptofusetest.WithoutListener())
//		defer srv.Close()
//		c, err := cryptofuse.NewClient("id", "secret",
//			cryptofuse.WithBaseURL(srv.URL),
//			cryptofuse.WithHTTPClient(srv.Client()))
//		// ... time.Sleep(24 * time.Hour) moves the fake clock at once ...
//	})
//
// [Counts].Connections stays 0: the transport opens no connection.
func WithoutListener() Option {
	return func(c *config) { c.noListener = true }
}

// Transport returns an http.RoundTripper that answers every request with
// this Server's handler, called directly in the caller's goroutine, with
// no socket: the request's scheme and host are ignored, and its path,
// query, headers and body are served as a request that arrived on the
// listener would be (counted in [Counts], given the faults queued with
// [Server.InjectFault]). It works for a Server with or without a listener
// ([WithoutListener]).
//
// The answer is recorded whole before RoundTrip returns it (a body a Fault
// makes larger than 32 MiB is cut off there, and reading it ends with
// io.ErrUnexpectedEOF). A Fault's Drop makes RoundTrip return an error
// wrapping io.EOF, as a connection closed before any answer does; its Delay
// waits on the request's context, so a cancelled or expired context ends
// it. The request's body is always closed.
//
// The RoundTripper is safe for concurrent use by multiple goroutines.
func (s *Server) Transport() http.RoundTripper {
	return memoryTransport{s: s, maxBody: maxMemoryBody}
}

// Client returns an *http.Client whose Transport is [Server.Transport],
// and which does not follow redirects (http.ErrUseLastResponse), as the
// SDK's clients do not. Each call returns a new Client.
func (s *Server) Client() *http.Client {
	return &http.Client{
		Transport:     s.Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// memoryTransport is the RoundTripper of Server.Transport.
type memoryTransport struct {
	s       *Server
	maxBody int // the cap on a recorded body: maxMemoryBody, less in tests
}

// errDropped is the cause of a request whose connection a Fault dropped.
var errDropped = fmt.Errorf("cryptofusetest: connection closed before any answer (Fault.Drop): %w", io.EOF)

func (m memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	defer body.Close()
	if err := req.Context().Err(); err != nil {
		return nil, err
	}

	// The request as a server sees it: a URL of path and query only, the
	// body as sent, a copy of the headers.
	sr := req.Clone(req.Context())
	sr.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	sr.RequestURI = sr.URL.RequestURI()
	sr.Proto, sr.ProtoMajor, sr.ProtoMinor = "HTTP/1.1", 1, 1
	sr.Host = req.Host
	if sr.Host == "" {
		sr.Host = req.URL.Host
	}
	sr.RemoteAddr = "127.0.0.1:1"
	sr.Body = body
	sr.ContentLength = req.ContentLength
	if sr.ContentLength == 0 && body != http.NoBody {
		sr.ContentLength = -1 // unknown, as for a chunked body
	}

	rec := &cappedRecorder{ResponseRecorder: httptest.NewRecorder(), max: m.maxBody}
	if dropped := m.serve(rec, sr); dropped {
		if err := req.Context().Err(); err != nil {
			return nil, err // the client went away during a Delay
		}
		return nil, errDropped
	}
	res := rec.Result()
	res.Request = req
	n := int64(rec.Body.Len())
	switch {
	case req.Method == http.MethodHead || n == 0 && res.ContentLength <= 0:
		res.Body = http.NoBody
	case res.ContentLength > n:
		res.Body = io.NopCloser(io.MultiReader(bytes.NewReader(rec.Body.Bytes()), truncated{}))
	}
	return res, nil
}

// serve runs the handler and reports whether it aborted (a Fault's Drop,
// through http.ErrAbortHandler, as net/http's server treats it). Any other
// panic goes on.
func (m memoryTransport) serve(w http.ResponseWriter, r *http.Request) (dropped bool) {
	defer func() {
		if v := recover(); v != nil {
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				dropped = true
				return
			}
			panic(v)
		}
	}()
	m.s.h.ServeHTTP(w, r)
	return false
}

// cappedRecorder is an httptest.ResponseRecorder that refuses to hold more
// than max bytes of body.
type cappedRecorder struct {
	*httptest.ResponseRecorder
	max int
}

func (c *cappedRecorder) Write(p []byte) (int, error) {
	if left := c.max - c.Body.Len(); len(p) > left {
		n, _ := c.ResponseRecorder.Write(p[:max(left, 0)])
		return n, io.ErrShortWrite
	}
	return c.ResponseRecorder.Write(p)
}

func (c *cappedRecorder) WriteString(s string) (int, error) { return c.Write([]byte(s)) }

// truncated ends a body that is shorter than its Content-Length.
type truncated struct{}

func (truncated) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
