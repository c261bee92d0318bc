package cryptofuse

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The promises of DESIGN.md "What a managed token must survive", each
// against what an outside check found in 0.2.0.

// credStore is a store whose fields hold a credential, as a Redis store's
// connection options do.
type credStore struct {
	*memStore
	Password string
}

// No fmt verb of a TokenSource or a TokenPolicy, pointer or value, prints a
// token or a credential, and formatting never races with a refresh (run
// under -race).
func TestTokenSource_Format(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(600)
		store := credStore{memStore: &memStore{}, Password: "store-password-0123"}
		ts := srv.source(t, TokenPolicy{Store: store, RevokeAfter: time.Second, RevokeOnClose: true})
		mustToken(t, ts)
		hold := make(chan struct{})
		srv.set(func(s *tokenServer) { s.hold = hold })
		advance(5 * time.Minute) // due: the next Token starts a refresh, held
		mustToken(t, ts)
		verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"}
		var wg sync.WaitGroup
		var outs sync.Map
		for _, verb := range verbs {
			wg.Go(func() {
				for range 10 {
					outs.Store(verb+" ptr", fmt.Sprintf(verb, ts))
					outs.Store(verb+" value", fmt.Sprintf(verb, *ts))
					outs.Store(verb+" policy", fmt.Sprintf(verb, ts.policy))
					outs.Store(verb+" policy ptr", fmt.Sprintf(verb, &ts.policy))
				}
			})
		}
		var logged bytes.Buffer
		jl := slog.New(slog.NewJSONHandler(&logged, nil))
		wg.Go(func() { jl.Info("x", "ts", ts, "value", *ts, "policy", ts.policy) })
		close(hold) // the refresh completes while formatting runs
		wg.Wait()
		synctest.Wait()
		_, issued, _ := srv.counts()
		require.Len(t, issued, 2, "a refresh ran")
		secrets := append(issued, testSecret, store.Password, strings.TrimPrefix(ts.c.secret.authorization[0], "Basic "))
		assertNoSecret(t, logged.String(), secrets...)
		assert.Contains(t, logged.String(), "credStore", "the JSON log names the policy")
		outs.Range(func(k, v any) bool {
			s := v.(string)
			assertNoSecret(t, s, secrets...)
			if strings.Contains(k.(string), "policy") {
				assert.Contains(t, s, "RevokeAfter:1s", k)
				assert.Contains(t, s, "credStore", k)
			} else {
				assert.Contains(t, s, `ClientID:"`+testID+`"`, k)
			}
			return true
		})
	})
}

// An API endpoint that answers 401 to every token gets at most one new
// token per backoff step, not one per request: the first rejection is
// answered at once, later ones after 0.5 s, 1 s, 2 s, ... (jitter 0), up to
// 30 s. Meanwhile callers get an error at once. With RevokeAfter and
// RevokeOnClose, every rejected token is revoked, once.
func TestTokenSource_401BackoffSteps(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		policy TokenPolicy
	}{
		{"default policy", TokenPolicy{}},
		{"RevokeAfter and RevokeOnClose", TokenPolicy{RevokeAfter: time.Second, RevokeOnClose: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv := newTokenServer(3600)
				srv.rejectAll = true
				ts := srv.source(t, tc.policy)
				hc := apiClient(srv, ts)
				var got401, gotErr int
				for range 100 {
					start := time.Now()
					resp, err := hc.Get(mockBase + "/api/")
					if err != nil {
						gotErr++
						assert.ErrorIs(t, err, errRejected)
						assert.Zero(t, time.Since(start), "an error at once, no wait")
					} else {
						resp.Body.Close()
						assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
						got401++
					}
					advance(time.Second)
				}
				// Tokens at 0 s (two: the first rejection is replaced at
				// once), then at the end of each step: 1, 2, 4, 8, 16, 32,
				// 62, 92 s.
				n, issued, _ := srv.counts()
				require.LessOrEqual(t, n, 10, "tokens minted for 100 requests rejected with 401")
				assert.Equal(t, 100, got401+gotErr)
				assert.Equal(t, n-1, got401, "one 401 per new token, with the first replay")

				if tc.policy.RevokeOnClose {
					require.NoError(t, ts.Close(context.Background()))
					_, _, revoked := srv.counts()
					assert.ElementsMatch(t, issued, revoked, "every rejected token revoked, once")
				}
			})
		})
	}
}

