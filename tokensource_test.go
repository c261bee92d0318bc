package cryptofuse

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every test here runs in a testing/synctest bubble: time is the bubble's
// fake clock, which moves only when every goroutine in the bubble is
// blocked, so no outcome depends on the scheduler or on wall-clock margins.

func TestTokenSource_BadPolicy(t *testing.T) {
	t.Parallel()
	c := newTokenServer(3600).client(t)
	for _, p := range []TokenPolicy{{RefreshBefore: -1}, {MaxAge: -time.Second}, {RevokeAfter: -time.Minute},
		{MaxAge: time.Nanosecond}, {MaxAge: time.Second - 1}} {
		_, err := c.TokenSource(p)
		assert.ErrorIs(t, err, ErrInvalidConfig, "TokenSource(%+v)", p)
	}
	_, err := c.TokenSource(TokenPolicy{MaxAge: time.Second})
	assert.NoError(t, err, "TokenSource(MaxAge 1s)")
}

// TokenSource sends nothing; the first Token issues one token, and later
// calls while it is fresh send nothing, allocate nothing and read no clock,
// with every hook set.
//
// Not parallel: testing.AllocsPerRun refuses to run beside parallel tests.
func TestTokenSource_SteadyState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		var reads atomic.Int64
		now := func() time.Time { reads.Add(1); return time.Now() }
		hooks := Hooks{TokenObtained: func(TokenEvent) {}, Store: func(StoreEvent) {}, Invalidated: func(InvalidateEvent) {}}
		ts := srv.source(t, TokenPolicy{Store: &memStore{}}, withClock(clock{now: now}), WithHooks(hooks))
		n, _, _ := srv.counts()
		require.Zero(t, n, "token requests after TokenSource")
		first := mustToken(t, ts)
		synctest.Wait()
		ctx := context.Background()
		before := reads.Load()
		allocs := testing.AllocsPerRun(1000, func() {
			// The check stays outside testify on the success path: its
			// arguments would allocate in the loop being measured.
			if tok, err := ts.Token(ctx); err != nil || tok.AccessToken != first {
				require.Failf(t, "Token", "got %v, %v, want the first token", tok, err)
			}
		})
		assert.Zero(t, allocs, "allocations per Token on a fresh token")
		assert.Zero(t, reads.Load()-before, "clock reads by Token on a fresh token")
		n, _, _ = srv.counts()
		assert.Equal(t, 1, n, "token requests")
	})
}

// However many goroutines ask at once, one token request is sent.
func TestTokenSource_SingleFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		srv.delay = 300 * time.Millisecond
		ts := srv.source(t, TokenPolicy{})
		const callers = 1000
		got := make([]string, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				tok, err := ts.Token(context.Background())
				if err == nil {
					got[i] = tok.AccessToken
				}
			})
		}
		wg.Wait()
		n, issued, _ := srv.counts()
		require.Equal(t, 1, n, "token requests for %d cold callers", callers)
		for i, tok := range got {
			require.Equal(t, issued[0], tok, "caller %d: the one token issued", i)
		}
	})
}

// Inside the refresh window, callers keep the current token while one
// refresh runs in the background; they never wait for it.
func TestTokenSource_RefreshInBackground(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600) // RefreshBefore 5 min: due at 55 min
		ts := srv.source(t, TokenPolicy{})
		first := mustToken(t, ts)

		advance(55*time.Minute - time.Second)
		assert.Equal(t, first, mustToken(t, ts), "before the window")
		n, _, _ := srv.counts()
		require.Equal(t, 1, n, "token requests before the window")

		hold := make(chan struct{})
		srv.set(func(s *tokenServer) { s.hold = hold })
		advance(time.Second)
		for range 100 { // the refresh is held: every caller gets the current token
			assert.Equal(t, first, mustToken(t, ts), "in the window, during the refresh")
		}
		synctest.Wait()
		n, _, _ = srv.counts()
		require.Equal(t, 2, n, "token requests in the window (one refresh)")
		close(hold)
		synctest.Wait()
		_, issued, _ := srv.counts()
		assert.Equal(t, issued[1], mustToken(t, ts), "after the refresh")
	})
}

