package redisstore_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/redisstore"
	"github.com/redis/go-redis/v9"
)

// A store on a single Redis. ContextTimeoutEnabled makes go-redis end a
// command at its context's deadline, as the store does.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close()
	store := redisstore.New(rdb, redisstore.WithPrefix("billing:"))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := store.Put(ctx, "cryptofuse-v1-example", []byte("sealed record")); err != nil {
		log.Print(err) // the TokenSource treats this as a miss
	}
}

// A store on Redis Cluster: the store's keys carry a hash tag, so one
// key's record, lock and members share a slot.
func ExampleNew_cluster() {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close()
	_ = redisstore.New(rdb)
}

// A store on a Redis that Sentinel fails over.
func ExampleNew_sentinel() {
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            "tokens",
		SentinelAddrs:         []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close()
	_ = redisstore.New(rdb)
}

// Every instance of a service shares one token through Redis: each builds
// its TokenSource over the same store, with the same policy. Compiled, not
// run: it needs a Redis and real credentials.
func ExampleNew_fleet() {
	id, secret := os.Getenv("CRYPTOFUSE_CLIENT_ID"), os.Getenv("CRYPTOFUSE_CLIENT_SECRET")
	c, err := cryptofuse.NewClient(id, secret)
	if err != nil {
		log.Fatal(err)
	}

	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{
		MaxAge:        time.Hour,   // the fleet rotates hourly, as one
		RevokeAfter:   time.Minute, // a replaced token is revoked once, by one instance
		RevokeOnClose: true,        // by the last instance to close
		Store:         redisstore.New(rdb, redisstore.WithPrefix("billing:")),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close(context.Background())
	api := &http.Client{Transport: ts.Transport(nil)}
	_ = api
}
