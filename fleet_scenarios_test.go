package cryptofuse

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The promises of DESIGN.md "Fleets", each on N TokenSources of one
// process over one fakeShared, in a testing/synctest bubble: time is fake,
// and the tests count tokens, revocations and errors, never durations.

// TestFleetColdStart: 5 instances × 100 callers at once, one token.
func TestFleetColdStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		srv.delay = 100 * time.Millisecond // the lock is held across it
		fleet := fleetOf(t, 5, srv, store, TokenPolicy{})
		var wg sync.WaitGroup
		got := make(chan string, 500)
		for _, ts := range fleet {
			for range 100 {
				wg.Go(func() {
					tok, err := ts.Token(context.Background())
					if assert.NoError(t, err) {
						got <- tok.AccessToken
					}
				})
			}
		}
		wg.Wait()
		close(got)
		seen := map[string]int{}
		for tok := range got {
			seen[tok]++
		}
		assert.Equal(t, 1, srv.minted(), "tokens minted")
		assert.Len(t, seen, 1, "distinct tokens handed out")
	})
}

// runLifetimes runs n instances (over one store when shared, else each on
// its own) for lifetimes token lifetimes (1 h tokens, refreshed 5 min before
// expiry), every instance handing out a token every 30 s, and returns the
// tokens minted and the callers' errors.
func runLifetimes(t *testing.T, n, lifetimes int, shared bool) (minted, errs int) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		srv := newFleetServer(3600)
		srv.delay = 100 * time.Millisecond
		var fleet []*TokenSource
		if shared {
			fleet = fleetOf(t, n, srv, newFakeShared(), TokenPolicy{})
		} else {
			fleet = fleetOf(t, n, srv, nil, TokenPolicy{})
		}
		h := newHandout(n)
		h.callAll(t, srv, fleet, 30*time.Second, time.Duration(lifetimes)*55*time.Minute)
		minted, errs = srv.minted(), h.errs
	})
	return minted, errs
}

// TestFleetLifetimes: L lifetimes cost the fleet L tokens (±1), where
// instances with no shared store mint N × L.
func TestFleetLifetimes(t *testing.T) {
	const lifetimes = 4
	for _, n := range []int{3, 10, 50} {
		t.Run("", func(t *testing.T) {
			alone, errs := runLifetimes(t, n, lifetimes, false)
			require.Zero(t, errs)
			shared, errs := runLifetimes(t, n, lifetimes, true)
			require.Zero(t, errs)
			perInstance := alone / n
			assert.InDelta(t, perInstance, shared, 1, "N=%d: tokens minted by the fleet (%d without sharing)", n, alone)
			t.Logf("N=%d, %d lifetimes: %d tokens shared, %d without sharing", n, lifetimes, shared, alone)
		})
	}
}

// TestFleetMaxAgeRotation: MaxAge rotation with RevokeAfter: each replaced
// token revoked exactly once, never while an instance still hands it out,
// and no sooner than RevokeAfter after the last instance handed it out.
func TestFleetMaxAgeRotation(t *testing.T) {
	for _, mute := range []bool{false, true} {
		name := map[bool]string{false: "notify", true: "poll only"}[mute]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const revokeAfter = 2 * time.Minute
				srv, store := newFleetServer(3600), newFakeShared()
				store.set(func(s *fakeShared) { s.mute = mute })
				fleet := fleetOf(t, 4, srv, store, TokenPolicy{MaxAge: 10 * time.Minute, RevokeAfter: revokeAfter})
				h := newHandout(len(fleet))
				h.callAll(t, srv, fleet, time.Second, time.Hour)
				// Let the last replaced tokens come due, the instances running.
				time.Sleep(fleetPoll + revokeAfter + fleetSweepJitter + time.Minute)
				h.call(t, srv, 0, fleet[0])
				require.Zero(t, h.errs)
				assert.Empty(t, h.early, "tokens handed out after their revocation")
				minted := srv.minted()
				assert.GreaterOrEqual(t, minted, 6, "tokens minted in 1 h with MaxAge 10 min: 6 to 8")
				assert.LessOrEqual(t, minted, 8, "tokens minted in 1 h with MaxAge 10 min: 6 to 8")
				cur, _ := fleet[0].Token(context.Background())
				for _, tok := range srv.tokens() {
					gone, n := srv.revoked(tok)
					if tok == cur.AccessToken {
						assert.False(t, gone, "the current token was revoked")
						continue
					}
					if n == 0 && time.Since(h.last[tok]) < revokeAfter+fleetSweepJitter+fleetPoll {
						// Replaced by the last call's refresh, in the
						// background: not due for revocation yet.
						continue
					}
					if !assert.Equal(t, 1, n, "token %s: revocations", Fingerprint(tok)) {
						continue
					}
					wait := srv.revokedWhen(tok).Sub(h.last[tok])
					assert.GreaterOrEqual(t, wait, revokeAfter, "token %s: time from its last hand-out to its revocation", Fingerprint(tok))
				}
			})
		})
	}
}

