package cryptofuse

import (
	"context"
	"errors"
	"time"
)

// DirStore is a [SharedStore] that keeps each record in a file of its own in
// the directory it names. (Work in progress: stubs.)
type DirStore string

var errDirStoreTODO = errors.New(prefix + "store: DirStore not implemented yet")

// Get implements [TokenStore].
func (d DirStore) Get(ctx context.Context, key string) ([]byte, error) {
	return nil, errDirStoreTODO
}

// Put implements [TokenStore].
func (d DirStore) Put(ctx context.Context, key string, data []byte) error { return errDirStoreTODO }

// Delete implements [TokenStore].
func (d DirStore) Delete(ctx context.Context, key string) error { return errDirStoreTODO }

// Lock implements [SharedStore].
func (d DirStore) Lock(ctx context.Context, key, owner string, ttl time.Duration) error {
	return errDirStoreTODO
}

// Unlock implements [SharedStore].
func (d DirStore) Unlock(ctx context.Context, key, owner string) error { return errDirStoreTODO }

// Watch implements [SharedStore].
func (d DirStore) Watch(ctx context.Context, key string) (<-chan struct{}, error) {
	return nil, errDirStoreTODO
}

// Join implements [SharedStore].
func (d DirStore) Join(ctx context.Context, key, member string, ttl time.Duration) error {
	return errDirStoreTODO
}

// Leave implements [SharedStore].
func (d DirStore) Leave(ctx context.Context, key, member string) (int, error) {
	return 0, errDirStoreTODO
}

var _ SharedStore = DirStore("")
