package cryptofusetest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// injectFaults applies the first queued fault that matches a request, and
// passes on to next a request that no fault changes.
func (s *Server) injectFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var token string
		haveToken := false
		for {
			f, faulted, needToken := s.faults.take(r.URL.Path, token, haveToken)
			if needToken {
				token, haveToken = requestToken(r), true
				continue
			}
			if !faulted {
				next.ServeHTTP(w, r)
				return
			}
			s.st.countFault()
			s.applyFault(w, r, f, next)
			return
		}
	})
}

// applyFault misbehaves as f says (see Fault).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault, next http.Handler) {
	realAnswer := !f.Drop && f.Status == 0
	switch {
	case !realAnswer:
		// Read the whole body first, so that the client is not cut off
		// while sending, and so that the server notices when the client
		// goes away (net/http watches the connection once the body is
		// read).
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDrainBytes))
	case f.Delay > 0:
		bufferBody(r) // the same, keeping the body for the endpoint
	}
	if f.Delay > 0 && !s.wait(r.Context(), f.Delay) {
		drop(w)
		return
	}
	switch {
	case f.Drop:
		drop(w)
	case f.Status != 0:
		s.writeFault(w, r, f)
	default:
		next.ServeHTTP(w, r)
	}
}

// wait waits for d, and reports false if the client went away or the
// server began to close first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.faults.closing:
		return false
	}
}

// drop closes the request's connection without writing anything. It takes
// the connection over from net/http (http.Hijacker), which then neither
// answers nor reuses it. Where that is impossible, it aborts the handler,
// which makes net/http close the connection too.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// bufferBody reads the start of a request body, up to the most a endpoint
// reads, and puts it back in front of the rest, so that the endpoint
// reads the same body. It returns the bytes read.
func bufferBody(r *http.Request) []byte {
	buf, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	return buf
}

// requestToken returns the token parameter of a request, as the revocation
// endpoint reads it, without consuming the body. It returns "" for a
// request without one, and for a body the endpoint would refuse.
func requestToken(r *http.Request) string {
	buf := bufferBody(r)
	c := r.WithContext(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(buf))
	post, err := postParams(c, strings.ToUpper(r.Method))
	if err != nil {
		return ""
	}
	p, ok := oauthlibParams(r.URL.RawQuery, post)
	if !ok {
		return ""
	}
	return p["token"]
}

// streamChunk is about how many bytes of a BodySize body are written at a
// time.
const streamChunk = 32 << 10

// writeFault sends the canned answer of a Fault with a Status.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, f Fault) {
	h := w.Header()
	contentType := f.ContentType
	if contentType == "" {
		contentType = contentTypeHTML
	}
	h.Set("Content-Type", contentType)
	if f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	if f.Status == http.StatusNoContent || f.Status == http.StatusNotModified {
		w.WriteHeader(f.Status)
		return
	}
	body := f.Body
	if body == "" {
		body = faultPage(f.Status)
	}
	size := max(int64(len(body)), f.BodySize)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(f.Status)
	if size == int64(len(body)) {
		_, _ = io.WriteString(w, body)
		return
	}
	s.stream(w, r, body, size)
}

// stream writes size bytes of body repeated, a chunk at a time, and stops
// early when the client goes away or the server closes. A body cut short
// leaves the response shorter than its Content-Length, so net/http closes
// the connection and the client sees an unexpected EOF.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, body string, size int64) {
	if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
		if !s.faults.track(c) {
			return
		}
		defer s.faults.untrack(c)
	}
	// A chunk holds whole copies of body, so that chunk after chunk
	// continues the repetition where the last one stopped.
	chunk := []byte(strings.Repeat(body, max(1, streamChunk/len(body))))
	for left := size; left > 0; {
		select {
		case <-r.Context().Done():
			return
		case <-s.faults.closing:
			return
		default:
		}
		n := min(left, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			return
		}
		left -= n
	}
}

// faultPage is the default body of a Fault with a Status: a short HTML page
// such as a proxy sends, naming the status.
func faultPage(status int) string {
	name := strconv.Itoa(status)
	if text := http.StatusText(status); text != "" {
		name += " " + text
	}
	return "<!doctype html>\n<html>\n<head><title>" + name + "</title></head>\n<body>\n<h1>" + name + "</h1>\n</body>\n</html>\n"
}