// The backoff steps end once a token has served: a later rejection is
// answered at once again.
func TestTokenSource_401StepsEndWhenATokenServes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		srv.rejectAll = true
		ts := srv.source(t, TokenPolicy{})
		hc := apiClient(srv, ts)
		get := func() (int, error) {
			resp, err := hc.Get(mockBase + "/api/")
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}
		for range 3 {
			_, _ = get()
			advance(time.Second)
		}
		advance(time.Minute) // past any step
		srv.set(func(s *tokenServer) { s.rejectAll = false })
		status, err := get()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "a new token serves")
		_, issued, _ := srv.counts()
		srv.set(func(s *tokenServer) { s.rejected = map[string]bool{issued[len(issued)-1]: true} })
		status, err = get()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, status, "rejected after serving: replaced at once")
	})
}

// A 401 on a request that cannot be replayed still invalidates the token:
// the next request gets a new one.
func TestTransport_401WithoutReplayInvalidates(t *testing.T) {
	t.Parallel()
	srv := newTokenServer(3600)
	ts := srv.source(t, TokenPolicy{})
	first := mustToken(t, ts)
	srv.set(func(s *tokenServer) { s.rejected = map[string]bool{first: true} })
	req, err := http.NewRequest(http.MethodPost, mockBase+"/api/write/", &closeRecorder{Reader: strings.NewReader("payload")})
	require.NoError(t, err)
	resp, err := ts.Transport(srv).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "not replayed")
	req, err = http.NewRequest(http.MethodGet, mockBase+"/api/", nil)
	require.NoError(t, err)
	resp, err = ts.Transport(srv).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the next request has a new token")
	assert.NotEqual(t, first, mustToken(t, ts))
	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Equal(t, 2, srv.resource, "API requests: the second went out with the new token at once")
}

// After Close with RevokeOnClose, the next start over the same store does
// not hand out the revoked token: it mints a new one.
func TestTokenSource_RevokeOnCloseLeavesTheStore(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		c := srv.client(t)
		store := &memStore{}
		ts, err := c.TokenSource(TokenPolicy{Store: store, RevokeOnClose: true})
		require.NoError(t, err)
		first := mustToken(t, ts)
		synctest.Wait()
		require.NotNil(t, store.stored(c), "saved")
		require.NoError(t, ts.Close(context.Background()))
		_, _, revoked := srv.counts()
		assert.Equal(t, []string{first}, revoked)
		assert.Nil(t, store.stored(c), "the revoked token left the store")

		ts2 := srv.source(t, TokenPolicy{Store: store})
		second := mustToken(t, ts2)
		assert.NotEqual(t, first, second, "the next start mints a new token")
		n, _, _ := srv.counts()
		assert.Equal(t, 2, n, "token requests")
	})
}

// A rejected token leaves the store: replaced by the new token, or deleted
// while no new one can be had.
func TestTokenSource_RejectedLeavesTheStore(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		c := srv.client(t)
		store := &memStore{}
		ts, err := c.TokenSource(TokenPolicy{Store: store})
		require.NoError(t, err)
		t.Cleanup(func() { _ = ts.Close(context.Background()) })
		first := mustToken(t, ts)
		synctest.Wait()
		srv.set(func(s *tokenServer) { s.fail = 1 })
		ts.Invalidate(first)
		_, err = ts.Token(context.Background())
		require.Error(t, err, "no token to be had")
		synctest.Wait()
		assert.Nil(t, store.stored(c), "the rejected token was deleted")
		advance(time.Second) // the backoff after the failure
		second := mustToken(t, ts)
		synctest.Wait()
		if got := store.stored(c); assert.NotNil(t, got) {
			assert.Equal(t, second, got.AccessToken, "the new token replaces it")
		}
	})
}