// RefreshBefore is capped at half the lifetime, and jittered down.
func TestTokenSource_RefreshTime(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		expiresIn int
		policy    TokenPolicy
		jitter    func(int64) int64
		wantDue   time.Duration // after issue
	}{
		{"default 5 min", 3600, TokenPolicy{}, nil, 55 * time.Minute},
		{"half the lifetime", 120, TokenPolicy{}, nil, time.Minute},
		{"own RefreshBefore", 3600, TokenPolicy{RefreshBefore: 10 * time.Minute}, nil, 50 * time.Minute},
		{"jittered by up to a quarter", 3600, TokenPolicy{}, func(n int64) int64 { return n - 1 }, 55*time.Minute + 75*time.Second - time.Nanosecond},
		{"MaxAge first", 3600, TokenPolicy{MaxAge: 10 * time.Minute}, nil, 10 * time.Minute},
		// The default RefreshBefore gives way to MaxAge.
		{"MaxAge inside the default window", 3600, TokenPolicy{MaxAge: 58 * time.Minute}, nil, 58 * time.Minute},
		{"MaxAge past half a short lifetime", 600, TokenPolicy{MaxAge: 8 * time.Minute}, nil, 8 * time.Minute},
		{"explicit RefreshBefore before MaxAge", 3600, TokenPolicy{MaxAge: 58 * time.Minute, RefreshBefore: 5 * time.Minute}, nil, 55 * time.Minute},
		{"MaxAge longer than the lifetime", 3600, TokenPolicy{MaxAge: 2 * time.Hour}, nil, 55 * time.Minute},
		{"MaxAge jittered by up to a quarter", 3600, TokenPolicy{MaxAge: 40 * time.Minute}, func(n int64) int64 { return n - 1 }, 30*time.Minute + time.Nanosecond},
		{"MaxAge without expiry", 0, TokenPolicy{MaxAge: time.Hour}, nil, time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv := newTokenServer(tc.expiresIn)
				var opts []Option
				if tc.jitter != nil {
					opts = append(opts, withClock(clock{jitter: tc.jitter}))
				}
				ts := srv.source(t, tc.policy, opts...)
				mustToken(t, ts)
				advance(tc.wantDue - time.Nanosecond)
				mustToken(t, ts)
				synctest.Wait()
				n, _, _ := srv.counts()
				require.Equal(t, 1, n, "token requests just before %v", tc.wantDue)
				advance(time.Nanosecond)
				mustToken(t, ts)
				synctest.Wait()
				n, _, _ = srv.counts()
				require.Equal(t, 2, n, "token requests at %v", tc.wantDue)
			})
		})
	}
}

// A token without expires_in and without MaxAge is kept until invalidated.
func TestTokenSource_NoExpiry(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(0)
		ts := srv.source(t, TokenPolicy{})
		first := mustToken(t, ts)
		advance(1000 * time.Hour)
		assert.Equal(t, first, mustToken(t, ts))
		n, _, _ := srv.counts()
		assert.Equal(t, 1, n, "token requests")
	})
}

// A failed refresh keeps the valid token, backs off, and retries; once no
// valid token is left, callers get the error.
func TestTokenSource_FailedRefresh(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		log, buf := logCapture(t)
		srv := newTokenServer(600) // due at 5 min, expires at 10 min
		ts := srv.source(t, TokenPolicy{}, WithLogger(log))
		first := mustToken(t, ts)
		srv.set(func(s *tokenServer) { s.fail = 1000 })

		advance(5 * time.Minute)
		assert.Equal(t, first, mustToken(t, ts), "the refresh failed: the valid token is kept")
		synctest.Wait()
		assert.Equal(t, first, mustToken(t, ts), "backing off")
		synctest.Wait()
		n, _, _ := srv.counts()
		require.Equal(t, 2, n, "token requests during the backoff")
		// The jitter is 0, so the first backoff is 500 ms.
		advance(500 * time.Millisecond)
		mustToken(t, ts)
		synctest.Wait()
		n, _, _ = srv.counts()
		require.Equal(t, 3, n, "token requests after the backoff")
		assert.Contains(t, buf.String(), "token refresh failed")

		advance(5 * time.Minute) // expired
		_, err := ts.Token(context.Background())
		var e *Error
		require.ErrorAs(t, err, &e, "Token with no valid token left: want the refresh's 503")
		require.Equal(t, 503, e.StatusCode, "Token with no valid token left: want the refresh's 503")

		srv.set(func(s *tokenServer) { s.fail = 0 })
		advance(maxRefreshBackoff)
		tok := mustToken(t, ts)
		_, issued, _ := srv.counts()
		assert.Equal(t, issued[len(issued)-1], tok, "recovered")
		assertNoSecret(t, buf.String(), append(issued, testSecret)...)
	})
}

