package cryptofuse

import (
	"context"
	"errors"
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

// The fleet's test doubles: fakeShared, a SharedStore in memory with an
// outage and lost notifications on demand, and fleetServer, a token server
// that counts what it issues and revokes and when. Both use the time
// package, so inside a testing/synctest bubble they run on its fake clock.

var errOutage = errors.New("fake store: unreachable")

type fakeLock struct {
	owner string
	until time.Time
}

type fakeShared struct {
	mu       sync.Mutex
	data     map[string][]byte
	locks    map[string]fakeLock
	members  map[string]map[string]time.Time
	watchers map[chan struct{}]bool
	down     bool // every call fails
	mute     bool // Watch never delivers (notification lost)
	calls    map[string]int
	changed  time.Time // of the last Put or Delete
}

func newFakeShared() *fakeShared {
	return &fakeShared{data: map[string][]byte{}, locks: map[string]fakeLock{},
		members: map[string]map[string]time.Time{}, watchers: map[chan struct{}]bool{}, calls: map[string]int{}}
}

// enter counts a call and fails it in an outage. s.mu is held.
func (s *fakeShared) enter(op string) error {
	s.calls[op]++
	if s.down {
		return errOutage
	}
	return nil
}

func (s *fakeShared) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("get"); err != nil {
		return nil, err
	}
	d, ok := s.data[key]
	if !ok {
		return nil, ErrStoreMiss
	}
	return d, nil
}

func (s *fakeShared) Put(_ context.Context, key string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("put"); err != nil {
		return err
	}
	s.data[key] = data
	s.notifyLocked()
	return nil
}

func (s *fakeShared) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("delete"); err != nil {
		return err
	}
	delete(s.data, key)
	s.notifyLocked()
	return nil
}

func (s *fakeShared) notifyLocked() {
	s.changed = time.Now()
	if s.mute {
		return
	}
	for ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (s *fakeShared) Lock(_ context.Context, key, owner string, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("lock"); err != nil {
		return err
	}
	if l, ok := s.locks[key]; ok && l.owner != owner && time.Now().Before(l.until) {
		return ErrLocked
	}
	s.locks[key] = fakeLock{owner: owner, until: time.Now().Add(ttl)}
	return nil
}

func (s *fakeShared) Unlock(_ context.Context, key, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("unlock"); err != nil {
		return err
	}
	if l, ok := s.locks[key]; ok && l.owner == owner {
		delete(s.locks, key)
	}
	return nil
}

func (s *fakeShared) Watch(ctx context.Context, key string) (<-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("watch"); err != nil {
		return nil, err
	}
	ch := make(chan struct{}, 1)
	s.watchers[ch] = true
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.watchers, ch)
		close(ch)
	})
	return ch, nil
}

func (s *fakeShared) Join(_ context.Context, key, member string, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("join"); err != nil {
		return err
	}
	if s.members[key] == nil {
		s.members[key] = map[string]time.Time{}
	}
	s.members[key][member] = time.Now().Add(ttl)
	return nil
}

func (s *fakeShared) Leave(_ context.Context, key, member string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("leave"); err != nil {
		return 0, err
	}
	delete(s.members[key], member)
	n := 0
	for _, until := range s.members[key] {
		if time.Now().Before(until) {
			n++
		}
	}
	return n, nil
}

func (s *fakeShared) set(f func(s *fakeShared)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// records reports how many records the store holds.
func (s *fakeShared) records() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.data)
}

// fleetServer is a token server for fleet tests: every token issued, and
// when each was revoked, how often.
type fleetServer struct {
	mu        sync.Mutex
	expiresIn int
	delay     time.Duration // before each token answer
	slowRev   time.Duration // before each revocation's answer (after it took effect)
	down      bool          // the token endpoint answers 503
	issued    []string
	issuedAt  map[string]time.Time
	revokedAt map[string]time.Time // the first revocation
	revokes   map[string]int
}

func newFleetServer(expiresIn int) *fleetServer {
	return &fleetServer{expiresIn: expiresIn, issuedAt: map[string]time.Time{},
		revokedAt: map[string]time.Time{}, revokes: map[string]int{}}
}

