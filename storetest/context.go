package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
)

// call is one method call of a store, made with the ctx given.
type call struct {
	name string
	do   func(ctx context.Context) error
}

func storeCalls(s cryptofuse.TokenStore, key string) []call {
	return []call{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, key); return err }},
		{"Put", func(ctx context.Context) error { return s.Put(ctx, key, []byte("late")) }},
		{"Delete", func(ctx context.Context) error { return s.Delete(ctx, key) }},
	}
}

func sharedCalls(s cryptofuse.SharedStore, key string) []call {
	return []call{
		{"Lock", func(ctx context.Context) error { return s.Lock(ctx, key, "owner", time.Minute) }},
		{"Unlock", func(ctx context.Context) error { return s.Unlock(ctx, key, "owner") }},
		{"Join", func(ctx context.Context) error { return s.Join(ctx, key, "member", time.Minute) }},
		{"Leave", func(ctx context.Context) error { _, err := s.Leave(ctx, key, "member"); return err }},
		{"Watch", func(ctx context.Context) error {
			ch, err := s.Watch(ctx, key)
			if err != nil {
				return err
			}
			// A channel instead of an error is fine if it is closed: the
			// ctx is done. Drain it; waitReturn bounds the wait.
			for range ch {
			}
			return ctx.Err()
		}},
	}
}

// doneContexts returns a cancelled context and one whose deadline has
// passed, with the error each call must wrap.
func doneContexts(t *testing.T) []struct {
	name string
	ctx  context.Context
	want error
} {
	t.Helper()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	t.Cleanup(cancel2)
	return []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"Cancelled", cancelled, context.Canceled},
		{"DeadlinePassed", expired, context.DeadlineExceeded},
	}
}

// checkCalls makes every call with each done context and checks that it
// returns, with an error wrapping the context's.
func checkCalls(t *testing.T, calls []call) {
	t.Helper()
	for _, c := range doneContexts(t) {
		for _, call := range calls {
			t.Run(c.name+"/"+call.name, func(t *testing.T) {
				ok, err := waitReturn(func() error { return call.do(c.ctx) })
				if !ok {
					t.Fatalf("%s with a done ctx: still running after %v, want it to return at once", call.name, patience)
				}
				if !errors.Is(err, c.want) {
					t.Errorf("%s with a done ctx: got error %v, want one wrapping %v", call.name, err, c.want)
				}
			})
		}
	}
}

// waitReturn runs f and waits up to patience for it to return.
func waitReturn(f func() error) (ok bool, err error) {
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case err := <-done:
		return true, err
	case <-timer.C:
		return false, nil
	}
}

func testContext(t *testing.T, newStore func(*testing.T) cryptofuse.TokenStore, key string) {
	s := newStore(t)
	mustPut(t, s, key, []byte("kept"))
	checkCalls(t, storeCalls(s, key))
}

func testSharedContext(t *testing.T, newStore func(*testing.T) cryptofuse.SharedStore, key string) {
	checkCalls(t, sharedCalls(newStore(t), key))
}