// A caller that finds no valid token waits only as long as its ctx allows;
// the token request goes on for the next caller.
func TestTokenSource_WaitBoundedByContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		srv.delay = 10 * time.Second
		ts := srv.source(t, TokenPolicy{})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := ts.Token(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start), "waited exactly as long as ctx allowed")
		tok := mustToken(t, ts) // joins the flight in progress
		_, issued, _ := srv.counts()
		assert.Equal(t, issued[0], tok)
		n, _, _ := srv.counts()
		assert.Equal(t, 1, n, "token requests")
	})
}

// Rotate replaces the token now; the replaced one is revoked RevokeAfter
// later, never sooner; with RevokeAfter 0 it is never revoked.
func TestTokenSource_RotateAndRevokeAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		revokeAfter time.Duration
	}{
		{"RevokeAfter 1s", time.Second},
		{"RevokeAfter 30s", 30 * time.Second},
		{"RevokeAfter 0: left to expire", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv := newTokenServer(3600)
				ts := srv.source(t, TokenPolicy{RevokeAfter: tc.revokeAfter})
				first := mustToken(t, ts)
				tok, err := ts.Rotate(context.Background())
				require.NoError(t, err)
				assert.NotEqual(t, first, tok.AccessToken)
				assert.Equal(t, tok.AccessToken, mustToken(t, ts))
				synctest.Wait()
				if tc.revokeAfter > 0 {
					advance(tc.revokeAfter - time.Nanosecond)
					synctest.Wait()
				}
				_, _, revoked := srv.counts()
				require.Empty(t, revoked, "revoked before RevokeAfter")
				if tc.revokeAfter == 0 {
					advance(2 * time.Hour) // past expiry
					synctest.Wait()
					_, _, revoked = srv.counts()
					require.Empty(t, revoked, "revoked with RevokeAfter 0")
					return
				}
				advance(time.Nanosecond)
				synctest.Wait()
				_, _, revoked = srv.counts()
				assert.Equal(t, []string{first}, revoked, "revoked at RevokeAfter")
			})
		})
	}
}

// Invalidate acts on the current token only; the next Token waits for a
// new one.
func TestTokenSource_Invalidate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		ts := srv.source(t, TokenPolicy{RevokeAfter: time.Second})
		first := mustToken(t, ts)
		ts.Invalidate("not-the-current-token")
		assert.Equal(t, first, mustToken(t, ts), "another token's rejection changes nothing")
		ts.Invalidate(first)
		second := mustToken(t, ts)
		assert.NotEqual(t, first, second, "a new token after Invalidate")
		advance(time.Second)
		synctest.Wait()
		// A 401 does not prove a token dead: RevokeAfter applies.
		_, _, revoked := srv.counts()
		assert.Equal(t, []string{first}, revoked, "the rejected token, revoked after RevokeAfter")
	})
}

