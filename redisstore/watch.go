package redisstore

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/redis/go-redis/v9"
)

// Watch returns a channel that receives after the record under key changes
// by Put or Delete from any process: coalesced (one value stands for any
// number of changes), maybe late, maybe spurious. It subscribes to the
// key's channel and waits for Redis to confirm the subscription, for at
// most one poll interval, so that a change made after Watch returns is
// notified. Every poll interval it also pings the subscription (and
// subscribes again on a connection that stopped answering) and reads the
// record, so that a notice lost while Redis or the network was down
// arrives within an interval of the recovery. While Redis is unreachable
// the channel stays open and the watch keeps trying.
//
// The channel is closed once ctx is done, and then the watch's goroutine
// and connection are gone. Watch returns an error only for a done ctx or
// an unusable key.
func (s *Store) Watch(ctx context.Context, key string) (<-chan struct{}, error) {
	n, err := s.names(key)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, fail("watch", err)
	}
	w := &watch{s: s, key: key, channel: n.channel, out: make(chan struct{}, 1)}
	w.subscribe(ctx)
	stop := context.AfterFunc(ctx, w.close)
	w.confirm(ctx)
	w.poll(ctx, false)
	if err := ctx.Err(); err != nil {
		stop()
		w.close()
		return nil, fail("watch", err)
	}
	go w.run(ctx, stop)
	return w.out, nil
}

// watch is the state of one Watch. Only its goroutine (and Watch before
// starting it) uses last and known; mu guards ps against close.
type watch struct {
	s            *Store
	key, channel string
	out          chan struct{}

	mu     sync.Mutex
	ps     *redis.PubSub
	closed bool

	last    []byte // the record as the last poll read it
	present bool   // whether the last poll found a record
	known   bool   // whether a poll succeeded
}

// subscribe replaces the watch's subscription with a new one.
func (w *watch) subscribe(ctx context.Context) *redis.PubSub {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ps != nil {
		_ = w.ps.Close()
	}
	if w.closed {
		return w.ps
	}
	// Subscribe sends SUBSCRIBE now (its error resurfaces on the first
	// receive); ctx is only that first write's.
	w.ps = w.s.rdb.Subscribe(ctx, w.channel)
	return w.ps
}

// pubsub returns the current subscription.
func (w *watch) pubsub() *redis.PubSub {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ps
}

// close ends the subscription for good; a blocked receive returns.
func (w *watch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	_ = w.ps.Close()
}

// notify sends on out unless a value is already waiting there.
func (w *watch) notify() {
	select {
	case w.out <- struct{}{}:
	default:
	}
}

// confirm waits up to a poll interval for Redis to confirm the first
// subscription; without it the goroutine keeps trying.
func (w *watch) confirm(ctx context.Context) {
	ps := w.pubsub()
	for {
		msg, err := ps.ReceiveTimeout(ctx, w.s.poll)
		if err != nil {
			return
		}
		if _, ok := msg.(*redis.Subscription); ok {
			return
		}
	}
}

// poll reads the record and notifies if it differs from the last read
// (and, if report, when no earlier read succeeded). A failed read keeps
// the last one.
func (w *watch) poll(ctx context.Context, report bool) {
	pctx, cancel := context.WithTimeout(ctx, w.s.poll)
	defer cancel()
	data, err := w.s.Get(pctx, w.key)
	present := err == nil
	if err != nil && !errors.Is(err, cryptofuse.ErrStoreMiss) {
		return
	}
	changed := !w.known || present != w.present || !bytes.Equal(data, w.last)
	if changed && (w.known || report) {
		w.notify()
	}
	w.last, w.present, w.known = data, present, true
}

// run delivers change notices until ctx is done, then closes out.
func (w *watch) run(ctx context.Context, stop func() bool) {
	defer close(w.out)
	defer stop()
	pinged := false // a PING is out that no PONG has answered yet
	for ctx.Err() == nil {
		ps := w.pubsub()
		msg, err := ps.ReceiveTimeout(ctx, w.s.poll)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			switch msg.(type) {
			case *redis.Message:
				w.notify()
			case *redis.Subscription:
				// Subscribed again after a reconnect: a notice may have
				// been lost meanwhile, and the next poll is a while off.
				w.notify()
			case *redis.Pong:
				pinged = false
			}
			continue
		case !isTimeout(err):
			// A broken connection: go-redis dials and subscribes again on
			// the next receive. Pause an interval so as not to spin.
			w.wait(ctx)
		case pinged:
			// The last PING went unanswered for an interval: the
			// connection is dead without having failed. Start over.
			ps = w.subscribe(ctx)
		}
		w.poll(ctx, true)
		pinged = ps.Ping(ctx) == nil
	}
}

// wait pauses for a poll interval or until ctx is done.
func (w *watch) wait(ctx context.Context) {
	t := time.NewTimer(w.s.poll)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// isTimeout reports whether err is a read that timed out: an interval with
// nothing to receive.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
