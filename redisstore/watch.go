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
// key's channel and waits for Redis to confirm the subscription (for at
// most one poll interval, and never past ctx), so that a change made after
// Watch returns is notified. Every poll interval it also pings the
// subscription (subscribing again on a connection that stopped answering)
// and reads the record, so that a notice lost while Redis or the network
// was down arrives within an interval of the recovery. While Redis is
// unreachable the channel stays open and the watch keeps trying.
//
// The channel is closed as soon as ctx is done. The watch's goroutine and
// connection end then too, or, on a Redis that does not answer, when
// go-redis gives up on it (its ReadTimeout). Watch returns an error only
// for a done ctx or an unusable key.
func (s *Store) Watch(ctx context.Context, key string) (<-chan struct{}, error) {
	n, err := s.names(key)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, fail("watch", err)
	}
	w := &watch{s: s, key: key, channel: n.channel, out: make(chan struct{}, 1)}
	stop := context.AfterFunc(ctx, w.finish)
	_, err = do(ctx, func(ctx context.Context) (struct{}, error) {
		if w.subscribe(ctx) {
			w.confirm(ctx)
		}
		return struct{}{}, nil
	})
	if err == nil {
		w.poll(ctx, false)
		err = ctx.Err()
	}
	if err != nil {
		stop()
		w.finish()
		return nil, fail("watch", err)
	}
	go w.run(ctx)
	return w.out, nil
}

// watch is the state of one Watch. mu guards ps, done and sends on out;
// last, present and known belong to the goroutine polling (Watch, then
// run).
type watch struct {
	s            *Store
	key, channel string
	out          chan struct{}

	mu   sync.Mutex
	ps   *redis.PubSub
	done bool // out is closed

	last    []byte // the record as the last poll read it
	present bool   // whether the last poll found a record
	known   bool   // whether a poll succeeded
}

// subscribe replaces the watch's subscription with a new one, and reports
// whether it did (not once the watch is finished). go-redis sends
// SUBSCRIBE at once (an error resurfaces on the first receive) and may
// block while dialling, so subscribe gives up when ctx is done, and the
// subscription, when it comes, is closed.
func (w *watch) subscribe(ctx context.Context) bool {
	got := make(chan *redis.PubSub, 1)
	go func() { got <- w.s.rdb.Subscribe(ctx, w.channel) }()
	var ps *redis.PubSub
	select {
	case ps = <-got:
	case <-ctx.Done():
		go func() { _ = (<-got).Close() }()
		return false
	}
	w.mu.Lock()
	old, done := w.ps, w.done
	if !done {
		w.ps = ps
	}
	w.mu.Unlock()
	if done {
		old = ps
	}
	if old != nil {
		_ = old.Close()
	}
	return !done
}

// pubsub returns the current subscription.
func (w *watch) pubsub() *redis.PubSub {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ps
}

// finish closes out and the subscription, once ctx is done. Closing the
// subscription ends a receive blocked on it.
func (w *watch) finish() {
	w.mu.Lock()
	if w.done {
		w.mu.Unlock()
		return
	}
	w.done = true
	close(w.out)
	ps := w.ps
	w.mu.Unlock()
	if ps != nil {
		_ = ps.Close()
	}
}

// notify sends on out unless a value is already waiting there or the
// watch is finished.
func (w *watch) notify() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
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

// run receives change notices, pings and polls until ctx is done.
func (w *watch) run(ctx context.Context) {
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
			if !w.subscribe(ctx) {
				return
			}
			ps = w.pubsub()
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