// Close revokes pending replaced tokens at once, and with RevokeOnClose the
// current one and every replaced one; afterwards everything is ErrClosed,
// and no timer fires.
func TestTokenSource_Close(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		policy        TokenPolicy
		wantRevokedAt []int // indexes into the tokens issued
	}{
		{"nothing to revoke", TokenPolicy{}, nil},
		{"pending RevokeAfter", TokenPolicy{RevokeAfter: time.Hour}, []int{0, 1}},
		{"RevokeOnClose", TokenPolicy{RevokeOnClose: true}, []int{0, 1, 2}},
		{"both", TokenPolicy{RevokeAfter: time.Hour, RevokeOnClose: true}, []int{0, 1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv := newTokenServer(3600)
				c := srv.client(t)
				ts, err := c.TokenSource(tc.policy)
				require.NoError(t, err)
				mustToken(t, ts)
				for range 2 {
					_, err := ts.Rotate(context.Background())
					require.NoError(t, err)
				}
				require.NoError(t, ts.Close(context.Background()))
				_, issued, revoked := srv.counts()
				var want []string
				for _, i := range tc.wantRevokedAt {
					want = append(want, issued[i])
				}
				assert.ElementsMatch(t, want, revoked, "revoked by Close")

				_, err = ts.Token(context.Background())
				assert.ErrorIs(t, err, ErrClosed, "Token after Close")
				_, err = ts.Rotate(context.Background())
				assert.ErrorIs(t, err, ErrClosed, "Rotate after Close")
				assert.NoError(t, ts.Close(context.Background()), "a second Close")

				advance(48 * time.Hour) // every timer would have fired
				synctest.Wait()
				n, _, after := srv.counts()
				assert.Equal(t, 3, n, "token requests after Close")
				assert.Equal(t, len(revoked), len(after), "revocations after Close")
			})
		})
	}
}

// Close cancels the token request in flight; its waiter gets ErrClosed,
// and nothing of the TokenSource is left running (synctest.Test fails on a
// goroutine still blocked when the test ends).
func TestTokenSource_CloseCancelsRefresh(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		srv.hold = make(chan struct{}) // never closed: only the ctx ends it
		c := srv.client(t)
		ts, err := c.TokenSource(TokenPolicy{RevokeOnClose: true})
		require.NoError(t, err)
		errc := make(chan error, 1)
		go func() {
			_, err := ts.Token(context.Background())
			errc <- err
		}()
		synctest.Wait()
		require.NoError(t, ts.Close(context.Background()))
		assert.ErrorIs(t, <-errc, ErrClosed)
		_, issued, revoked := srv.counts()
		assert.Empty(t, issued)
		assert.Empty(t, revoked)
	})
}

