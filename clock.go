package cryptofuse

import (
	"context"
	"math/rand/v2"
	"time"
)

// clock is where a Client gets time from: the current time (Retry-After
// dates, token expiry, the log's durations), the randomness of the backoff,
// the sleep between attempts, and the timeout of a call whose ctx has no
// deadline. Each Client holds its own, so tests replace it per Client
// (withClock) and can run in parallel.
type clock struct {
	now     func() time.Time
	jitter  func(n int64) int64 // a random number in [0, n), n > 0
	sleep   func(ctx context.Context, d time.Duration) error
	timeout time.Duration
}

// systemClock is the clock of every Client that tests did not touch.
var systemClock = clock{
	now:     time.Now,
	jitter:  rand.Int64N,
	sleep:   sleepCtx,
	timeout: DefaultTimeout,
}

// sleepCtx waits for d, or until ctx is done, whichever comes first, and
// returns ctx.Err() in the second case.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// until is the time left before deadline, by this clock.
func (k *clock) until(deadline time.Time) time.Duration { return deadline.Sub(k.now()) }