// Close spends its ctx on revocations first: a save that hangs (honouring
// its ctx) does not use it up.
func TestTokenSource_CloseRevokesBeforeTheLastSave(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		log, buf := logCapture(t)
		srv := newTokenServer(3600)
		store := &memStore{hold: make(chan struct{})} // never released
		ts, err := srv.client(t, WithLogger(log)).TokenSource(TokenPolicy{Store: store, RevokeAfter: time.Hour})
		require.NoError(t, err)
		first := mustToken(t, ts)
		_, err = ts.Rotate(context.Background())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		require.NoError(t, ts.Close(ctx), "the revocation had the time")
		assert.Equal(t, time.Second, time.Since(start), "the last save waited until ctx ended")
		_, _, revoked := srv.counts()
		assert.Equal(t, []string{first}, revoked)
		assert.Contains(t, buf.String(), "saving the token failed")
	})
}

// A store that ignores its ctx and never returns holds neither Token nor
// Close past the store deadline.
func TestTokenSource_StoreThatNeverReturns(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		store := &memStore{hang: make(chan struct{})}
		defer close(store.hang) // the abandoned calls end with the test
		ts, err := srv.client(t).TokenSource(TokenPolicy{Store: store, RevokeOnClose: true})
		require.NoError(t, err)
		start := time.Now()
		tok := mustToken(t, ts)
		assert.Equal(t, storeTimeout, time.Since(start), "Token waited for the store's deadline, no longer")
		start = time.Now()
		require.NoError(t, ts.Close(context.Background()))
		assert.Equal(t, storeTimeout, time.Since(start), "Close waited for the last store call's deadline, no longer")
		_, _, revoked := srv.counts()
		assert.Equal(t, []string{tok}, revoked)
	})
}

// The store gets sealed bytes, never the token: what it does with them
// changes nothing the callers get.
func TestTokenSource_StoreGetsNoToken(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		c := srv.client(t)
		store := &memStore{}
		ts, err := c.TokenSource(TokenPolicy{Store: store})
		require.NoError(t, err)
		t.Cleanup(func() { _ = ts.Close(context.Background()) })
		tok := mustToken(t, ts)
		synctest.Wait()
		store.mu.Lock()
		data := store.data[c.storeKey()]
		assert.False(t, bytes.Contains(data, []byte(tok)), "the token in clear in the store")
		clear(data) // a store that scribbles over what it was given
		store.mu.Unlock()
		assert.Equal(t, tok, mustToken(t, ts))
		assert.Equal(t, tok, mustToken(t, ts))
	})
}

// Rotate issues a new token also as the first call after a start that
// could load one, and when it finds a load in flight.
func TestTokenSource_RotateFirstIssues(t *testing.T) {
	t.Parallel()
	for _, joinLoad := range []bool{false, true} {
		t.Run(fmt.Sprintf("join a load %v", joinLoad), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv := newTokenServer(3600)
				c := srv.client(t)
				store := &memStore{}
				store.seal(t, c, "", &record{Token: &Token{AccessToken: "AT-stored-0123456789", ExpiresIn: 3600, Expiry: time.Now().Add(time.Hour)}})
				ts, err := c.TokenSource(TokenPolicy{Store: store})
				require.NoError(t, err)
				t.Cleanup(func() { _ = ts.Close(context.Background()) })
				if joinLoad {
					store.hang = make(chan struct{})
					go func() { _, _ = ts.Token(context.Background()) }()
					synctest.Wait()
					go func() { time.Sleep(time.Second); close(store.hang) }()
				}
				tok, err := ts.Rotate(context.Background())
				require.NoError(t, err)
				_, issued, _ := srv.counts()
				require.Len(t, issued, 1)
				assert.Equal(t, issued[0], tok.AccessToken, "Rotate issued a token")
				assert.Equal(t, issued[0], mustToken(t, ts))
			})
		})
	}
}

