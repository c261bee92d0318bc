package cryptofuse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DirStore is a [SharedStore] that keeps each record in a file of its own in
// the directory it names, like autocert.DirCache:
//
//	ts, err := client.TokenSource(cryptofuse.TokenPolicy{
//		Store: cryptofuse.DirStore("/var/cache/my-service/tokens"),
//	})
//
// The directory is created (mode 0700) by the first call that writes. A
// record is the file named by its key, written at mode 0600 to a temporary
// file in the directory, synced and renamed over the old one, so a reader
// sees a whole record, old or new, never part of one, and a crash leaves
// one of the two. DirStore trusts nothing else on the disk: it refuses a
// directory that its group or others can write, refuses a record file that
// they can write, does not follow a symbolic link at a record's path (nor
// open anything but a regular file there: a FIFO cannot hang it), and reads
// at most 1 MiB of a file. What it refuses is an error, not a miss (the
// TokenSource logs it and treats it as one); the next Put replaces a refused
// record file.
//
// Keys are file names: one to 200 characters from [A-Za-z0-9._-], not
// starting with a dot (the TokenSource's keys are "cryptofuse-v1-" and hex
// digits). Other keys are refused with an error. Files whose names start
// with a dot are DirStore's own: temporary files, locks (".lock-KEY"),
// members (".members-KEY/") and the guard that serializes them (".guard").
//
// A DirStore is safe for concurrent use by multiple goroutines and by the
// processes of one host sharing the directory (as a fleet, see
// [SharedStore]): Lock and Join/Leave serialize through a flock(2)-held
// guard file (an O_EXCL guard file where flock is missing), which a process
// that dies releases. It is not meant for a network file system. Watch polls
// the record's file (its inode, size and modification time) once a second:
// an instance of a fleet sees another's new token within about a second.
//
// Every method honours its ctx: a file system that hangs (a stale NFS mount)
// costs the caller no more than its ctx allows. A call that returns the
// ctx's error may still complete afterwards (the file system call it was
// waiting for is not interrupted).
type DirStore string

// maxDirFileSize caps what DirStore reads and writes: a record is a few
// hundred bytes to a few kilobytes; a file far larger is not one of ours.
const maxDirFileSize = 1 << 20

// maxDirKeyLen caps a key: file names are at most 255 bytes on most systems,
// and DirStore's own files add a prefix.
const maxDirKeyLen = 200

// The causes of DirStore's own refusals, wrapped in its errors.
var (
	errDirKey      = errors.New("key is not usable as a file name")
	errDirNotFile  = errors.New("not a regular file (a symbolic link, a FIFO, a directory?)")
	errDirWritable = errors.New("writable by group or others")
	errDirTooLarge = fmt.Errorf("larger than %d bytes", maxDirFileSize)
)

// dirError is a DirStore failure: what was being done, to what, and why.
func dirError(op, key string, err error) error {
	return &plainError{msg: "store: DirStore " + op + " " + strconv.Quote(key), err: err}
}

// path returns the file of key, or an error for a key that is not a safe
// file name.
func (d DirStore) path(key string) (string, error) {
	if key == "" || len(key) > maxDirKeyLen || key[0] == '.' ||
		strings.ContainsFunc(key, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.')
		}) {
		return "", errDirKey
	}
	return filepath.Join(d.dir(), key), nil
}

// dir is the directory: "." (the working directory) for DirStore("").
func (d DirStore) dir() string {
	if d == "" {
		return "."
	}
	return string(d)
}

// Get implements [TokenStore]: the content of the key's file, or an error
// wrapping [ErrStoreMiss] when there is none.
func (d DirStore) Get(ctx context.Context, key string) ([]byte, error) {
	var b []byte
	err := withCtx(ctx, func() error {
		p, err := d.path(key)
		if err != nil {
			return err
		}
		if err := d.checkDir(); err != nil {
			return err
		}
		b, err = readOwnFile(p)
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, dirError("get", key, ErrStoreMiss)
	}
	if err != nil {
		return nil, dirError("get", key, err)
	}
	return b, nil
}

// Put implements [TokenStore]: it replaces the key's file atomically.
func (d DirStore) Put(ctx context.Context, key string, data []byte) error {
	if len(data) > maxDirFileSize {
		return dirError("put", key, errDirTooLarge)
	}
	err := withCtx(ctx, func() error {
		p, err := d.path(key)
		if err != nil {
			return err
		}
		if err := d.mkdir(); err != nil {
			return err
		}
		return replaceFile(ctx, p, data, true)
	})
	if err != nil {
		return dirError("put", key, err)
	}
	return nil
}

// Delete implements [TokenStore]: it removes the key's file (a symbolic
// link there is removed, not followed).
func (d DirStore) Delete(ctx context.Context, key string) error {
	err := withCtx(ctx, func() error {
		p, err := d.path(key)
		if err != nil {
			return err
		}
		return removeFile(p)
	})
	if err != nil {
		return dirError("delete", key, err)
	}
	return nil
}

// mkdir creates the directory (mode 0700) if need be and checks it.
func (d DirStore) mkdir() error {
	if err := os.MkdirAll(d.dir(), 0o700); err != nil {
		return err
	}
	return d.checkDir()
}

// checkDir refuses a directory that its group or others can write: they
// could put back an older record, or plant locks and members.
func (d DirStore) checkDir() error {
	fi, err := os.Stat(d.dir())
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("directory %s: %w", d.dir(), errDirWritable)
	}
	return nil
}

// withCtx runs f, and returns early with ctx's error if ctx is done first
// (f then runs to its end on its own). A done ctx runs nothing.
func withCtx(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Done() == nil {
		return f() // a ctx that is never done: nothing to wait for
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readOwnFile reads the regular file at p, without following a symbolic
// link there, refusing one that group or others can write and one larger
// than maxDirFileSize.
func readOwnFile(p string) ([]byte, error) {
	f, err := openNoFollow(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, errDirNotFile
	case fi.Mode().Perm()&0o022 != 0:
		return nil, errDirWritable
	case fi.Size() > maxDirFileSize:
		return nil, errDirTooLarge
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxDirFileSize+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxDirFileSize {
		return nil, errDirTooLarge
	}
	return buf.Bytes(), nil
}

// replaceFile writes data to a temporary file beside p (mode 0600), syncs it
// when durable, and renames it over p. On any failure the temporary file is
// removed and p is left as it was. Records are durable; locks and members
// are not (they mean nothing after the machine restarts), which makes them
// cheap.
func replaceFile(ctx context.Context, p string, data []byte, durable bool) (err error) {
	dir, base := filepath.Split(p)
	f, err := os.CreateTemp(dir, ".tmp-"+base+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	if durable {
		syncDir(dir)
	}
	return nil
}

// removeFile removes the file at p; a missing one is not an error.
func removeFile(p string) error {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errDirNotFile
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// syncDir makes a rename in dir durable where the system allows it. The
// file is already whole either way, so a failure is not reported.
func syncDir(dir string) {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

var _ SharedStore = DirStore("")
