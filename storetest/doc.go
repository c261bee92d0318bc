// Package storetest checks that an implementation of
// [cryptofuse.TokenStore] or [cryptofuse.SharedStore] keeps the contract
// the TokenSource relies on, the way testing/fstest checks an fs.FS. Call
// [TestStore] or [TestSharedStore] from a test of the store's package:
//
//	func TestConformance(t *testing.T) {
//		dir := t.TempDir()
//		storetest.TestSharedStore(t, func(t *testing.T) cryptofuse.SharedStore {
//			return cryptofuse.DirStore(dir)
//		})
//	}
//
// newStore may be called several times during one run, from subtests and
// from several goroutines' set-up; every store it returns must be a client
// of one backing store (the same directory, the same Redis), so that the
// suite can act as several processes. The suite uses keys of its own (fresh
// random ones, [A-Za-z0-9-] only, as the TokenSource's are), so a backing
// store that holds other records, or the records of an earlier run, is fine.
// Run the suite with -race.
//
// # What TestStore checks
//
//   - GetAfterPut: Get returns the bytes Put stored, and a copy: changing the
//     returned slice changes neither the record nor a later Get.
//   - Overwrite: a second Put replaces the record.
//   - Miss: Get of a key with no record returns an error that
//     errors.Is(err, cryptofuse.ErrStoreMiss).
//   - DeleteThenMiss: after Delete, Get misses.
//   - DeleteMissing: Delete of a key with no record returns nil.
//   - KeysIndependent: Put, Get and Delete under one key touch no other key,
//     including keys that are prefixes of each other.
//   - Binary: records of every byte value, an empty record and a 64 KiB
//     record round-trip unchanged.
//   - Context: with a cancelled ctx, and with a ctx whose deadline has
//     passed, every method returns an error that errors.Is the ctx's error
//     (context.Canceled, context.DeadlineExceeded), and returns at all: a
//     call still running after a generous bound fails the check.
//   - Concurrent: many goroutines Put and Get their own keys and one shared
//     key at once; each reads back its own last write, and the shared key
//     only ever holds a record one of them wrote, whole.
//
// # What TestSharedStore checks
//
// Everything TestStore checks (as the subtest TokenStore), and:
//
//   - Context: with a cancelled ctx and with one whose deadline has
//     passed, Lock, Unlock, Join, Leave and Watch return (within the bound)
//     an error that errors.Is the ctx's error; Watch may instead return a
//     channel, which must then be closed.
//   - LockExclusive: while one owner holds a lock (long ttl), Lock by another
//     owner, from another client, returns an error that errors.Is(err,
//     cryptofuse.ErrLocked); Unlock by that other owner does nothing; after
//     the holder's Unlock the other owner gets the lock. Unlock of a lock no
//     one holds returns nil.
//   - LockExtend: Lock by the holder returns nil and extends the lock: a
//     lock taken with a short ttl and extended to a long one is still held
//     after a reference lock, taken later with the same short ttl, has
//     expired.
//   - LockExpiry: a lock whose holder never unlocks (a crashed holder) is
//     free once its ttl has run out: another owner polling Lock gets it, and
//     meanwhile sees only ErrLocked.
//   - LockContention: several clients with several goroutines each, every
//     goroutine an owner of its own, contend for one lock; at most one of
//     them is ever inside the critical section (counted with an atomic
//     there), and the lock keeps changing hands.
//   - Watch: after Watch returns, a Put by another client is delivered on
//     the channel, and so is a later Delete.
//   - WatchClose: the channel is closed once the ctx given to Watch is done.
//   - JoinLeave: Leave returns how many other members are present; a member
//     that joins twice counts once; Leave of a member that never joined
//     removes nothing.
//   - LeaveRace: of two members leaving at once, from two clients, exactly
//     one sees 0 (repeated, to give a broken store the chance to fail).
//   - JoinExpiry: a member whose ttl has run out is not counted, and a
//     member that joins again (renews) before its ttl runs out is.
//
// The checks that involve expiry use short real ttls but assert outcomes,
// never durations: they poll until the expected outcome shows and fail only
// after a generous bound (30 s), so a slow machine makes them slower,
// not flaky.
package storetest