// tokenHandler is a slog.Handler that calls the TokenSource for every
// record, as a handler that ships logs through ts.Transport does.
type tokenHandler struct {
	ts    atomic.Pointer[TokenSource]
	calls atomic.Int64
}

func (h *tokenHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *tokenHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *tokenHandler) WithGroup(string) slog.Handler            { return h }
func (h *tokenHandler) Handle(context.Context, slog.Record) error {
	if ts := h.ts.Load(); ts != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, _ = ts.Token(ctx)
		h.calls.Add(1)
	}
	return nil
}

// The logger and the hooks are called outside every lock: a handler or a
// hook that calls Token works.
func TestTokenSource_CallbacksMayCallToken(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := &tokenHandler{}
		var hookCalls atomic.Int64
		call := func() {
			if ts := h.ts.Load(); ts != nil {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				_, _ = ts.Token(ctx)
				hookCalls.Add(1)
			}
		}
		hooks := Hooks{
			TokenObtained: func(TokenEvent) { call() },
			RefreshFailed: func(RefreshFailedEvent) { call() },
			Store:         func(StoreEvent) { call() },
			Invalidated:   func(InvalidateEvent) { call() },
			Revoked:       func(RevokeEvent) { call() },
		}
		srv := newTokenServer(3600)
		c := srv.client(t, WithLogger(slog.New(h)), WithHooks(hooks))
		ts, err := c.TokenSource(TokenPolicy{Store: &memStore{}, RevokeAfter: time.Second, RevokeOnClose: true})
		require.NoError(t, err)
		h.ts.Store(ts)
		first := mustToken(t, ts)
		ts.Invalidate(first)
		mustToken(t, ts)
		srv.set(func(s *tokenServer) { s.fail = 1 })
		_, err = ts.Rotate(context.Background())
		require.Error(t, err)
		advance(time.Second)
		require.NoError(t, ts.Close(context.Background()))
		assert.Positive(t, h.calls.Load(), "log records that called Token")
		assert.Positive(t, hookCalls.Load(), "hooks that called Token")
	})
}

// The current token is never revoked, even when the server answers with the
// same token twice, and no token is revoked twice.
func TestTokenSource_RepeatedToken(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		ts := srv.source(t, TokenPolicy{RevokeAfter: time.Second, RevokeOnClose: true})
		first := mustToken(t, ts)
		srv.set(func(s *tokenServer) { s.repeat = true })
		for range 3 {
			tok, err := ts.Rotate(context.Background())
			require.NoError(t, err)
			assert.Equal(t, first, tok.AccessToken, "the server repeated it")
			advance(time.Second)
		}
		_, _, revoked := srv.counts()
		assert.Empty(t, revoked, "the current token was revoked")
		srv.set(func(s *tokenServer) { s.repeat = false })
		second, err := ts.Rotate(context.Background())
		require.NoError(t, err)
		require.NoError(t, ts.Close(context.Background()))
		_, _, revoked = srv.counts()
		assert.ElementsMatch(t, []string{first, second.AccessToken}, revoked, "each revoked once")
	})
}

// A token that comes back after it was replaced, while its RevokeAfter
// revocation waits, is current again: that revocation is dropped.
func TestTokenSource_TokenComesBack(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		ts := srv.source(t, TokenPolicy{RevokeAfter: time.Minute})
		first := mustToken(t, ts)
		_, err := ts.Rotate(context.Background()) // first waits for RevokeAfter
		require.NoError(t, err)
		srv.set(func(s *tokenServer) { s.again = []string{first} })
		back, err := ts.Rotate(context.Background())
		require.NoError(t, err)
		require.Equal(t, first, back.AccessToken, "the server answered with it again")
		advance(time.Minute)
		_, issued, revoked := srv.counts()
		assert.Equal(t, []string{issued[1]}, revoked, "only the token replaced in between")
		assert.Equal(t, first, mustToken(t, ts))
	})
}

