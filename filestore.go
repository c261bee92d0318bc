package cryptofuse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// fileStoreMode is the permission of a token file: the owner's only.
const fileStoreMode os.FileMode = 0o600

// maxTokenFileSize caps what Load reads: a token file is a few hundred
// bytes, and anything far larger is not one.
const maxTokenFileSize = 1 << 20

// NewFileStore returns a [TokenStore] that keeps the token in the file at
// path, as the JSON form of [Token] (which holds the token in clear).
//
// Save writes the whole token to a temporary file in the same directory,
// syncs it to disk, sets its mode to 0600 and renames it over path, so a
// reader sees the old file or the new one, never part of one, and a crash
// leaves one of the two; on any failure the temporary file is removed and
// path is left as it was. The mode is 0600 whatever the file's mode was
// before. A cancelled ctx fails Save before it replaces the file.
//
// Load returns (nil, nil) when path does not exist. A file that cannot be
// read, or is not the JSON of a token with an access token, is an error
// whose message never quotes the file's content. Load still loads a file
// that its group or others may read (one written by hand, say): it does
// not change the file's mode, and the next Save replaces it with a file at
// mode 0600. A Token loaded by Load is a fresh value the caller may keep.
//
// The store is safe for concurrent use by multiple goroutines: Saves are
// serialized (a Save waits for the one before it, as long as its ctx
// allows), and Load may run during a Save. Two stores, or two processes,
// sharing one path are not coordinated: the last rename wins, and each file
// is still whole.
func NewFileStore(path string) TokenStore {
	return &fileStore{
		path:   path,
		lock:   make(chan struct{}, 1),
		rename: os.Rename,
	}
}

// fileStore is the TokenStore of NewFileStore.
type fileStore struct {
	path string
	lock chan struct{} // a mutex whose wait a ctx can cut short
	// rename replaces the file; tests replace it to fail the last step.
	rename func(oldpath, newpath string) error
}

// Load implements [TokenStore].
func (s *fileStore) Load(ctx context.Context) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf(prefix+"load token: %w", err)
	}
	b, err := readCapped(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf(prefix+"load token: %w", err)
	}
	tok, err := decodeTokenFile(b)
	if err != nil {
		return nil, fmt.Errorf(prefix+"load token from %s: %w", s.path, err)
	}
	return tok, nil
}

// readCapped reads the file at path, refusing one over maxTokenFileSize.
func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxTokenFileSize+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxTokenFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a token file", path, maxTokenFileSize)
	}
	return buf.Bytes(), nil
}

// errTokenFile is the cause of every Load error about a file's content. The
// decoder's own errors are not wrapped: some of them (a bad "expiry", say)
// quote the bytes they refused, which may be the token.
var errTokenFile = errors.New("not a JSON token")

// decodeTokenFile decodes a token file's content.
func decodeTokenFile(b []byte) (*Token, error) {
	var tok Token
	if err := json.Unmarshal(b, &tok); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return nil, fmt.Errorf("%w (syntax error at byte %d)", errTokenFile, syntax.Offset)
		case errors.As(err, &typ):
			return nil, fmt.Errorf("%w (field %q is not a %s)", errTokenFile, typ.Field, typ.Type)
		}
		return nil, errTokenFile
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("%w (no access_token)", errTokenFile)
	}
	return &tok, nil
}

// Save implements [TokenStore].
func (s *fileStore) Save(ctx context.Context, tok *Token) error {
	if tok == nil || tok.AccessToken == "" {
		return errors.New(prefix + "save token: no token to save")
	}
	b, err := json.Marshal(tok)
	if err != nil { // an Expiry past year 9999: the error quotes no token
		return fmt.Errorf(prefix+"save token to %s: %w", s.path, err)
	}
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf(prefix+"save token to %s: %w", s.path, ctx.Err())
	}
	defer func() { <-s.lock }()
	if err := s.replace(ctx, b); err != nil {
		return fmt.Errorf(prefix+"save token to %s: %w", s.path, err)
	}
	return nil
}

// replace writes b to a temporary file beside s.path and renames it over
// s.path. The caller holds s.lock.
func (s *fileStore) replace(ctx context.Context, b []byte) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
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
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Chmod(fileStoreMode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.rename(tmp, s.path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable where the system allows it. The
// file is already whole either way, so a failure is not reported.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
