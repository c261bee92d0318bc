//go:build !unix

package cryptofuse

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"
)

// openNoFollow opens p for reading, refusing a symbolic link there
// (errDirNotFile). Without O_NOFOLLOW, an Lstat before the open and a check
// that the open file is the one Lstat saw stand in for it; a file replaced
// in between (a Put) is tried again.
func openNoFollow(p string) (*os.File, error) {
	for try := 0; ; try++ {
		before, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		if !before.Mode().IsRegular() {
			return nil, errDirNotFile
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err == nil && os.SameFile(before, fi) {
			return f, nil
		}
		f.Close()
		if err != nil {
			return nil, err
		}
		if try == 3 {
			return nil, errDirNotFile
		}
	}
}

// guardStale is how old a guard file must be to be taken for a crashed
// holder's, where flock(2) is missing: far beyond the microseconds a guard is
// held.
const guardStale = 10 * time.Second

// lockGuard takes the guard file at p by creating it (O_EXCL), polling until
// ctx is done, and returns the function that releases it (removes it). A
// guard file older than guardStale is removed as a crashed holder's.
func lockGuard(ctx context.Context, p string) (unlock func(), err error) {
	for wait := time.Millisecond; ; wait = min(2*wait, guardPollMax) {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(p) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if fi, err := os.Lstat(p); err == nil && time.Since(fi.ModTime()) > guardStale {
			os.Remove(p)
			continue
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, err
		}
	}
}