// Replaced tokens that have expired are forgotten: 1,000 rotations keep no
// more than the tokens still alive, and Close revokes only those.
func TestTokenSource_ReplacedTokensBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600) // an hour: 60 tokens alive at a time
		ts := srv.source(t, TokenPolicy{MaxAge: time.Minute, RevokeOnClose: true})
		mustToken(t, ts)
		most := 0
		for range 1000 {
			advance(time.Minute)
			mustToken(t, ts)
			synctest.Wait()
			ts.mu.Lock()
			most = max(most, len(ts.replaced))
			ts.mu.Unlock()
		}
		_, issued, _ := srv.counts()
		require.Len(t, issued, 1001)
		assert.LessOrEqual(t, most, 60, "replaced tokens kept: at most those alive")
		require.NoError(t, ts.Close(context.Background()))
		_, _, revoked := srv.counts()
		assert.ElementsMatch(t, issued[len(issued)-60:], revoked, "Close revoked the live tokens only")
	})
}

// A token answer that arrives after Close canceled its request is revoked,
// not dropped.
func TestTokenSource_LateAnswerRevoked(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		hold := make(chan struct{})
		srv.hold, srv.deaf = hold, true // answers even after its ctx ends
		ts, err := srv.client(t).TokenSource(TokenPolicy{})
		require.NoError(t, err)
		errc := make(chan error, 1)
		go func() {
			_, err := ts.Token(context.Background())
			errc <- err
		}()
		synctest.Wait()
		closed := make(chan error, 1)
		go func() { closed <- ts.Close(context.Background()) }()
		synctest.Wait()
		close(hold)
		require.NoError(t, <-closed)
		assert.ErrorIs(t, <-errc, ErrClosed)
		_, issued, revoked := srv.counts()
		require.Len(t, issued, 1)
		assert.Equal(t, issued, revoked, "the late token was revoked")
	})
}

// A RevokeAfter revocation that failed is retried at Close.
func TestTokenSource_FailedRevocationRetriedAtClose(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		ts, err := srv.client(t).TokenSource(TokenPolicy{RevokeAfter: time.Second})
		require.NoError(t, err)
		first := mustToken(t, ts)
		_, err = ts.Rotate(context.Background())
		require.NoError(t, err)
		srv.set(func(s *tokenServer) { s.revokeFail = 1 })
		advance(time.Second)
		_, _, revoked := srv.counts()
		require.Empty(t, revoked, "the revocation failed")
		require.NoError(t, ts.Close(context.Background()))
		_, _, revoked = srv.counts()
		assert.Equal(t, []string{first}, revoked, "retried at Close")
	})
}

// Close(nil) is an error and leaves the source open; a zero Client has no
// TokenSource.
func TestTokenSource_Misuse(t *testing.T) {
	t.Parallel()
	srv := newTokenServer(3600)
	ts := srv.source(t, TokenPolicy{})
	var nilCtx context.Context
	assert.Error(t, ts.Close(nilCtx))
	tok, err := ts.Token(context.Background())
	require.NoError(t, err, "still open")
	assert.NotEmpty(t, tok.AccessToken)

	var zero Client
	_, err = zero.TokenSource(TokenPolicy{})
	assert.ErrorIs(t, err, ErrInvalidConfig)
	var none *Client
	_, err = none.TokenSource(TokenPolicy{})
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

// A request whose Host field names another host is refused: the token goes
// only to the client's origin.
func TestTransport_ForeignHostField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		host string
		sent bool
	}{
		{"", true},
		{"api.cryptofuse.io", true},
		{"API.Cryptofuse.io:443", true},
		{"evil.example", false},
		{"api.cryptofuse.io:8443", false},
		{"api.cryptofuse.io.evil.example", false},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			srv := newTokenServer(3600)
			ts := srv.source(t, TokenPolicy{})
			req, err := http.NewRequest(http.MethodGet, mockBase+"/api/", nil)
			require.NoError(t, err)
			req.Host = tc.host
			resp, err := ts.Transport(srv).RoundTrip(req)
			if tc.sent {
				require.NoError(t, err)
				resp.Body.Close()
				return
			}
			assert.ErrorIs(t, err, ErrForeignOrigin)
			srv.mu.Lock()
			defer srv.mu.Unlock()
			assert.Zero(t, srv.resource, "requests sent")
			assert.Zero(t, srv.tokenReqs, "token requests")
		})
	}
}