func (s *fleetServer) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	if r.URL.Path == tokenPath {
		s.mu.Lock()
		d := s.delay
		s.mu.Unlock()
		time.Sleep(d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case tokenPath:
		if s.down {
			return fleetAnswer(503, `{"error": "temporarily_unavailable"}`), nil
		}
		tok := fmt.Sprintf("FT-%d-0123456789abcdef", len(s.issued)+1)
		s.issued = append(s.issued, tok)
		s.issuedAt[tok] = time.Now()
		return fleetAnswer(200, fmt.Sprintf(`{"access_token": %q, "token_type": "Bearer", "expires_in": %d}`, tok, s.expiresIn)), nil
	case revokePath:
		tok := form.Get("token")
		if s.revokes[tok] == 0 {
			s.revokedAt[tok] = time.Now()
		}
		s.revokes[tok]++
		if d := s.slowRev; d > 0 {
			s.mu.Unlock()
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				s.mu.Lock()
				return nil, r.Context().Err()
			}
			s.mu.Lock()
		}
		return fleetAnswer(200, ""), nil
	}
	return fleetAnswer(404, ""), nil
}

// minted is how many tokens the server issued.
func (s *fleetServer) minted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.issued)
}

// tokens returns every token issued, in order.
func (s *fleetServer) tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// revokedWhen is when tok was first revoked.
func (s *fleetServer) revokedWhen(tok string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokedAt[tok]
}

// revoked reports whether tok was revoked at or before now, and how often.
func (s *fleetServer) revoked(tok string) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.revokedAt[tok]
	return ok && !time.Now().Before(at), s.revokes[tok]
}

// fleetSource returns a TokenSource of a new client of srv over store (nil:
// no store), with jitter as given (nil: none). The caller closes it.
func fleetSource(t *testing.T, srv *fleetServer, store TokenStore, p TokenPolicy, jitter func(int64) int64) *TokenSource {
	t.Helper()
	if jitter == nil {
		jitter = func(int64) int64 { return 0 }
	}
	c, err := NewClient(testID, testSecret, WithBaseURL(mockBase), WithHTTPClient(&http.Client{Transport: srv}),
		noRetry, withClock(clock{jitter: jitter}))
	require.NoError(t, err)
	p.Store = store
	ts, err := c.TokenSource(p)
	require.NoError(t, err)
	return ts
}

// fleetOf returns n TokenSources over one store, closed at the end.
func fleetOf(t *testing.T, n int, srv *fleetServer, store TokenStore, p TokenPolicy) []*TokenSource {
	t.Helper()
	out := make([]*TokenSource, n)
	for i := range out {
		out[i] = fleetSource(t, srv, store, p, nil)
	}
	t.Cleanup(func() {
		for _, ts := range out {
			_ = ts.Close(context.Background())
		}
	})
	return out
}

// handout records every token a fleet handed out to a caller, to check
// that none was revoked at that moment.
type handout struct {
	mu     sync.Mutex
	errs   int
	early  []string             // tokens handed out after their revocation
	last   map[string]time.Time // last hand-out of each token
	byInst []string             // the token each instance handed out last
}

func newHandout(n int) *handout {
	return &handout{last: map[string]time.Time{}, byInst: make([]string, n)}
}

// call asks instance i for a token and checks it against srv.
func (h *handout) call(t *testing.T, srv *fleetServer, i int, ts *TokenSource) {
	t.Helper()
	tok, err := ts.Token(context.Background())
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.errs++
		return
	}
	if gone, _ := srv.revoked(tok.AccessToken); gone {
		h.early = append(h.early, tok.AccessToken)
	}
	h.last[tok.AccessToken] = time.Now()
	h.byInst[i] = tok.AccessToken
}

// distinct is how many different tokens the instances hand out now.
func (h *handout) distinct() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for _, tok := range h.byInst {
		seen[tok] = true
	}
	return len(seen)
}

// callAll has every instance hand out a token every step, for d.
func (h *handout) callAll(t *testing.T, srv *fleetServer, fleet []*TokenSource, step, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i, ts := range fleet {
			h.call(t, srv, i, ts)
		}
		time.Sleep(step)
	}
}

func fleetAnswer(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body))}
}

func newHTTPClient(rt http.RoundTripper) *http.Client { return &http.Client{Transport: rt} }
