package cryptofuse

import (
	"context"
	"time"
)

// TokenStore keeps a [TokenSource]'s token outside the process: between runs
// of a program, and for the instances of a fleet ([SharedStore]). Its shape
// is golang.org/x/crypto/acme/autocert's Cache: opaque records under keys.
// The TokenSource chooses the keys (from the client's base URL, client id
// and scopes; they name no secret and use only the characters
// [A-Za-z0-9-]) and seals the records with AES-256-GCM under a key derived
// from the client secret, so a store never sees a token in clear, and a
// record sealed for another client, server or scope set does not open.
//
// Every method honours its ctx. An implementation must be safe for
// concurrent use by multiple goroutines. The TokenSource calls it with a
// deadline, recovers a panic and treats any failure as a miss (logged), so a
// store is a cache, never a reason for a call to fail.
type TokenStore interface {
	// Get returns the record stored under key, or an error wrapping
	// ErrStoreMiss when there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores data under key, replacing any record there. The store may
	// keep data (the caller does not modify it afterwards).
	Put(ctx context.Context, key string, data []byte) error
	// Delete removes the record under key. Deleting a key with no record is
	// not an error.
	Delete(ctx context.Context, key string) error
}

// ErrStoreMiss is returned (or wrapped) by [TokenStore.Get] when nothing is
// stored under the key: errors.Is(err, ErrStoreMiss).
var ErrStoreMiss error = &plainError{msg: "store: no record"}

// SharedStore is a [TokenStore] that several processes share: the instances
// of a fleet. Lock, Watch and Join take the same keys as Get and Put; a
// store keeps locks and members apart from records, so a key names one
// record, one lock and one set of members.
//
// Over one, the TokenSources of every instance with the same client, origin
// and scopes (one key) keep one token. One token request per fleet: the
// instance that needs a token takes the lock (for at most 45 s, one token
// request) and the others use the token it stores. One switch: every
// instance uses a newly stored token within the store's change notice
// (DirStore: 1 s; redisstore: milliseconds), or within 30 s when a notice
// is lost (each instance reads the record every 30 s without one).
// Revocation by the fleet: a replaced token is revoked RevokeAfter + 2 s
// after it was replaced (a RevokeAfter of 30 s or more covers a lost notice
// too), once (twice only when an instance dies between revoking it and
// recording that, which is harmless), by whichever instance is alive; Close
// of one instance revokes no token the others use. With RevokeOnClose each
// instance renews its membership every 20 s, the last to Close revokes
// every token of the fleet and deletes the record, and a crashed instance
// counts as gone 1 min after its last renewal. Rotate on several instances
// within 2 s of each other makes one token; 401s follow the backoff steps
// of [TokenSource.Token] across the fleet (one new token per step,
// whichever instance sees them). While the store fails, each instance keeps
// its valid token (until 2 min before its expiry) and then gets new ones on
// its own; once the store answers, the fleet is back on one token within
// 30 s. The warm Token still does no I/O and allocates nothing. All
// instances of a fleet should share one policy.
//
// Every method honours its ctx and is safe for concurrent use by multiple
// goroutines and by several processes at once.
type SharedStore interface {
	TokenStore
	// Lock takes the lock named key for owner until ttl has passed. If
	// another owner holds it and its ttl has not run out, Lock returns
	// ErrLocked (at once, no waiting). Lock by the owner that holds it
	// extends it to ttl from now. A lock whose ttl ran out is free (its
	// holder crashed).
	Lock(ctx context.Context, key, owner string, ttl time.Duration) error
	// Unlock releases key if owner holds it; otherwise it does nothing and
	// returns nil.
	Unlock(ctx context.Context, key, owner string) error
	// Watch returns a channel that receives (coalesced, best effort, maybe
	// late, maybe spurious) after the record under key changes by Put or
	// Delete from any process. The channel is closed when ctx is done.
	// Implementations without push notification poll (DirStore does).
	Watch(ctx context.Context, key string) (<-chan struct{}, error)
	// Join records member as present under key until ttl has passed (call
	// again to renew).
	Join(ctx context.Context, key, member string, ttl time.Duration) error
	// Leave removes member and returns how many OTHER members are still
	// present (ttl not run out). Atomic: of two members leaving at once,
	// exactly one sees 0.
	Leave(ctx context.Context, key, member string) (remaining int, err error)
}

// ErrLocked is returned by [SharedStore.Lock] when another owner holds the
// lock: errors.Is(err, ErrLocked).
var ErrLocked error = &plainError{msg: "store: locked by another owner"}