// Transport(nil) sends through the SDK's own shared transport.
func TestTransport_NilBase(t *testing.T) {
	t.Parallel()
	srv := newTokenServer(3600)
	ts := srv.source(t, TokenPolicy{})
	tt, ok := ts.Transport(nil).(*tokenTransport)
	require.True(t, ok)
	assert.Same(t, defaultHTTPClient().Transport, tt.base)
	assert.NotSame(t, http.DefaultTransport, tt.base)
}

// Every log line about a token names it by fingerprint; a stored token is
// logged as loaded, not refreshed.
func TestTokenSource_LogFingerprints(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		log, buf := logCapture(t)
		srv := newTokenServer(3600)
		c := srv.client(t, WithLogger(log))
		store := &memStore{}
		stored := "AT-stored-0123456789"
		store.seal(t, c, "", &record{Token: &Token{AccessToken: stored, ExpiresIn: 3600, Expiry: time.Now().Add(time.Hour)}})
		ts, err := c.TokenSource(TokenPolicy{Store: store, RevokeAfter: time.Second, RevokeOnClose: true})
		require.NoError(t, err)
		mustToken(t, ts)
		ts.Invalidate(stored)
		mustToken(t, ts)
		advance(time.Second)
		require.NoError(t, ts.Close(context.Background()))
		out := buf.String()
		_, issued, _ := srv.counts()
		assert.Contains(t, out, `msg="cryptofuse: token loaded from the store" reason=store from_store=true expires_in=3600 token=`+Fingerprint(stored))
		assert.NotContains(t, out, "token refreshed\" reason=store")
		for _, want := range []string{
			`msg="cryptofuse: token invalidated" token=` + Fingerprint(stored),
			`msg="cryptofuse: token refreshed" reason=rejected from_store=false expires_in=3600 token=` + Fingerprint(issued[0]),
			`msg="cryptofuse: token revoked" when=revoke_after token=` + Fingerprint(stored),
			`msg="cryptofuse: token revoked" when=close token=` + Fingerprint(issued[0]),
		} {
			assert.Contains(t, out, want)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.Contains(line, `msg="cryptofuse: token `) && !strings.Contains(line, "token refresh failed") {
				assert.Contains(t, line, " token=", "a line about a token without its fingerprint")
			}
		}
		assertNoSecret(t, out, append(issued, stored, testSecret)...)
	})
}

