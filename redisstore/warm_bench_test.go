package redisstore_test

import (
	"context"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// BenchmarkWarmToken is TokenSource.Token on a fresh token, for a source
// kept in memory and for one of a fleet over this store, in one run: the
// hot path sends no Redis command and allocates nothing either way.
func BenchmarkWarmToken(b *testing.B) {
	srv := cryptofusetest.NewServer("bench-id", "bench-secret")
	b.Cleanup(srv.Close)
	c, err := cryptofuse.NewClient("bench-id", "bench-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		store func() cryptofuse.TokenStore
	}{
		{"memory", func() cryptofuse.TokenStore { return nil }},
		{"redisstore", func() cryptofuse.TokenStore { return benchStore(b) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ts, err := c.TokenSource(cryptofuse.TokenPolicy{Store: tc.store()})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = ts.Close(context.Background()) })
			ctx := context.Background()
			if _, err := ts.Token(ctx); err != nil {
				b.Fatal(err)
			}
			before := srv.Counts()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := ts.Token(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if after := srv.Counts(); after.Token != before.Token {
				b.Errorf("tokens issued during the loop: %d, want 0", after.Token-before.Token)
			}
		})
	}
}
