package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/redisstore"
	"github.com/cryptofuse/cryptofuse-go/storetest"
	"github.com/redis/go-redis/v9"
)

// addrEnv names the Redis the tests use: host:port, on loopback. Start one
// with integration/redis.sh start DIR.
const addrEnv = "CRYPTOFUSE_REDIS_ADDR"

// redisAddr returns the Redis address from addrEnv, or skips the test.
func redisAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(addrEnv)
	if addr == "" {
		t.Skipf("%s is not set: no Redis to test against (start one with integration/redis.sh start DIR and set %s to the address it prints)", addrEnv, addrEnv)
	}
	return addr
}

// newClient returns a go-redis client of addr, closed when the test ends.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// testPrefix returns a fresh key prefix, so that runs sharing a Redis do
// not meet.
func testPrefix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "cryptofuse-test-" + hex.EncodeToString(b) + ":"
}

// TestConformance runs storetest against Redis, each newStore a client
// of its own (a process of the fleet) over one Redis and one prefix.
func TestConformance(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	storetest.TestSharedStore(t, func(t *testing.T) cryptofuse.SharedStore {
		return redisstore.New(newClient(t, addr), redisstore.WithPrefix(prefix), redisstore.WithPollInterval(time.Second))
	})
}

// TestConformanceOneClient runs storetest with a single client shared by
// every store, as the instances of one process would.
func TestConformanceOneClient(t *testing.T) {
	addr := redisAddr(t)
	s := redisstore.New(newClient(t, addr), redisstore.WithPrefix(testPrefix(t)))
	storetest.TestSharedStore(t, func(*testing.T) cryptofuse.SharedStore { return s })
}

// TestKeyRefused checks that keys that would break the hash tag are
// refused before any command is sent (the client has no server).
func TestKeyRefused(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()
	s := redisstore.New(rdb)
	ctx := context.Background()
	for _, key := range []string{"", "a{b}", "}", "{"} {
		calls := map[string]error{
			"Put":    s.Put(ctx, key, []byte("x")),
			"Delete": s.Delete(ctx, key),
			"Lock":   s.Lock(ctx, key, "o", time.Second),
			"Unlock": s.Unlock(ctx, key, "o"),
			"Join":   s.Join(ctx, key, "m", time.Second),
		}
		_, calls["Get"] = s.Get(ctx, key)
		_, calls["Leave"] = s.Leave(ctx, key, "m")
		_, calls["Watch"] = s.Watch(ctx, key)
		for name, err := range calls {
			if !errors.Is(err, redisstore.ErrKey) {
				t.Errorf("%s(%q): got error %v, want one wrapping ErrKey", name, key, err)
			}
		}
	}
}

// TestKeys checks the Redis keys the store uses, which the package doc
// lists: the record, lock and members under prefix{key}.
func TestKeys(t *testing.T) {
	addr := redisAddr(t)
	rdb := newClient(t, addr)
	prefix := testPrefix(t)
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	ctx := t.Context()
	if err := s.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(ctx, "k", "owner", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Join(ctx, "k", "member", time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{prefix + "{k}": true, prefix + "{k}:lock": true, prefix + "{k}:members": true}
	if len(got) != len(want) {
		t.Errorf("keys: got %q, want %d keys", got, len(want))
	}
	for _, k := range got {
		if !want[k] {
			t.Errorf("keys: got %q, want only the record, lock and members", k)
		}
		if ttl := rdb.PTTL(ctx, k).Val(); (ttl > 0) != (k != prefix+"{k}") {
			t.Errorf("PTTL(%q): got %v, want an expiry on the lock and members only", k, ttl)
		}
	}
	_ = s.Delete(ctx, "k")
	_ = s.Unlock(ctx, "k", "owner")
	_, _ = s.Leave(ctx, "k", "member")
	if n := rdb.Exists(ctx, want2slice(want)...).Val(); n != 0 {
		t.Errorf("after Delete, Unlock and the last Leave: got %d keys left, want 0", n)
	}
}

func want2slice(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return s
}
