package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go/redisstore"
)

// benchRecord is about the size of a sealed record.
var benchRecord = bytes.Repeat([]byte{0xa5}, 320)

// benchContexts are the two ways a store is called: a ctx without a Done
// channel (the call runs on the caller's goroutine) and one with a
// deadline, as the TokenSource calls it (the call runs on a goroutine of
// its own so that it can be abandoned).
func benchContexts(b *testing.B) []struct {
	name string
	ctx  context.Context
} {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	b.Cleanup(cancel)
	return []struct {
		name string
		ctx  context.Context
	}{{"Background", context.Background()}, {"Deadline", ctx}}
}

func benchStore(b *testing.B) *redisstore.Store {
	b.Helper()
	return redisstore.New(newClient(b, redisAddr(b)), redisstore.WithPrefix(testPrefix(b)))
}

// BenchmarkGet is one GET of a record of 320 bytes, a round trip to Redis.
func BenchmarkGet(b *testing.B) {
	s := benchStore(b)
	if err := s.Put(context.Background(), "k", benchRecord); err != nil {
		b.Fatal(err)
	}
	for _, c := range benchContexts(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Get(c.ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPut is one Put of a record of 320 bytes: the Lua script that
// sets it and publishes the change notice.
func BenchmarkPut(b *testing.B) {
	s := benchStore(b)
	for _, c := range benchContexts(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Put(c.ctx, "k", benchRecord); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLockUnlock is a Lock and an Unlock, two scripts.
func BenchmarkLockUnlock(b *testing.B) {
	s := benchStore(b)
	for _, c := range benchContexts(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Lock(c.ctx, "k", "owner", time.Minute); err != nil {
					b.Fatal(err)
				}
				if err := s.Unlock(c.ctx, "k", "owner"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWatch measures how long after a change the watchers of 10
// clients (the instances of a fleet) hear of it: p50, p99 and max over
// every watcher and change, from the start of the writer's Put. Notify
// changes the record with Put (the change notice works); Poll with a SET
// that announces nothing (the notice was lost), so that only the poll,
// every 200 ms here, finds it.
func BenchmarkWatch(b *testing.B) {
	addr := redisAddr(b)
	const watchers = 10
	const poll = 200 * time.Millisecond
	for _, lost := range []bool{false, true} {
		name := map[bool]string{false: "Notify", true: "Poll"}[lost]
		b.Run(name, func(b *testing.B) {
			prefix := testPrefix(b)
			rdb := newClient(b, addr)
			writer := redisstore.New(rdb, redisstore.WithPrefix(prefix))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var chans []<-chan struct{}
			for range watchers {
				s := redisstore.New(newClient(b, addr), redisstore.WithPrefix(prefix), redisstore.WithPollInterval(poll))
				ch, err := s.Watch(ctx, "k")
				if err != nil {
					b.Fatal(err)
				}
				chans = append(chans, ch)
			}
			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				for _, ch := range chans {
					drain(ch)
				}
				record := fmt.Appendf(nil, "record %d", i)
				start := time.Now()
				var err error
				if lost {
					err = rdb.Set(ctx, prefix+"{k}", record, 0).Err()
				} else {
					err = writer.Put(ctx, "k", record)
				}
				if err != nil {
					b.Fatal(err)
				}
				for _, ch := range chans {
					<-ch
					lat = append(lat, time.Since(start))
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
		})
	}
}
