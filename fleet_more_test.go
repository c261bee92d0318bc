package cryptofuse

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// warm has every instance get its first token.
func warm(t *testing.T, fleet []*TokenSource) *Token {
	t.Helper()
	var tok *Token
	for _, ts := range fleet {
		got, err := ts.Token(context.Background())
		require.NoError(t, err)
		tok = got
	}
	return tok
}

// current is the token instance ts hands out now.
func current(t *testing.T, ts *TokenSource) string {
	t.Helper()
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	return tok.AccessToken
}

// TestFleetRotateWindow: a Rotate within fleetRotateWindow of another
// instance's uses its token; a later one mints, and so does a second Rotate
// of the same instance.
func TestFleetRotateWindow(t *testing.T) {
	tests := []struct {
		name   string
		second int // the instance that rotates second
		after  time.Duration
		want   int // tokens minted in all
	}{
		{"within the window", 1, fleetRotateWindow / 2, 2},
		{"after the window", 1, fleetRotateWindow + time.Second, 3},
		{"same instance within the window", 0, fleetRotateWindow / 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, store := newFleetServer(3600), newFakeShared()
				fleet := fleetOf(t, 2, srv, store, TokenPolicy{})
				warm(t, fleet)
				a, err := fleet[0].Rotate(context.Background())
				require.NoError(t, err)
				time.Sleep(tt.after)
				b, err := fleet[tt.second].Rotate(context.Background())
				require.NoError(t, err)
				assert.Equal(t, tt.want, srv.minted(), "tokens minted")
				assert.Equal(t, tt.want == 2, a.AccessToken == b.AccessToken, "second Rotate returned the first's token")
			})
		})
	}
}

// TestFleetInvalidate: every instance told that the token was rejected (a
// 401 on each) costs the fleet one new token.
func TestFleetInvalidate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		fleet := fleetOf(t, 4, srv, store, TokenPolicy{RevokeAfter: time.Minute})
		old := warm(t, fleet)
		var wg sync.WaitGroup
		for _, ts := range fleet {
			wg.Go(func() {
				ts.Invalidate(old.AccessToken)
				tok, err := ts.Token(context.Background())
				if assert.NoError(t, err) {
					assert.NotEqual(t, old.AccessToken, tok.AccessToken, "the rejected token handed out again")
				}
			})
		}
		wg.Wait()
		assert.Equal(t, 2, srv.minted(), "tokens minted")
		time.Sleep(fleetPoll + 2*time.Minute)
		_, n := srv.revoked(old.AccessToken)
		assert.Equal(t, 1, n, "revocations of the rejected token")
	})
}

// TestFleetLockHeld: while another owner holds the lock (it crashed while
// holding it), instances keep their valid token and mint nothing; once the
// lock's ttl has passed, one of them mints.
func TestFleetLockHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(600), newFakeShared()
		fleet := fleetOf(t, 3, srv, store, TokenPolicy{})
		first := warm(t, fleet)
		key := fleet[0].fleet.key
		// Refresh is due at 300 s; the ghost holds the lock from 290 s.
		time.Sleep(290 * time.Second)
		require.NoError(t, store.Lock(context.Background(), key, "ghost", fleetLockTTL))
		h := newHandout(len(fleet))
		h.callAll(t, srv, fleet, time.Second, fleetLockTTL-11*time.Second)
		assert.Zero(t, h.errs, "caller errors while the lock is held")
		assert.Equal(t, 1, srv.minted(), "tokens minted while the lock is held")
		assert.Equal(t, first.AccessToken, current(t, fleet[2]), "token handed out while the lock is held")
		h.callAll(t, srv, fleet, time.Second, 15*time.Second)
		assert.Equal(t, 2, srv.minted(), "tokens minted after the lock's ttl")
		assert.Equal(t, 1, h.distinct(), "distinct tokens after the lock's ttl")
	})
}

// TestFleetRecordLost: a store that lost the record (Redis restarted
// without persistence) does not send the generations back: the next token
// stored is newer than every instance's, and all switch to it.
func TestFleetRecordLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		fleet := fleetOf(t, 3, srv, store, TokenPolicy{})
		warm(t, fleet)
		_, err := fleet[0].Rotate(context.Background())
		require.NoError(t, err)
		synctest.Wait()
		store.set(func(s *fakeShared) { clear(s.data) })
		time.Sleep(fleetRotateWindow + time.Second)
		tok, err := fleet[1].Rotate(context.Background())
		require.NoError(t, err)
		synctest.Wait()
		for i, ts := range fleet {
			assert.Equal(t, tok.AccessToken, current(t, ts), "instance %d", i)
		}
		assert.Equal(t, 3, srv.minted(), "tokens minted")
	})
}

// TestFleetStoreMisbehaves: a store whose Get panics, or hangs ignoring
// its ctx, costs no caller an error and hangs nothing.
func TestFleetStoreMisbehaves(t *testing.T) {
	for _, mode := range []string{"panic", "hang"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newFleetServer(3600)
				release := make(chan struct{})
				store := &badShared{fakeShared: newFakeShared(), mode: mode, release: release}
				defer close(release)
				fleet := fleetOf(t, 2, srv, store, TokenPolicy{})
				for _, ts := range fleet {
					_, err := ts.Token(context.Background())
					require.NoError(t, err)
				}
				assert.Equal(t, 2, srv.minted(), "tokens minted, each instance on its own")
			})
		})
	}
}

// badShared is a fakeShared whose Get panics or hangs until release.
type badShared struct {
	*fakeShared
	mode    string
	release chan struct{}
}

