package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/redisstore"
	"github.com/redis/go-redis/v9"
)

// patience bounds every wait of these tests: far beyond any deadline or
// poll interval they use, so that only a hang reaches it.
const patience = 30 * time.Second

// call is one store method, called with ctx.
type call struct {
	name string
	do   func(ctx context.Context) error
}

func calls(s *redisstore.Store, key string) []call {
	return []call{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, key); return err }},
		{"Put", func(ctx context.Context) error { return s.Put(ctx, key, []byte("v")) }},
		{"Delete", func(ctx context.Context) error { return s.Delete(ctx, key) }},
		{"Lock", func(ctx context.Context) error { return s.Lock(ctx, key, "o", time.Minute) }},
		{"Unlock", func(ctx context.Context) error { return s.Unlock(ctx, key, "o") }},
		{"Join", func(ctx context.Context) error { return s.Join(ctx, key, "m", time.Minute) }},
		{"Leave", func(ctx context.Context) error { _, err := s.Leave(ctx, key, "m"); return err }},
		{"Watch", func(ctx context.Context) error { _, err := s.Watch(ctx, key); return err }},
	}
}

// within runs f and waits up to patience for it to return.
func within(f func() error) (ok bool, err error) {
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

// hangingClient returns a client through p with every go-redis timeout
// off: only the store's own handling of ctx can end a call to a Redis
// that does not answer.
func hangingClient(t *testing.T, p *proxy) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: p.addr(), ReadTimeout: -1, WriteTimeout: -1, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// TestRedisHangs stalls Redis (a proxy holds every byte) and checks that
// every method returns at its ctx's deadline, with an error wrapping
// context.DeadlineExceeded, although go-redis itself would wait for ever;
// and that the store works again once Redis answers.
func TestRedisHangs(t *testing.T) {
	p := newProxy(t, redisAddr(t))
	s := redisstore.New(hangingClient(t, p), redisstore.WithPrefix(testPrefix(t)), redisstore.WithPollInterval(time.Hour))
	if err := s.Put(t.Context(), "k", []byte("before")); err != nil {
		t.Fatalf("Put before the stall: %v", err)
	}
	p.set(proxyStalled)
	for _, c := range calls(s, "k") {
		ok, err := within(func() error {
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			return c.do(ctx)
		})
		if !ok {
			t.Fatalf("%s on a stalled Redis: still running after %v, want it to return at its ctx's deadline", c.name, patience)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a stalled Redis: got error %v, want one wrapping context.DeadlineExceeded", c.name, err)
		}
	}
	p.set(proxyUp)
	eventually(t, "Put and Get after the stall", func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if s.Put(ctx, "k", []byte("after")) != nil {
			return false
		}
		got, err := s.Get(ctx, "k")
		return err == nil && string(got) == "after"
	})
}

// TestRedisGone closes every connection and refuses new ones (Redis
// stopped): every method returns an error of its own, not its ctx's, and
// the store works again once Redis is back.
func TestRedisGone(t *testing.T) {
	p := newProxy(t, redisAddr(t))
	s := redisstore.New(hangingClient(t, p), redisstore.WithPrefix(testPrefix(t)), redisstore.WithPollInterval(time.Hour))
	if err := s.Put(t.Context(), "k", []byte("before")); err != nil {
		t.Fatalf("Put before the outage: %v", err)
	}
	p.set(proxyDown)
	for _, c := range calls(s, "k") {
		if c.name == "Watch" {
			continue // Watch keeps trying; TestWatchOutage covers it
		}
		ok, err := within(func() error {
			ctx, cancel := context.WithTimeout(t.Context(), patience)
			defer cancel()
			return c.do(ctx)
		})
		if !ok {
			t.Fatalf("%s on a stopped Redis: still running after %v", c.name, patience)
		}
		if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, cryptofuse.ErrStoreMiss) {
			t.Errorf("%s on a stopped Redis: got error %v, want the connection's failure", c.name, err)
		}
	}
	p.set(proxyUp)
	eventually(t, "Get after the outage", func() bool {
		got, err := s.Get(t.Context(), "k")
		return err == nil && string(got) == "before"
	})
}

