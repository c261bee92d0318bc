package cryptofuse

import (
	"context"
	"testing"
	"time"
)

// TestSleepCtx: the system clock's sleep waits for d, or returns ctx's error
// at once when ctx is done first. No case waits longer than a millisecond.
func TestSleepCtx(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	cases := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want error
	}{
		{"short wait", context.Background(), time.Millisecond, nil},
		{"zero wait", context.Background(), 0, nil},
		{"cancelled during an hour's wait", cancelled, time.Hour, context.Canceled},
		{"deadline passed during an hour's wait", expired, time.Hour, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := sleepCtx(tc.ctx, tc.d); got != tc.want {
				t.Errorf("sleepCtx(%v) = %v, want %v", tc.d, got, tc.want)
			}
		})
	}
}

// TestSleepCtx_CancelEndsWait: cancelling ctx from elsewhere ends an hour's
// wait. The test does not depend on when the cancel lands: before or during
// the wait, sleepCtx must return context.Canceled.
func TestSleepCtx_CancelEndsWait(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sleepCtx(ctx, time.Hour) }()
	cancel()
	if got := <-done; got != context.Canceled {
		t.Errorf("got %v, want %v", got, context.Canceled)
	}
}

func TestClockUntil(t *testing.T) {
	t.Parallel()
	k := clock{now: func() time.Time { return testNow }}
	cases := []struct {
		deadline time.Time
		want     time.Duration
	}{
		{testNow.Add(time.Second), time.Second},
		{testNow, 0},
		{testNow.Add(-time.Minute), -time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.want.String(), func(t *testing.T) {
			if got := k.until(tc.deadline); got != tc.want {
				t.Errorf("until(%v) = %v, want %v", tc.deadline, got, tc.want)
			}
		})
	}
}