// A stored token is used without a request only when its record opens for
// this client, origin and scope set and holds a token the wire can carry,
// with a sane expiry ahead; anything else is a miss, replaced by the new
// token. A store that fails, panics or hangs is logged and changes nothing
// else.
func TestTokenSource_Store(t *testing.T) {
	t.Parallel()
	type seed func(t *testing.T, m *memStore, c *Client)
	// stored seals tok, expiring in (0: no expiry), in the bubble's time.
	stored := func(tok Token, in time.Duration) seed {
		return func(t *testing.T, m *memStore, c *Client) {
			if in != 0 {
				tok.Expiry = time.Now().Add(in)
			}
			m.seal(t, c, "", &record{Token: &tok})
		}
	}
	// by seals a record for the client that opts build, under c's key.
	by := func(secret string, opts ...Option) seed {
		return func(t *testing.T, m *memStore, c *Client) {
			other, err := NewClient(testID, secret, append([]Option{WithBaseURL(mockBase)}, opts...)...)
			require.NoError(t, err)
			tok := Token{AccessToken: "AT-foreign-0123456789", TokenType: "Bearer", ExpiresIn: 3600, Expiry: time.Now().Add(time.Hour)}
			m.seal(t, other, c.storeKey(), &record{Token: &tok})
		}
	}
	foreignID := func(t *testing.T, m *memStore, c *Client) {
		other, err := NewClient("other-client", testSecret, WithBaseURL(mockBase))
		require.NoError(t, err)
		tok := Token{AccessToken: "AT-other-client-0123", TokenType: "Bearer", ExpiresIn: 3600, Expiry: time.Now().Add(time.Hour)}
		m.seal(t, other, c.storeKey(), &record{Token: &tok})
	}
	garbage := func(t *testing.T, m *memStore, c *Client) {
		m.data = map[string][]byte{c.storeKey(): []byte(`{"access_token":"AT-plain"}`)}
	}
	cases := []struct {
		name       string
		seed       seed
		store      *memStore
		wantReqs   int
		wantStored bool   // the stored token is served
		wantLog    string // in the log
	}{
		{"fresh stored token", stored(Token{AccessToken: "AT-stored-0123456789", TokenType: "Bearer", ExpiresIn: 3600}, time.Hour), &memStore{}, 0, true, "token loaded from the store"},
		{"nothing stored", nil, &memStore{}, 1, false, ""},
		{"expired", stored(Token{AccessToken: "AT-old-0123456789", ExpiresIn: 60}, -time.Second), &memStore{}, 1, false, "stored token not used"},
		{"no expiry", stored(Token{AccessToken: "AT-noexp-0123456789"}, 0), &memStore{}, 1, false, "stored token not used"},
		{"expires_in overflows", stored(Token{AccessToken: "AT-overflow-0123456", ExpiresIn: 1 << 62}, time.Hour), &memStore{}, 1, false, "stored token not used"},
		{"expiry too far ahead", stored(Token{AccessToken: "AT-far-0123456789"}, 200*365*24*time.Hour), &memStore{}, 1, false, "stored token not used"},
		{"newline in the token", stored(Token{AccessToken: "AT-nl-0123\r\nX-Evil: 1", ExpiresIn: 3600}, time.Hour), &memStore{}, 1, false, "stored token not used"},
		{"another client's record", foreignID, &memStore{}, 1, false, "stored token not used"},
		{"another scope set", by(testSecret, WithScopes("read")), &memStore{}, 1, false, "stored token not used"},
		{"another origin", by(testSecret, WithBaseURL("https://other.example")), &memStore{}, 1, false, "stored token not used"},
		{"another secret", by("another-secret"), &memStore{}, 1, false, "stored token not used"},
		{"not a sealed record", garbage, &memStore{}, 1, false, "stored token not used"},
		{"get fails", nil, &memStore{loadErr: errors.New("disk on fire")}, 1, false, "loading the stored token failed"},
		{"put fails", nil, &memStore{saveErr: errors.New("disk full")}, 1, false, "saving the token failed"},
		{"store panics", nil, &memStore{panics: true}, 1, false, "loading the stored token failed"},
		{"store hangs", nil, &memStore{hangs: true}, 1, false, "no answer before the deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				log, buf := logCapture(t)
				srv := newTokenServer(3600)
				c := srv.client(t, WithLogger(log))
				store := tc.store
				if tc.seed != nil {
					tc.seed(t, store, c)
				}
				if store.hangs {
					store.hang = make(chan struct{}) // in the bubble: a durable wait
					defer close(store.hang)          // after Close: the abandoned calls end
				}
				ts, err := c.TokenSource(TokenPolicy{Store: store})
				require.NoError(t, err)
				start := time.Now()
				tok := mustToken(t, ts)
				if store.hang != nil {
					assert.Equal(t, storeTimeout, time.Since(start), "a hung store holds Token only until its deadline")
				}
				synctest.Wait()
				n, issued, _ := srv.counts()
				assert.Equal(t, tc.wantReqs, n, "token requests")
				if tc.wantStored {
					assert.Equal(t, "AT-stored-0123456789", tok)
				} else {
					require.NotEmpty(t, issued)
					assert.Equal(t, issued[0], tok, "a miss is replaced by a new token")
					if store.saveErr == nil && store.hang == nil && !store.panics {
						if last := store.stored(c); assert.NotNil(t, last, "the new token is stored") {
							assert.Equal(t, tok, last.AccessToken, "the new token is stored")
						}
					}
				}
				if tc.wantLog != "" {
					assert.Contains(t, buf.String(), tc.wantLog)
				}
				rotated, err := ts.Rotate(context.Background())
				require.NoError(t, err)
				assert.NotEqual(t, tok, rotated.AccessToken, "Rotate issues a new token")
				require.NoError(t, ts.Close(context.Background()))
				loads, _, _ := store.stats(c)
				assert.LessOrEqual(t, loads, 1, "store reads")
				if store.saveErr == nil && store.hang == nil && !store.panics {
					if last := store.stored(c); assert.NotNil(t, last) {
						assert.Equal(t, rotated.AccessToken, last.AccessToken, "the newest token is stored at Close")
					}
				}
				_, issued, _ = srv.counts()
				assertNoSecret(t, buf.String(), append(issued, testSecret, "AT-stored-0123456789")...)
			})
		})
	}
}