// TestFleetCrashedRotator: the instance that rotated stops without Close
// (a crash); another one revokes the token it replaced, once.
func TestFleetCrashedRotator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		p := TokenPolicy{RevokeAfter: time.Minute}
		crasher := fleetSource(t, srv, store, p, nil)
		others := fleetOf(t, 2, srv, store, p)
		first, err := crasher.Token(context.Background())
		require.NoError(t, err)
		for _, ts := range others {
			_, err := ts.Token(context.Background())
			require.NoError(t, err)
		}
		_, err = crasher.Rotate(context.Background())
		require.NoError(t, err)
		crasher.cancel() // its goroutines end; no Close, no revocation
		synctest.Wait()
		time.Sleep(fleetPoll + time.Minute + fleetSweepJitter + time.Second)
		_, n := srv.revoked(first.AccessToken)
		assert.Equal(t, 1, n, "revocations of the token the crashed instance replaced")
		assert.Equal(t, 2, srv.minted(), "tokens minted")
	})
}

// TestFleetCloseRevokeOnClose: Close of one of several never revokes the
// token the others use; the last Close revokes the current token and every
// retired one, once each, and deletes the record.
func TestFleetCloseRevokeOnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		fleet := fleetOf(t, 3, srv, store, TokenPolicy{RevokeOnClose: true})
		h := newHandout(len(fleet))
		h.callAll(t, srv, fleet, time.Second, 10*time.Second)
		_, err := fleet[1].Rotate(context.Background())
		require.NoError(t, err)
		h.callAll(t, srv, fleet, time.Second, time.Minute)
		require.NoError(t, fleet[0].Close(context.Background()))
		h.callAll(t, srv, fleet[1:], time.Second, time.Minute)
		assert.Empty(t, h.early, "tokens handed out after their revocation")
		for _, tok := range srv.tokens() {
			_, n := srv.revoked(tok)
			assert.Equal(t, 0, n, "after the first Close: token %s: revocations", Fingerprint(tok))
		}
		require.NoError(t, fleet[1].Close(context.Background()))
		require.NoError(t, fleet[2].Close(context.Background()))
		assert.Equal(t, 2, srv.minted(), "tokens minted")
		for _, tok := range srv.tokens() {
			_, n := srv.revoked(tok)
			assert.Equal(t, 1, n, "after the last Close: token %s: revocations", Fingerprint(tok))
		}
		assert.Zero(t, store.records(), "records left in the store")
	})
}

// TestFleetStoreOutage: while the store is down, callers see no error
// (instances get tokens of their own); once it is back, the fleet hands
// out one token again.
func TestFleetStoreOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(600), newFakeShared()
		fleet := fleetOf(t, 3, srv, store, TokenPolicy{RevokeAfter: time.Minute})
		h := newHandout(len(fleet))
		h.callAll(t, srv, fleet, time.Second, time.Minute)
		require.Equal(t, 1, srv.minted())
		store.set(func(s *fakeShared) { s.down = true })
		h.callAll(t, srv, fleet, time.Second, 20*time.Minute)
		assert.Zero(t, h.errs, "caller errors during the outage")
		during := srv.minted()
		assert.Greater(t, h.distinct(), 1, "instances on tokens of their own during the outage")
		store.set(func(s *fakeShared) { s.down = false })
		h.callAll(t, srv, fleet, time.Second, 2*fleetPoll)
		assert.Zero(t, h.errs, "caller errors after the outage")
		assert.Equal(t, 1, h.distinct(), "distinct tokens handed out after the store came back")
		assert.LessOrEqual(t, srv.minted()-during, 1, "tokens minted to converge")
		assert.Empty(t, h.early, "tokens handed out after their revocation")
		t.Logf("3 instances, 10 min tokens, 20 min store outage: %d tokens before, %d during, %d after", 1, during-1, srv.minted()-during)
	})
}
