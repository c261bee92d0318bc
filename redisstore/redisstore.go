// Package redisstore is a [cryptofuse.SharedStore] on Redis (or Valkey),
// through github.com/redis/go-redis/v9: the store over which the
// TokenSources of a fleet's instances, in as many processes and hosts as
// you run, act as one (see the cryptofuse README, "Fleets").
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
//	store := redisstore.New(rdb)
//
// The records it keeps are sealed by the TokenSource (AES-256-GCM under a
// key derived from the client secret): without that secret, a Redis dump
// holds no usable token.
//
// # Keys
//
// For a store key k (the TokenSource's keys use only [A-Za-z0-9-]) the
// store uses, under its prefix ([WithPrefix], "cryptofuse:" by default):
//
//	cryptofuse:{k}          the record (a string; GET, SET, DEL)
//	cryptofuse:{k}:lock     the lock (a string holding the owner, with an expiry)
//	cryptofuse:{k}:members  the members (a sorted set, member -> expiry in ms)
//	cryptofuse:{k}:changed  the channel Put and Delete publish on
//
// The braces are a Redis Cluster hash tag: the four share one hash slot, so
// the Lua scripts the store runs touch a single slot. A key must therefore
// hold no brace, and must not be empty; the store refuses such a key with
// [ErrKey]. Give the applications that share one Redis different
// prefixes; every instance of one fleet must use the same prefix.
//
// # Deployments
//
// New takes a [redis.UniversalClient], so the same store serves:
//   - a single Redis or Valkey: [redis.NewClient];
//   - Redis Cluster (or Valkey cluster mode): [redis.NewClusterClient]. The
//     hash tag keeps a key's record, lock and members in one slot; the
//     change notices use classic PUBLISH/SUBSCRIBE, which a cluster
//     forwards to every node;
//   - Sentinel: [redis.NewFailoverClient].
//
// Keep reads on the primary (no ReadOnly, RouteByLatency or RouteRandomly):
// a replica may answer Get with an older record. A lock granted by a
// primary that fails before replicating it may be granted again by the new
// primary, since Redis replicates asynchronously; the store does not
// implement Redlock, and a lock is only as exclusive as the primary is
// durable.
//
// It needs Lua scripting (EVAL, EVALSHA, and TIME inside a script: Redis
// 3.2 or later, any Valkey; CI tests Redis 7.0) and PUBLISH/SUBSCRIBE, and
// no module.
//
// # Contexts and failures
//
// Every method honours its ctx: it returns ctx.Err() (wrapped) once ctx is
// done, even while Redis does not answer, although the command it sent may
// still run. go-redis by default ignores a context's deadline on the socket
// and waits for its own ReadTimeout (3 s); create the client with
// ContextTimeoutEnabled: true so that an abandoned command ends at the
// deadline too. Other failures come back as go-redis reports them, wrapped.
// A TokenSource treats every store failure as a miss: while Redis is down
// its callers see no error as long as the token endpoint answers.
//
// # Traffic
//
// Get, Put, Delete, Lock, Unlock, Join and Leave are one round trip each
// (all but Get run as Lua scripts, by EVALSHA; the first run of a script
// on a server that does not know it yet takes a second, EVAL). Each Watch
// holds one connection in SUBSCRIBE mode and, every poll interval
// ([WithPollInterval], 10 s by default), sends a PING on it and a GET, so
// that a notification lost to a broken connection is made up for within
// the interval. A warm TokenSource sends no command at all.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the prefix of every Redis key and channel a [Store] uses
// unless [WithPrefix] sets another.
const DefaultPrefix = "cryptofuse:"

// DefaultPollInterval is how often a [Store.Watch] checks its subscription
// and the record, unless [WithPollInterval] sets another interval: the bound
// on a lost change notice.
const DefaultPollInterval = 10 * time.Second

// ErrKey is wrapped by the error of every method given a key the store
// cannot use: an empty one, or one with a brace ("{" or "}"), which would
// break the hash tag that keeps a key's Redis keys in one cluster slot.
var ErrKey = errors.New("cryptofuse: redisstore: key is empty or holds a brace")