func (b *badShared) Get(ctx context.Context, key string) ([]byte, error) {
	if b.mode == "panic" {
		panic("store bug")
	}
	<-b.release
	return nil, ErrStoreMiss
}

// TestFleetStoreHooks: every store call is reported to Hooks.Store.
func TestFleetStoreHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		var mu sync.Mutex
		seen := map[string]bool{} // op + " " + outcome
		c, err := NewClient(testID, testSecret, WithBaseURL(mockBase), noRetry,
			WithHTTPClient(newHTTPClient(srv)), WithHooks(Hooks{Store: func(e StoreEvent) {
				mu.Lock()
				defer mu.Unlock()
				seen[e.Op+" "+string(e.Outcome)] = true
			}}))
		require.NoError(t, err)
		ts, err := c.TokenSource(TokenPolicy{Store: store})
		require.NoError(t, err)
		_, err = ts.Token(context.Background())
		require.NoError(t, err)
		synctest.Wait() // the watch loop has started watching
		require.NoError(t, ts.Close(context.Background()))
		mu.Lock()
		defer mu.Unlock()
		for _, want := range []string{"get miss", "lock ok", "put ok", "unlock ok", "watch ok", "get hit"} {
			assert.True(t, seen[want], "store event %q not reported", want)
		}
	})
}

// TestFleetSteadyState: over a SharedStore, the warm Token still reads no
// clock, allocates nothing and calls no store method.
func TestFleetSteadyState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		var reads atomic.Int64
		now := func() time.Time { reads.Add(1); return time.Now() }
		c, err := NewClient(testID, testSecret, WithBaseURL(mockBase), noRetry, WithHTTPClient(newHTTPClient(srv)),
			withClock(clock{now: now}), WithHooks(Hooks{Store: func(StoreEvent) {}}))
		require.NoError(t, err)
		ts, err := c.TokenSource(TokenPolicy{Store: store, RevokeOnClose: true})
		require.NoError(t, err)
		defer ts.Close(context.Background())
		first := current(t, ts)
		synctest.Wait()
		calls := func() int {
			store.mu.Lock()
			defer store.mu.Unlock()
			n := 0
			for _, c := range store.calls {
				n += c
			}
			return n
		}
		before, beforeCalls := reads.Load(), calls()
		ctx := context.Background()
		allocs := testing.AllocsPerRun(1000, func() {
			// The check stays outside testify on the success path: its
			// arguments would allocate in the loop being measured.
			if tok, err := ts.Token(ctx); err != nil || tok.AccessToken != first {
				require.Failf(t, "Token", "got %v, %v, want the warm token", tok, err)
			}
		})
		assert.Zero(t, allocs, "allocations per warm Token")
		assert.Zero(t, reads.Load()-before, "clock reads by warm Tokens")
		assert.Zero(t, calls()-beforeCalls, "store calls by warm Tokens")
	})
}

// TestFleetCloseDuringSweep: Close while a sweep's revocation waits for its
// answer lets it finish and records it, so the token is revoked once, not
// again by Close.
func TestFleetCloseDuringSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		srv.slowRev = 10 * time.Second
		fleet := fleetOf(t, 2, srv, store, TokenPolicy{RevokeAfter: time.Minute})
		old := warm(t, fleet)
		_, err := fleet[0].Rotate(context.Background())
		require.NoError(t, err)
		time.Sleep(time.Minute + fleetNotice + fleetSweepJitter + time.Second) // a revocation is under way
		_, n := srv.revoked(old.AccessToken)
		require.Equal(t, 1, n, "revocations under way")
		for _, ts := range fleet {
			require.NoError(t, ts.Close(context.Background()))
		}
		_, n = srv.revoked(old.AccessToken)
		assert.Equal(t, 1, n, "revocations of the replaced token")
	})
}

// TestFleetShortOutage: a store outage across the refresh window, shorter
// than the token's remaining life less fleetLocalMargin, costs no token:
// the instances keep their valid token and the fleet refreshes once when
// the store is back.
func TestFleetShortOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		fleet := fleetOf(t, 3, srv, store, TokenPolicy{})
		h := newHandout(len(fleet))
		h.callAll(t, srv, fleet, time.Second, 54*time.Minute) // refresh at 55 min
		store.set(func(s *fakeShared) { s.down = true })
		h.callAll(t, srv, fleet, time.Second, 3*time.Minute)
		store.set(func(s *fakeShared) { s.down = false })
		h.callAll(t, srv, fleet, time.Second, 2*time.Minute)
		assert.Zero(t, h.errs, "caller errors")
		assert.Equal(t, 2, srv.minted(), "tokens minted")
		assert.Equal(t, 1, h.distinct(), "distinct tokens handed out")
	})
}

// TestFleetRejectedBackoff: an API that rejects every token, seen by four
// instances that each report every rejection, costs the fleet one token per
// backoff step (1 s, 2 s, 4 s ... 1 min), not one per instance or per
// request.
func TestFleetRejectedBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		fleet := fleetOf(t, 4, srv, store, TokenPolicy{})
		warm(t, fleet)
		for end := time.Now().Add(3 * time.Minute); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			for _, ts := range fleet {
				if tok, err := ts.Token(context.Background()); err == nil {
					ts.Invalidate(tok.AccessToken)
				}
			}
		}
		// Steps at 0, 1, 2, 4, ..., 32 s, then every 60 s: about 10 in 3 min.
		assert.LessOrEqual(t, srv.minted(), 12, "tokens minted in 3 min of rejections")
		t.Logf("tokens minted in 3 min of rejections by 4 instances: %d", srv.minted())
	})
}
