//go:build unix

package cryptofuse

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// openNoFollow opens p for reading without following a symbolic link at p
// (O_NOFOLLOW: errDirNotFile) and without blocking on a FIFO (O_NONBLOCK).
func openNoFollow(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errDirNotFile
	}
	return f, err
}

// lockGuard takes the exclusive flock(2) of the guard file at p, polling
// until ctx is done, and returns the function that releases it. The kernel
// releases it when the process dies, so a crash leaves nothing stale.
func lockGuard(ctx context.Context, p string) (unlock func(), err error) {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	for wait := time.Millisecond; ; wait = min(2*wait, guardPollMax) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		if err := sleepCtx(ctx, wait); err != nil {
			f.Close()
			return nil, err
		}
	}
}
