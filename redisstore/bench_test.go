package redisstore_test

import (
	"bytes"
	"context"
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
