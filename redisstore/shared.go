package redisstore

import (
	"context"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/redis/go-redis/v9"
)

// millis is ttl in whole milliseconds, at least 1: Redis's unit.
func millis(ttl time.Duration) int64 {
	return max(ttl.Milliseconds(), 1)
}

// lockScript takes the lock KEYS[1] for owner ARGV[1] for ARGV[2] ms if it
// is free or the owner's already (extending it); 0 if another owner holds
// it. An expired lock is gone from Redis, hence free.
var lockScript = redis.NewScript(`
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return 1
end
return 0`)

// unlockScript deletes the lock KEYS[1] if owner ARGV[1] holds it.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	redis.call('DEL', KEYS[1])
end
return 1`)

// Lock takes the lock named key for owner until ttl (rounded down to whole
// milliseconds, at least 1) has passed, by Redis's clock. If another owner
// holds it, Lock returns [cryptofuse.ErrLocked] at once. Lock by the owner
// that holds it extends it to ttl from now. The check and the change are
// one Lua script, atomic in Redis.
func (s *Store) Lock(ctx context.Context, key, owner string, ttl time.Duration) error {
	n, err := s.names(key)
	if err != nil {
		return fail("lock", err)
	}
	got, err := do(ctx, func(ctx context.Context) (int64, error) {
		return lockScript.Run(ctx, s.rdb, []string{n.lock}, owner, millis(ttl)).Int64()
	})
	if err != nil {
		return fail("lock", err)
	}
	if got != 1 {
		return cryptofuse.ErrLocked
	}
	return nil
}

// Unlock releases the lock named key if owner holds it; otherwise it does
// nothing and returns nil. The check and the release are one Lua script.
func (s *Store) Unlock(ctx context.Context, key, owner string) error {
	n, err := s.names(key)
	if err == nil {
		_, err = do(ctx, func(ctx context.Context) (any, error) {
			return unlockScript.Run(ctx, s.rdb, []string{n.lock}, owner).Result()
		})
	}
	if err != nil {
		return fail("unlock", err)
	}
	return nil
}

// nowMillis is the Lua prologue that sets now to Redis's clock in ms.
// replicate_commands lets Redis 3.2 to 4 replicate a script that reads
// TIME by its effects; later versions always do, and ignore the call.
const nowMillis = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// joinScript adds member ARGV[1] to the sorted set KEYS[1] with its expiry
// (now + ARGV[2] ms) as score, drops expired members and keeps the set
// itself alive as long as its longest-lived member.
var joinScript = redis.NewScript(nowMillis + `
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('PTTL', KEYS[1]) < ttl then
	redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1`)

// leaveScript removes member ARGV[1] and the expired members from the
// sorted set KEYS[1] and returns how many are left, atomically.
var leaveScript = redis.NewScript(nowMillis + `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`)

// Join records member as present under key until ttl (whole milliseconds,
// at least 1) has passed, by Redis's clock; joining again renews it.
func (s *Store) Join(ctx context.Context, key, member string, ttl time.Duration) error {
	n, err := s.names(key)
	if err == nil {
		_, err = do(ctx, func(ctx context.Context) (any, error) {
			return joinScript.Run(ctx, s.rdb, []string{n.members}, member, millis(ttl)).Result()
		})
	}
	if err != nil {
		return fail("join", err)
	}
	return nil
}

// Leave removes member and returns how many other members are still
// present (their ttl not run out). It is one Lua script, atomic in Redis:
// of two members leaving at once, exactly one sees 0.
func (s *Store) Leave(ctx context.Context, key, member string) (int, error) {
	n, err := s.names(key)
	if err != nil {
		return 0, fail("leave", err)
	}
	left, err := do(ctx, func(ctx context.Context) (int64, error) {
		return leaveScript.Run(ctx, s.rdb, []string{n.members}, member).Int64()
	})
	if err != nil {
		return 0, fail("leave", err)
	}
	return int(left), nil
}
