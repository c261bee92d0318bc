package cryptofuse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The SharedStore side of DirStore. A lock is the file ".lock-KEY", the
// members of a key are the files of the directory ".members-KEY", one per
// member; each holds a dirLease. Every change to them, and every decision
// that reads them (is the lock free? how many members are left?), happens
// while the process holds the directory's guard (lockGuard), so that the
// processes of one host see one order of events.

// guardPollMax bounds the pause between two tries at a busy guard: a guard
// is held for a few file operations, so a waiter retries soon.
const guardPollMax = 20 * time.Millisecond

// dirWatchInterval is how often Watch looks at a record's file.
const dirWatchInterval = time.Second

var errDirTTL = errors.New("ttl must be positive")

// dirLease is the content of a lock file or a member file.
type dirLease struct {
	Owner  string `json:"owner"`
	Expiry int64  `json:"expiry"` // Unix nanoseconds
}

// live reports whether l has not run out at now.
func (l dirLease) live(now time.Time) bool { return now.UnixNano() < l.Expiry }

// Lock implements [SharedStore].
func (d DirStore) Lock(ctx context.Context, key, owner string, ttl time.Duration) error {
	err := d.guarded(ctx, key, ttl, func(base string) error {
		p := filepath.Join(d.dir(), ".lock-"+base)
		cur, err := readLease(p)
		if err != nil {
			return err
		}
		now := time.Now()
		if cur != nil && cur.Owner != owner && cur.live(now) {
			return ErrLocked
		}
		return writeLease(ctx, p, dirLease{Owner: owner, Expiry: now.Add(ttl).UnixNano()})
	})
	if err != nil {
		return dirError("lock", key, err)
	}
	return nil
}

// Unlock implements [SharedStore].
func (d DirStore) Unlock(ctx context.Context, key, owner string) error {
	err := d.guarded(ctx, key, time.Second, func(base string) error {
		p := filepath.Join(d.dir(), ".lock-"+base)
		cur, err := readLease(p)
		if err != nil || cur == nil || cur.Owner != owner {
			return err
		}
		return removeFile(p)
	})
	if err != nil {
		return dirError("unlock", key, err)
	}
	return nil
}

// Join implements [SharedStore].
func (d DirStore) Join(ctx context.Context, key, member string, ttl time.Duration) error {
	err := d.guarded(ctx, key, ttl, func(base string) error {
		dir := filepath.Join(d.dir(), ".members-"+base)
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		return writeLease(ctx, filepath.Join(dir, memberFile(member)), dirLease{Owner: member, Expiry: time.Now().Add(ttl).UnixNano()})
	})
	if err != nil {
		return dirError("join", key, err)
	}
	return nil
}

// Leave implements [SharedStore]. It also removes the files of members
// whose ttl has run out.
func (d DirStore) Leave(ctx context.Context, key, member string) (remaining int, err error) {
	err = d.guarded(ctx, key, time.Second, func(base string) error {
		dir := filepath.Join(d.dir(), ".members-"+base)
		own := memberFile(member)
		if err := removeFile(filepath.Join(dir, own)); err != nil {
			return err
		}
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		now := time.Now()
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue // a temporary file
			}
			p := filepath.Join(dir, e.Name())
			l, err := readLease(p)
			if err != nil {
				return err
			}
			if l == nil || !l.live(now) {
				_ = removeFile(p)
				continue
			}
			remaining++
		}
		return nil
	})
	if err != nil {
		return 0, dirError("leave", key, err)
	}
	return remaining, nil
}

// guarded checks key and ttl, creates the directory, and runs f with the
// key's file name while the process holds the directory's guard, within
// ctx.
func (d DirStore) guarded(ctx context.Context, key string, ttl time.Duration, f func(base string) error) error {
	if ttl <= 0 {
		return errDirTTL
	}
	return withCtx(ctx, func() error {
		p, err := d.path(key)
		if err != nil {
			return err
		}
		if err := d.mkdir(); err != nil {
			return err
		}
		unlock, err := lockGuard(ctx, filepath.Join(d.dir(), ".guard"))
		if err != nil {
			return err
		}
		defer unlock()
		return f(filepath.Base(p))
	})
}

// memberFile is the file name of member: hex of its SHA-256, so that any
// string is a member and no name is too long.
func memberFile(member string) string {
	sum := sha256.Sum256([]byte(member))
	return hex.EncodeToString(sum[:16])
}

// readLease reads the lease at p: nil, nil when there is none, or when the
// file is not one DirStore wrote (a symbolic link, writable by others, not
// a lease): such a file is free to replace.
func readLease(p string) (*dirLease, error) {
	b, err := readOwnFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, errDirNotFile), errors.Is(err, errDirWritable), errors.Is(err, errDirTooLarge):
		return nil, nil
	case err != nil:
		return nil, err
	}
	var l dirLease
	if json.Unmarshal(b, &l) != nil {
		return nil, nil
	}
	return &l, nil
}

// writeLease replaces the lease at p.
func writeLease(ctx context.Context, p string, l dirLease) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return replaceFile(ctx, p, b, false)
}

// Watch implements [SharedStore]: it looks at the record's file once a
// second (dirWatchInterval) and sends when its inode, size or modification
// time changed, or it appeared or went away.
func (d DirStore) Watch(ctx context.Context, key string) (<-chan struct{}, error) {
	var last os.FileInfo
	err := withCtx(ctx, func() error {
		p, err := d.path(key)
		if err != nil {
			return err
		}
		last, _ = os.Lstat(p)
		return nil
	})
	if err != nil {
		return nil, dirError("watch", key, err)
	}
	p, _ := d.path(key)
	ch := make(chan struct{}, 1)
	go func() {
		defer close(ch)
		t := time.NewTicker(dirWatchInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			cur, _ := os.Lstat(p)
			if changed(last, cur) {
				select {
				case ch <- struct{}{}:
				default: // one is pending: coalesced
				}
			}
			last = cur
		}
	}()
	return ch, nil
}

// changed reports whether a file changed between two Lstats (nil: none).
func changed(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return (a == nil) != (b == nil)
	}
	return !os.SameFile(a, b) || a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime())
}