// Store is a [cryptofuse.SharedStore] on Redis. Create it with [New]. It is
// safe for concurrent use by multiple goroutines, and any number of
// processes may share one Redis through stores with the same prefix.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	poll   time.Duration
}

var _ cryptofuse.SharedStore = (*Store)(nil)

// Option configures a [Store].
type Option func(*Store)

// WithPrefix sets the prefix of the store's Redis keys and channels
// (default [DefaultPrefix]). Use a prefix without braces; every instance of
// a fleet must use the same one.
func WithPrefix(prefix string) Option { return func(s *Store) { s.prefix = prefix } }

// WithPollInterval sets how often each [Store.Watch] pings its subscription
// and reads the record to catch a change notice that was lost (default
// [DefaultPollInterval]). A shorter interval bounds a lost notice more
// tightly at the cost of two commands per interval and watch. An interval
// of zero or less keeps the default.
func WithPollInterval(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.poll = d
		}
	}
}

// New returns a store that keeps its records, locks and members in Redis
// through rdb: a *redis.Client, *redis.ClusterClient or a Sentinel
// failover client (see the package doc). The store does not close rdb.
func New(rdb redis.UniversalClient, opts ...Option) *Store {
	s := &Store{rdb: rdb, prefix: DefaultPrefix, poll: DefaultPollInterval}
	for _, o := range opts {
		o(s)
	}
	return s
}

// names are the Redis keys and the channel of one store key.
type names struct{ record, lock, members, channel string }

func (s *Store) names(key string) (names, error) {
	if key == "" || strings.ContainsAny(key, "{}") {
		return names{}, ErrKey
	}
	base := s.prefix + "{" + key + "}"
	return names{record: base, lock: base + ":lock", members: base + ":members", channel: base + ":changed"}, nil
}

// fail wraps err, the failure of method op, for the caller.
func fail(op string, err error) error {
	return fmt.Errorf("cryptofuse: redisstore: %s: %w", op, err)
}

// do runs f and returns its result, or ctx.Err() as soon as ctx is done,
// whichever comes first: go-redis alone may wait for its ReadTimeout (or for
// ever, without one) on a Redis that does not answer. f keeps running until
// go-redis gives up; its result is then dropped.
func do[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if ctx.Done() == nil {
		return f(ctx)
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-done: // finished at the same time: keep the result
			return r.v, r.err
		default:
			return zero, ctx.Err()
		}
	}
}

// Get returns the record stored under key, or [cryptofuse.ErrStoreMiss]
// when there is none. The slice is the caller's.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	n, err := s.names(key)
	if err != nil {
		return nil, fail("get", err)
	}
	data, err := do(ctx, func(ctx context.Context) ([]byte, error) {
		return s.rdb.Get(ctx, n.record).Bytes()
	})
	if errors.Is(err, redis.Nil) {
		return nil, cryptofuse.ErrStoreMiss
	}
	if err != nil {
		return nil, fail("get", err)
	}
	return data, nil
}

// putScript sets the record (KEYS[1]) to ARGV[1] and publishes a change
// notice on ARGV[2], atomically: a notice is never lost to a connection
// that broke between the two.
var putScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], 'put')
return 1`)

// deleteScript deletes the record (KEYS[1]) and publishes a change notice
// on ARGV[1], atomically.
var deleteScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], 'delete')
return 1`)

// Put stores data under key, replacing any record there, with no expiry,
// and notifies the key's watchers in every process.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	n, err := s.names(key)
	if err == nil {
		_, err = do(ctx, func(ctx context.Context) (any, error) {
			return putScript.Run(ctx, s.rdb, []string{n.record}, data, n.channel).Result()
		})
	}
	if err != nil {
		return fail("put", err)
	}
	return nil
}

// Delete removes the record under key and notifies the key's watchers in
// every process. Deleting a key with no record is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	n, err := s.names(key)
	if err == nil {
		_, err = do(ctx, func(ctx context.Context) (any, error) {
			return deleteScript.Run(ctx, s.rdb, []string{n.record}, n.channel).Result()
		})
	}
	if err != nil {
		return fail("delete", err)
	}
	return nil
}