// TestWatchOutage checks that a Watch survives Redis going away and
// coming back: its channel stays open, and a change made while its
// subscription was down arrives once Redis is back.
func TestWatchOutage(t *testing.T) {
	addr := redisAddr(t)
	p := newProxy(t, addr)
	prefix := testPrefix(t)
	watcher := redisstore.New(newClient(t, p.addr()), redisstore.WithPrefix(prefix), redisstore.WithPollInterval(100*time.Millisecond))
	writer := redisstore.New(newClient(t, addr), redisstore.WithPrefix(prefix))
	ch, err := watcher.Watch(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	p.set(proxyDown)
	if err := writer.Put(t.Context(), "k", []byte("while down")); err != nil {
		t.Fatal(err)
	}
	drain(ch) // only what the outage itself caused
	p.set(proxyUp)
	receive(t, ch, "a Put while Redis was away")
}

// TestWatchSilentConnection makes the watch's connection die in silence
// (open, but carrying nothing: a network partition, a NAT that forgot it)
// while another process deletes the record and puts it back unchanged, a
// change that no poll can see. The watch must find out, by its
// unanswered PING, subscribe again and notify.
func TestWatchSilentConnection(t *testing.T) {
	addr := redisAddr(t)
	p := newProxy(t, addr)
	prefix := testPrefix(t)
	rdb := redis.NewClient(&redis.Options{Addr: p.addr(), ContextTimeoutEnabled: true, ReadTimeout: -1, WriteTimeout: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	watcher := redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithPollInterval(100*time.Millisecond))
	writer := redisstore.New(newClient(t, addr), redisstore.WithPrefix(prefix))
	if err := writer.Put(t.Context(), "k", []byte("same")); err != nil {
		t.Fatal(err)
	}
	ch, err := watcher.Watch(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	p.orphanAll()
	drain(ch)
	if err := writer.Delete(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	if err := writer.Put(t.Context(), "k", []byte("same")); err != nil {
		t.Fatal(err)
	}
	receive(t, ch, "a Delete and Put over a silent connection")
}

// drain takes what is waiting on ch.
func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// receive waits up to patience for a value on ch.
func receive(t *testing.T, ch <-chan struct{}, after string) {
	t.Helper()
	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("Watch channel closed after %s, want a notification", after)
		}
	case <-timer.C:
		t.Fatalf("no notification %v after %s", patience, after)
	}
}

// eventually polls cond until it holds, failing after patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, patience)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWatchNoLeak cancels many watches and checks that their goroutines
// (and go-redis's for their subscriptions) are gone again.
func TestWatchNoLeak(t *testing.T) {
	s := redisstore.New(newClient(t, redisAddr(t)), redisstore.WithPrefix(testPrefix(t)))
	if _, err := s.Leave(t.Context(), "warm-up", "m"); err != nil {
		t.Fatal(err)
	}
	before := settledGoroutines()
	ctx, cancel := context.WithCancel(t.Context())
	var chans []<-chan struct{}
	for i := range 20 {
		ch, err := s.Watch(ctx, fmt.Sprintf("k%d", i))
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	if got := settledGoroutines(); got < before+20 {
		t.Fatalf("goroutines with 20 watches: got %d, want at least %d (one per watch)", got, before+20)
	}
	cancel()
	for _, ch := range chans {
		ok, _ := within(func() error {
			for range ch {
			}
			return nil
		})
		if !ok {
			t.Fatalf("a Watch channel is still open %v after its ctx was cancelled", patience)
		}
	}
	eventually(t, "goroutines back to where they were", func() bool { return runtime.NumGoroutine() <= before })
}

// settledGoroutines is the fewest goroutines seen over a few samples:
// without those that were just ending (a finished call's).
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 10 {
		time.Sleep(10 * time.Millisecond)
		n = min(n, runtime.NumGoroutine())
	}
	return n
}

// TestWatchPolls changes the record behind the store's back (a SET with no
// change notice, as when a notice is lost) and checks that the watch's
// poll finds the change.
func TestWatchPolls(t *testing.T) {
	addr := redisAddr(t)
	rdb := newClient(t, addr)
	prefix := testPrefix(t)
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithPollInterval(100*time.Millisecond))
	ch, err := s.Watch(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(t.Context(), prefix+"{k}", "unannounced", 0).Err(); err != nil {
		t.Fatal(err)
	}
	receive(t, ch, "a SET without a notice")
	drain(ch)
	if err := rdb.Del(t.Context(), prefix+"{k}").Err(); err != nil {
		t.Fatal(err)
	}
	receive(t, ch, "a DEL without a notice")
}