// The hooks hear what the log says, with fingerprints; a hook that panics
// on a background goroutine is recovered and logged.
func TestTokenSource_Hooks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var events []string
		note := func(s string) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, s)
		}
		hooks := Hooks{
			TokenObtained: func(e TokenEvent) {
				note("obtained " + string(e.Reason) + " " + e.Fingerprint)
				if e.Reason == ReasonRotate {
					panic("hook on fire")
				}
			},
			RefreshFailed: func(e RefreshFailedEvent) { note(fmt.Sprintf("failed %s %d", e.Reason, e.Failures)) },
			Store:         func(e StoreEvent) { note("store " + e.Op + " " + string(e.Outcome)) },
			Invalidated:   func(e InvalidateEvent) { note("invalidated " + e.Cause + " " + e.Fingerprint) },
			Revoked:       func(e RevokeEvent) { note(fmt.Sprintf("revoked %s %s %v", e.When, e.Fingerprint, e.Err)) },
		}
		log, buf := logCapture(t)
		srv := newTokenServer(3600)
		c := srv.client(t, WithHooks(hooks), WithLogger(log))
		ts, err := c.TokenSource(TokenPolicy{Store: &memStore{}, RevokeAfter: time.Second, RevokeOnClose: true})
		require.NoError(t, err)
		first := mustToken(t, ts)
		synctest.Wait()
		ts.Invalidate(first)
		synctest.Wait()
		second := mustToken(t, ts)
		synctest.Wait()
		third, err := ts.Rotate(context.Background())
		require.NoError(t, err, "a panicking hook does not fail the call")
		synctest.Wait()
		srv.set(func(s *tokenServer) { s.fail = 1 })
		_, err = ts.Rotate(context.Background())
		require.Error(t, err)
		advance(time.Second)
		require.NoError(t, ts.Close(context.Background()))
		fp := Fingerprint
		want := []string{
			"store get miss",
			"obtained first " + fp(first),
			"store put ok",
			"invalidated invalidate " + fp(first),
			"store delete ok",
			"obtained rejected " + fp(second),
			"store put ok",
			"obtained rotate " + fp(third.AccessToken),
			"store put ok",
			"failed rotate 1",
			"revoked revoke_after " + fp(first) + " <nil>",
			"revoked revoke_after " + fp(second) + " <nil>",
			"revoked close " + fp(third.AccessToken) + " <nil>",
			"store delete ok",
		}
		mu.Lock()
		defer mu.Unlock()
		assert.ElementsMatch(t, want, events)
		assert.Contains(t, buf.String(), `hook panicked; recovered" hook=TokenObtained`)
	})
}

// cleanupStore is a store whose first Put waits for its ctx, and then takes
// a moment to clean up (a temporary file removed, say) before it returns.
type cleanupStore struct {
	*memStore
	puts     atomic.Int64
	finished atomic.Bool
}

func (s *cleanupStore) Put(ctx context.Context, key string, data []byte) error {
	if s.puts.Add(1) > 1 {
		return s.memStore.Put(ctx, key, data)
	}
	<-ctx.Done()
	time.Sleep(10 * time.Millisecond)
	s.finished.Store(true)
	return ctx.Err()
}

// Close returns only once the store calls it canceled have returned (for a
// store that honours its ctx): nothing of the TokenSource runs after it.
func TestTokenSource_CloseWaitsForCanceledStoreCalls(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		store := &cleanupStore{memStore: &memStore{}}
		ts, err := srv.client(t).TokenSource(TokenPolicy{Store: store})
		require.NoError(t, err)
		mustToken(t, ts)
		synctest.Wait() // the save waits for its ctx
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		require.NoError(t, ts.Close(ctx))
		assert.True(t, store.finished.Load(), "a store call still ran after Close")
	})
}

// Hooks run with no lock of the TokenSource held: neither ts.mu nor the
// lock that orders store writes. (One token, one save: nothing else could
// hold either.)
func TestTokenSource_HooksRunWithoutLocks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var ts atomic.Pointer[TokenSource]
		var held []string
		var mu sync.Mutex
		check := func(name string) {
			s := ts.Load()
			if s == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if !s.mu.TryLock() {
				held = append(held, name+": ts.mu")
			} else {
				s.mu.Unlock()
			}
			select {
			case s.storeLock <- struct{}{}:
				<-s.storeLock
			default:
				held = append(held, name+": storeLock")
			}
		}
		hooks := Hooks{
			TokenObtained: func(TokenEvent) { check("TokenObtained") },
			Store:         func(e StoreEvent) { check("Store " + e.Op) },
		}
		srv := newTokenServer(3600)
		source, err := srv.client(t, WithHooks(hooks)).TokenSource(TokenPolicy{Store: &memStore{}})
		require.NoError(t, err)
		ts.Store(source)
		mustToken(t, source)
		synctest.Wait()
		require.NoError(t, source.Close(context.Background()))
		mu.Lock()
		defer mu.Unlock()
		assert.Empty(t, held, "hooks called under a lock")
	})
}
