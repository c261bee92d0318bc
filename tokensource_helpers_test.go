package cryptofuse

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tokenServer is an in-memory token server, as an http.RoundTripper, for the
// TokenSource tests. It answers in the caller's goroutine, so that inside a
// testing/synctest bubble every wait it makes is on the bubble's fake clock.
type tokenServer struct {
	mu         sync.Mutex
	expiresIn  int           // of each new token; 0: none sent
	delay      time.Duration // before each token answer
	fail       int           // answer this many token requests with 503
	hold       chan struct{} // when set, token requests wait for it to close
	revokeHold chan struct{} // when set, revocations wait for it to close
	issued     []string      // every token issued, in order
	revoked    []string      // every revocation, in order
	resource   int           // requests to the API
	bodies     []string      // the bodies of the API requests
	rejectAll  bool          // the API answers 401 to every token
	rejected   map[string]bool
	tokenReqs  int
	repeat     bool     // answer with the last token issued again
	again      []string // answer with these tokens first, in order
	deaf       bool     // a held token request ignores its ctx
	revokeFail int      // answer this many revocations with 503
}

func newTokenServer(expiresIn int) *tokenServer { return &tokenServer{expiresIn: expiresIn} }

// client returns a Client of this server: no retries, no jitter.
func (s *tokenServer) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{
		WithBaseURL(mockBase),
		WithHTTPClient(&http.Client{Transport: s}),
		noRetry,
		withClock(clock{jitter: func(int64) int64 { return 0 }}),
	}, opts...)
	c, err := NewClient(testID, testSecret, opts...)
	require.NoError(t, err)
	return c
}

// source returns a TokenSource of a new client of this server, closed at
// the end of the test.
func (s *tokenServer) source(t *testing.T, p TokenPolicy, opts ...Option) *TokenSource {
	t.Helper()
	ts, err := s.client(t, opts...).TokenSource(p)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ts.Close(context.Background()) })
	return ts
}

func (s *tokenServer) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	form, _ := url.ParseQuery(string(body))
	switch r.URL.Path {
	case tokenPath:
		return s.token(r)
	case revokePath:
		s.mu.Lock()
		hold := s.revokeHold
		s.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.revokeFail > 0 {
			s.revokeFail--
			return answerWith(503, ""), nil
		}
		s.revoked = append(s.revoked, form.Get("token"))
		return answerWith(200, ""), nil
	default:
		return s.api(r, string(body)), nil
	}
}

func (s *tokenServer) token(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.tokenReqs++
	delay, hold := s.delay, s.hold
	s.mu.Unlock()
	if hold != nil {
		s.mu.Lock()
		deaf := s.deaf
		s.mu.Unlock()
		var done <-chan struct{}
		if !deaf {
			done = r.Context().Done()
		}
		select {
		case <-hold:
		case <-done:
			return nil, r.Context().Err()
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return answerWith(503, `{"error": "temporarily_unavailable"}`), nil
	}
	tok := fmt.Sprintf("AT-%d-0123456789abcdef", len(s.issued)+1)
	if s.repeat && len(s.issued) > 0 {
		tok = s.issued[len(s.issued)-1]
	}
	if len(s.again) > 0 {
		tok, s.again = s.again[0], s.again[1:]
	}
	s.issued = append(s.issued, tok)
	exp := ""
	if s.expiresIn > 0 {
		exp = fmt.Sprintf(`, "expires_in": %d`, s.expiresIn)
	}
	return answerWith(200, `{"access_token": "`+tok+`", "token_type": "Bearer"`+exp+`}`), nil
}

// api answers a request to the API: 200 for the latest token, 401 for any
// other or none.
func (s *tokenServer) api(r *http.Request, body string) *http.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resource++
	s.bodies = append(s.bodies, body)
	if r.URL.Path == "/redirect" {
		resp := answerWith(http.StatusFound, "")
		resp.Header.Set("Location", r.URL.Query().Get("to"))
		return resp
	}
	if n := len(s.issued); n > 0 && !s.rejectAll {
		latest := s.issued[n-1]
		if !s.rejected[latest] && r.Header.Get("Authorization") == "Bearer "+latest {
			return answerWith(200, "ok")
		}
	}
	resp := answerWith(401, "")
	resp.Header.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	return resp
}

func answerWith(status int, body string) *http.Response {
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
	}
}

// counts returns the token requests, the tokens issued and those revoked.
func (s *tokenServer) counts() (tokenReqs int, issued, revoked []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenReqs, append([]string(nil), s.issued...), append([]string(nil), s.revoked...)
}

func (s *tokenServer) set(f func(s *tokenServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// memStore is a TokenStore in memory, with failures on demand. It keeps the
// sealed records it is given; open reads one back with a client.
type memStore struct {
	hold    chan struct{} // when set, Put waits for it or for its ctx
	hang    chan struct{} // when set, every call waits for it, ignoring ctx
	hangs   bool          // the test sets hang inside its bubble
	panics  bool          // every call panics
	mu      sync.Mutex
	data    map[string][]byte
	loadErr error
	saveErr error
	loads   int
	saves   int
	deletes int
	lastKey string
}

// seal stores r sealed by c under key (c's own key when "").
func (m *memStore) seal(t *testing.T, c *Client, key string, r *record) {
	t.Helper()
	if key == "" {
		key = c.storeKey()
	}
	data, err := c.sealRecord(key, r)
	require.NoError(t, err)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[key] = data
}

// stored returns the token stored for c, or nil.
func (m *memStore) stored(c *Client) *Token {
	m.mu.Lock()
	data, ok := m.data[c.storeKey()]
	m.mu.Unlock()
	if !ok {
		return nil
	}
	r, err := c.openRecord(c.storeKey(), data)
	if err != nil {
		return nil
	}
	return r.Token
}

// misbehave waits on hang and panics, as the store was told to.
func (m *memStore) misbehave() {
	if m.hang != nil {
		<-m.hang
	}
	if m.panics {
		panic("store on fire")
	}
}

func (m *memStore) Get(_ context.Context, key string) ([]byte, error) {
	m.misbehave()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	m.lastKey = key
	if m.loadErr != nil {
		return nil, m.loadErr
	}
	if b, ok := m.data[key]; ok {
		return append([]byte(nil), b...), nil
	}
	return nil, ErrStoreMiss
}

func (m *memStore) Put(ctx context.Context, key string, data []byte) error {
	m.misbehave()
	if m.hold != nil {
		select {
		case <-m.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	m.lastKey = key
	if m.saveErr != nil {
		return m.saveErr
	}
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[key] = data
	return nil
}

func (m *memStore) Delete(_ context.Context, key string) error {
	m.misbehave()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deletes++
	delete(m.data, key)
	return nil
}

// stats returns the calls of each kind, and the token stored for c.
func (m *memStore) stats(c *Client) (loads, saves int, last *Token) {
	m.mu.Lock()
	loads, saves = m.loads, m.saves
	m.mu.Unlock()
	return loads, saves, m.stored(c)
}

// mustToken calls ts.Token and fails the test on an error.
func mustToken(t *testing.T, ts *TokenSource) string {
	t.Helper()
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	return tok.AccessToken
}
