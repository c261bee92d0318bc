package cryptofuse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

const (
	a2ID     = "a2-client"
	a2Secret = "a2SECRETvalue-1234567890abcdef"
)

// a2RT wraps the fake server's transport: it records every access token the
// token endpoint issued and every token sent to the revocation endpoint.
type a2RT struct {
	base    http.RoundTripper
	mu      sync.Mutex
	issued  []string
	revoked map[string]int
	// late, when set, makes a token request whose ctx is done be sent
	// anyway, with the answer handed back as if it arrived late.
	late atomic.Bool
	// gate, when not nil, holds token requests until closed or their ctx ends.
	gate chan struct{}
	// rewrite, when set, replaces the access token issued.
	same string
}

func a2NewRT(base http.RoundTripper) *a2RT { return &a2RT{base: base, revoked: map[string]int{}} }

func (r *a2RT) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case strings.HasSuffix(req.URL.Path, cryptofusetest.TokenPath):
		if r.gate != nil {
			select {
			case <-r.gate:
			case <-req.Context().Done():
				if !r.late.Load() {
					return nil, req.Context().Err()
				}
				req = req.WithContext(context.WithoutCancel(req.Context()))
			}
		}
		resp, err := r.base.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			if at, ok := m["access_token"].(string); ok {
				if r.same != "" {
					m["access_token"] = r.same
					at = r.same
					body, _ = json.Marshal(m)
					resp.ContentLength = int64(len(body))
					resp.Header.Del("Content-Length")
				}
				r.mu.Lock()
				r.issued = append(r.issued, at)
				r.mu.Unlock()
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	case strings.HasSuffix(req.URL.Path, cryptofusetest.RevokePath):
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		if v, err := url.ParseQuery(string(b)); err == nil {
			r.mu.Lock()
			r.revoked[v.Get("token")]++
			r.mu.Unlock()
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
		return r.base.RoundTrip(req)
	}
	return r.base.RoundTrip(req)
}

func (r *a2RT) Issued() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.issued...)
}

func (r *a2RT) Revoked(tok string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.revoked[tok]
}

// a2Env is a fake server and a client inside a synctest bubble.
type a2Env struct {
	srv *cryptofusetest.Server
	rt  *a2RT
	c   *cryptofuse.Client
}

func a2New(t *testing.T, srvOpts []cryptofusetest.Option, opts ...cryptofuse.Option) *a2Env {
	t.Helper()
	so := append([]cryptofusetest.Option{cryptofusetest.WithoutListener()}, srvOpts...)
	srv := cryptofusetest.NewServer(a2ID, a2Secret, so...)
	t.Cleanup(srv.Close)
	rt := a2NewRT(srv.Transport())
	all := append([]cryptofuse.Option{
		cryptofuse.WithBaseURL(srv.URL),
		cryptofuse.WithHTTPClient(&http.Client{Transport: rt}),
	}, opts...)
	c, err := cryptofuse.NewClient(a2ID, a2Secret, all...)
	if err != nil {
		t.Fatal(err)
	}
	return &a2Env{srv: srv, rt: rt, c: c}
}

func (e *a2Env) ts(t *testing.T, p cryptofuse.TokenPolicy) *cryptofuse.TokenSource {
	t.Helper()
	ts, err := e.c.TokenSource(p)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// a2Get calls the fake resource through ts's Transport.
func a2Get(ts *cryptofuse.TokenSource, base http.RoundTripper, url string) (int, error) {
	hc := &http.Client{Transport: ts.Transport(base)}
	resp, err := hc.Get(url)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// a2MapStore is an in-memory TokenStore with knobs for misbehaviour.
type a2MapStore struct {
	mu      sync.Mutex
	m       map[string][]byte
	gets    atomic.Int64
	puts    atomic.Int64
	deletes atomic.Int64
	// anyKey makes Get return the last record Put under any key.
	anyKey  bool
	last    []byte
	putErr  error
	mutate  bool
	garbage []byte
}

func (s *a2MapStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.gets.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.garbage != nil {
		return append([]byte(nil), s.garbage...), nil
	}
	if s.anyKey && s.last != nil {
		return append([]byte(nil), s.last...), nil
	}
	b, ok := s.m[key]
	if !ok {
		return nil, cryptofuse.ErrStoreMiss
	}
	return append([]byte(nil), b...), nil
}

func (s *a2MapStore) Put(ctx context.Context, key string, data []byte) error {
	s.puts.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = append([]byte(nil), data...)
	s.last = append([]byte(nil), data...)
	if s.mutate {
		for i := range data {
			data[i] ^= 0xff
		}
	}
	return s.putErr
}

func (s *a2MapStore) Delete(ctx context.Context, key string) error {
	s.deletes.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// a2HangStore blocks every call until release is closed, ignoring ctx.
type a2HangStore struct{ release chan struct{} }

func (s *a2HangStore) Get(ctx context.Context, key string) ([]byte, error) {
	<-s.release
	return nil, cryptofuse.ErrStoreMiss
}
func (s *a2HangStore) Put(ctx context.Context, key string, data []byte) error {
	<-s.release
	return nil
}
func (s *a2HangStore) Delete(ctx context.Context, key string) error {
	<-s.release
	return nil
}

// a2PanicStore panics in every call.
type a2PanicStore struct{}

func (a2PanicStore) Get(context.Context, string) ([]byte, error) { panic("a2 store get") }
func (a2PanicStore) Put(context.Context, string, []byte) error   { panic("a2 store put") }
func (a2PanicStore) Delete(context.Context, string) error        { panic("a2 store delete") }

// a2Handler is a slog handler that calls fn on every record.
type a2Handler struct{ fn func(slog.Record) }

func (h a2Handler) Enabled(context.Context, slog.Level) bool { return true }
func (h a2Handler) Handle(ctx context.Context, r slog.Record) error {
	h.fn(r)
	return nil
}
func (h a2Handler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h a2Handler) WithGroup(string) slog.Handler      { return h }

var errA2 = errors.New("a2 put failed")
