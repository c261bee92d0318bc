package cryptofuse

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestFleetSwitchDelay measures the switch, in synctest's fake time: how
// long after a new token is stored each other instance makes it its
// current one, with change notices and with notices lost (polling only).
// It checks the documented bound (fleetPoll) and logs p50, p99 and max;
// the numbers are fake time, as exact as the 100 ms step that samples them.
func TestFleetSwitchDelay(t *testing.T) {
	for _, mute := range []bool{false, true} {
		name := map[bool]string{false: "notify", true: "poll only"}[mute]
		t.Run(name, func(t *testing.T) {
			delays := switchDelays(t, 10, 20, mute)
			slices.Sort(delays)
			p := func(q float64) time.Duration { return delays[int(q*float64(len(delays)-1))] }
			t.Logf("%s: %d switches: p50 %v, p99 %v, max %v", name, len(delays), p(0.5), p(0.99), p(1))
			if max := p(1); max > fleetPoll {
				t.Errorf("slowest switch: got %v, want at most fleetPoll %v", max, fleetPoll)
			}
			if !mute && p(1) != 0 {
				t.Errorf("slowest switch with notices: got %v, want 0 (fake time)", p(1))
			}
		})
	}
}

// switchDelays runs n instances (jittered polls) and rotates instance 0
// rotations times, 7 minutes apart; it returns, for each rotation and each
// other instance, the fake time from the Put to the instance's switch.
func switchDelays(t *testing.T, n, rotations int, mute bool) []time.Duration {
	t.Helper()
	var delays []time.Duration
	synctest.Test(t, func(t *testing.T) {
		srv, store := newFleetServer(3600), newFakeShared()
		store.set(func(s *fakeShared) { s.mute = mute })
		fleet := make([]*TokenSource, n)
		for i := range fleet {
			fleet[i] = fleetSource(t, srv, store, TokenPolicy{}, rand.Int64N)
			t.Cleanup(func() { _ = fleet[i].Close(context.Background()) })
			if _, err := fleet[i].Token(context.Background()); err != nil {
				t.Fatalf("instance %d Token: got %v, want nil", i, err)
			}
		}
		for range rotations {
			time.Sleep(7 * time.Minute)
			tok, err := fleet[0].Rotate(context.Background())
			if err != nil {
				t.Fatalf("Rotate: got %v, want nil", err)
			}
			stored := time.Now()
			pending := slices.Clone(fleet[1:])
			for len(pending) > 0 {
				synctest.Wait()
				pending = slices.DeleteFunc(pending, func(ts *TokenSource) bool {
					e := ts.cur.Load()
					if e != nil && e.tok.AccessToken == tok.AccessToken {
						delays = append(delays, time.Since(stored))
						return true
					}
					return false
				})
				if len(pending) > 0 {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}
	})
	return delays
}

// TestFleetStoreTraffic counts the store calls of an idle fleet (one-hour
// tokens, RevokeOnClose, callers every second) over two hours: a few per
// minute per instance (a read per poll, a Join per renewal), none per call.
func TestFleetStoreTraffic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, run = 5, 2 * time.Hour
		srv, store := newFleetServer(3600), newFakeShared()
		fleet := fleetOf(t, n, srv, store, TokenPolicy{RevokeOnClose: true})
		h := newHandout(n)
		h.callAll(t, srv, fleet, time.Second, run)
		store.mu.Lock()
		total, ops := 0, map[string]int{}
		for op, c := range store.calls {
			total += c
			ops[op] = c
		}
		store.mu.Unlock()
		perMin := float64(total) / n / run.Minutes()
		t.Logf("store calls per instance per minute: %.2f (%v over %v, %d instances, %d Token calls)", perMin, ops, run, n, n*int(run/time.Second))
		if perMin > 6 {
			t.Errorf("store calls per instance per minute: got %.2f, want at most 6", perMin)
		}
	})
}