// The logger records refreshes, failures and revocations, and never a
// token or the secret.
func TestTokenSource_Log(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		log, buf := logCapture(t)
		srv := newTokenServer(3600)
		ts := srv.source(t, TokenPolicy{RevokeAfter: time.Second, RevokeOnClose: true}, WithLogger(log))
		mustToken(t, ts)
		_, err := ts.Rotate(context.Background())
		require.NoError(t, err)
		advance(time.Second)
		synctest.Wait()
		srv.set(func(s *tokenServer) { s.fail = 1 })
		_, err = ts.Rotate(context.Background())
		require.Error(t, err)
		require.NoError(t, ts.Close(context.Background()))
		out := buf.String()
		for _, want := range []string{
			`msg="cryptofuse: token refreshed" reason=first`,
			`msg="cryptofuse: token refreshed" reason=rotate`,
			`msg="cryptofuse: token revoked" when=revoke_after`,
			`msg="cryptofuse: token refresh failed" reason=rotate`,
			`msg="cryptofuse: token revoked" when=close`,
		} {
			assert.Contains(t, out, want)
		}
		_, issued, _ := srv.counts()
		assertNoSecret(t, out, append(issued, testSecret)...)
		assert.GreaterOrEqual(t, strings.Count(out, "\n"), 5, "log: %q, want at least 5 lines", out)
	})
}

// advance moves the bubble's clock on by d and lets every timer that fired
// run to its end, so that the test sees what they did.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// The token issued just before Close is saved: Close lets the save finish,
// within its ctx, and an older token never overwrites a newer one.
func TestTokenSource_CloseKeepsTheLastSave(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &memStore{}
		srv := newTokenServer(3600)
		ts, err := srv.client(t).TokenSource(TokenPolicy{Store: store})
		require.NoError(t, err)
		mustToken(t, ts)
		newest, err := ts.Rotate(context.Background())
		require.NoError(t, err)
		require.NoError(t, ts.Close(context.Background()))
		_, _, last := store.stats(ts.c)
		require.NotNil(t, last, "stored after Close: want the newest token")
		require.Equal(t, newest.AccessToken, last.AccessToken, "stored after Close: want the newest token")
	})
}

// A save that hangs holds Close only as long as Close's ctx allows.
func TestTokenSource_CloseBoundsAHungSave(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &memStore{hold: make(chan struct{})} // never released
		log, buf := logCapture(t)
		srv := newTokenServer(3600)
		ts, err := srv.client(t, WithLogger(log)).TokenSource(TokenPolicy{Store: store})
		require.NoError(t, err)
		mustToken(t, ts)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		require.NoError(t, ts.Close(ctx))
		assert.Equal(t, 5*time.Second, time.Since(start), "Close waited for the save until its ctx ended")
		assert.Contains(t, buf.String(), "saving the token failed")
	})
}

// A replaced token whose RevokeAfter revocation is under way when Close
// runs is revoked once: Close waits for that revocation instead of sending
// another.
func TestTokenSource_CloseDuringARevocation(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(3600)
		ts, err := srv.client(t).TokenSource(TokenPolicy{RevokeAfter: time.Second})
		require.NoError(t, err)
		first := mustToken(t, ts)
		_, err = ts.Rotate(context.Background())
		require.NoError(t, err)
		hold := make(chan struct{})
		srv.set(func(s *tokenServer) { s.revokeHold = hold })
		advance(time.Second) // the revocation starts, and waits
		closed := make(chan error, 1)
		go func() { closed <- ts.Close(context.Background()) }()
		synctest.Wait()
		close(hold)
		require.NoError(t, <-closed)
		_, _, revoked := srv.counts()
		assert.Equal(t, []string{first}, revoked, "revocations")
	})
}

// A replacement by MaxAge is logged as such.
func TestTokenSource_MaxAgeReason(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		log, buf := logCapture(t)
		srv := newTokenServer(3600)
		ts := srv.source(t, TokenPolicy{MaxAge: time.Minute}, WithLogger(log))
		mustToken(t, ts)
		advance(time.Minute)
		mustToken(t, ts)
		synctest.Wait()
		assert.Contains(t, buf.String(), `reason=max_age`)
	})
}
