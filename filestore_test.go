package cryptofuse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fileSecret is the access token of the file store's tests: no error text
// may contain it.
const fileSecret = "FILE-SECRET-9f3a1c77e2"

// fileToken is a complete token for the file store's tests.
func fileToken(access string) *Token {
	return &Token{
		AccessToken:  access,
		TokenType:    "Bearer",
		RefreshToken: "RT-" + access,
		Scope:        "read write",
		ExpiresIn:    36000,
		Expiry:       time.Date(2026, 11, 25, 22, 0, 0, 123456789, time.UTC),
	}
}

// newFileStore returns a store for a fresh directory and the file's path.
func newFileStore(t *testing.T) (*fileStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token.json")
	return NewFileStore(path).(*fileStore), path
}

// writeFile creates the file at path with content and mode, whatever the
// umask.
func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// checkFile checks the content and mode of the file at path.
func checkFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if string(got) != content {
		t.Errorf("content: got %q, want %q", got, content)
	}
	checkMode(t, path, mode)
}

func checkMode(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != mode {
		t.Errorf("mode: got %#o, want %#o", got, mode)
	}
}

// checkOnly checks that dir holds exactly the files named, so that no
// temporary file was left behind.
func checkOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if fmt.Sprint(got) != fmt.Sprint(names) {
		t.Errorf("directory %s: got %q, want %q", dir, got, names)
	}
}

// checkStoreError checks that err is one of ours and shows no secret.
func checkStoreError(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want one")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		t.Errorf("error %q: want the prefix %q", msg, prefix)
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("error %q shows %q", msg, s)
		}
	}
}

// tokenJSONOf is the file content Save writes for tok: the Token's own JSON.
func tokenJSONOf(t *testing.T, tok *Token) string {
	t.Helper()
	b, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFileStoreRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tok  *Token
	}{
		{"complete", fileToken(fileSecret)},
		{"no expiry", &Token{AccessToken: fileSecret, TokenType: "Bearer"}},
		{"local expiry", &Token{AccessToken: fileSecret, TokenType: "Bearer", ExpiresIn: 60,
			Expiry: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 5*3600))}},
		{"unicode scope", &Token{AccessToken: fileSecret, TokenType: "bearer", Scope: "lecture écriture"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, path := newFileStore(t)
			want := *tt.tok
			if err := s.Save(context.Background(), tt.tok); err != nil {
				t.Fatalf("Save: %v", err)
			}
			if *tt.tok != want {
				t.Errorf("Save modified its token: got %v, want %v", *tt.tok, want)
			}
			checkFile(t, path, tokenJSONOf(t, tt.tok), 0o600)

			// A new store on the same path, as after a restart.
			got, err := NewFileStore(path).Load(context.Background())
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got == nil {
				t.Fatal("Load: got nil, want the token")
			}
			if got == tt.tok {
				t.Error("Load returned the saved pointer, want a fresh value")
			}
			if !got.Expiry.Equal(want.Expiry) {
				t.Errorf("Expiry: got %v, want %v", got.Expiry, want.Expiry)
			}
			got.Expiry, want.Expiry = time.Time{}, time.Time{}
			if *got != want {
				t.Errorf("Load: got %+v, want %+v", tokenJSONOf(t, got), tokenJSONOf(t, &want))
			}
		})
	}
}

func TestFileStoreMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before os.FileMode // 0: no file before
	}{
		{"new file", 0},
		{"was 0644", 0o644},
		{"was 0666", 0o666},
		{"was 0400", 0o400},
		{"was 0600", 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, path := newFileStore(t)
			if tt.before != 0 {
				writeFile(t, path, tokenJSONOf(t, fileToken("old")), tt.before)
			}
			tok := fileToken(fileSecret)
			if err := s.Save(context.Background(), tok); err != nil {
				t.Fatalf("Save: %v", err)
			}
			checkFile(t, path, tokenJSONOf(t, tok), 0o600)
			checkOnly(t, filepath.Dir(path), "token.json")
		})
	}
}

// A Save that fails at any step leaves the old file whole, with its mode,
// and no temporary file.
func TestFileStoreFailedSaveKeepsOld(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		tok    *Token
		rename func(oldpath, newpath string) error // nil: os.Rename
	}{
		{name: "rename fails", ctx: context.Background(), tok: fileToken(fileSecret),
			rename: func(string, string) error { return errors.New("injected rename failure") }},
		{name: "ctx cancelled", ctx: cancelled, tok: fileToken(fileSecret)},
		{name: "nil token", ctx: context.Background(), tok: nil},
		{name: "empty access token", ctx: context.Background(), tok: &Token{TokenType: "Bearer"}},
		{name: "expiry past year 9999", ctx: context.Background(),
			tok: &Token{AccessToken: fileSecret, Expiry: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, path := newFileStore(t)
			if tt.rename != nil {
				s.rename = tt.rename
			}
			old := tokenJSONOf(t, fileToken("old-token"))
			writeFile(t, path, old, 0o640)
			err := s.Save(tt.ctx, tt.tok)
			checkStoreError(t, err, fileSecret)
			checkFile(t, path, old, 0o640)
			checkOnly(t, filepath.Dir(path), "token.json")
		})
	}
}

// A Save whose directory does not exist, or is a file, fails and creates
// nothing.
func TestFileStoreSaveBadDirectory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path func(dir string) string
	}{
		{"missing directory", func(dir string) string { return filepath.Join(dir, "missing", "token.json") }},
		{"directory is a file", func(dir string) string {
			writeFile(t, filepath.Join(dir, "file"), "x", 0o600)
			return filepath.Join(dir, "file", "token.json")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := tt.path(dir)
			before, _ := os.ReadDir(dir)
			err := NewFileStore(path).Save(context.Background(), fileToken(fileSecret))
			checkStoreError(t, err, fileSecret)
			after, _ := os.ReadDir(dir)
			if len(after) != len(before) {
				t.Errorf("entries: got %d, want %d", len(after), len(before))
			}
			if _, err := os.Stat(path); err == nil {
				t.Errorf("Stat(%s): the file exists, want none", path)
			}
		})
	}
}

// Save writes its temporary file in the file's own directory (a rename
// across file systems would not be atomic) and removes nothing else.
func TestFileStoreTempFileBeside(t *testing.T) {
	t.Parallel()
	s, path := newFileStore(t)
	var tmp string
	s.rename = func(oldpath, newpath string) error {
		tmp = oldpath
		checkMode(t, oldpath, 0o600)
		return os.Rename(oldpath, newpath)
	}
	if err := s.Save(context.Background(), fileToken(fileSecret)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if got, want := filepath.Dir(tmp), filepath.Dir(path); got != want {
		t.Errorf("temporary file's directory: got %q, want %q", got, want)
	}
	if tmp == path {
		t.Errorf("temporary file: got the file itself, want another name")
	}
	checkOnly(t, filepath.Dir(path), "token.json")
}

// A reader that loads while Saves replace the file sees a whole token every
// time, never part of one.
func TestFileStoreReaderNeverSeesPartialFile(t *testing.T) {
	t.Parallel()
	s, path := newFileStore(t)
	// Tokens of different lengths, so that a file being rewritten in place
	// would show a mix.
	toks := []*Token{fileToken(strings.Repeat("a", 40)), fileToken(strings.Repeat("b", 4000))}
	if err := s.Save(context.Background(), toks[0]); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			if err := s.Save(context.Background(), toks[i%2]); err != nil {
				t.Errorf("Save: %v", err)
				return
			}
		}
	}()
	reader := NewFileStore(path)
	for range 300 {
		got, err := reader.Load(context.Background())
		if err != nil {
			t.Errorf("Load during Save: %v", err)
			break
		}
		if got == nil || (got.AccessToken != toks[0].AccessToken && got.AccessToken != toks[1].AccessToken) {
			t.Errorf("Load during Save: got %v, want one of the saved tokens", got)
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	checkOnly(t, filepath.Dir(path), "token.json")
}

// Saves are serialized: at most one is between its temporary file and its
// rename, and the last one's token is the file's.
func TestFileStoreConcurrentSaves(t *testing.T) {
	t.Parallel()
	s, path := newFileStore(t)
	var inside, most atomic.Int32
	s.rename = func(oldpath, newpath string) error {
		n := inside.Add(1)
		defer inside.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond) // widen the window for an overlap
		return os.Rename(oldpath, newpath)
	}
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := s.Save(context.Background(), fileToken(fmt.Sprintf("tok-%02d", i))); err != nil {
				t.Errorf("Save: %v", err)
			}
		})
	}
	wg.Wait()
	if got := most.Load(); got != 1 {
		t.Errorf("Saves at once: got %d, want 1", got)
	}
	got, err := s.Load(context.Background())
	if err != nil || got == nil || !strings.HasPrefix(got.AccessToken, "tok-") {
		t.Errorf("Load: got %v, %v; want one of the saved tokens", got, err)
	}
	checkOnly(t, filepath.Dir(path), "token.json")
}

// A Save waiting for another one gives up when its ctx ends, and writes
// nothing.
func TestFileStoreSaveWaitHonoursContext(t *testing.T) {
	t.Parallel()
	s, path := newFileStore(t)
	entered, release := make(chan struct{}), make(chan struct{})
	s.rename = func(oldpath, newpath string) error {
		close(entered)
		<-release
		return os.Rename(oldpath, newpath)
	}
	first := fileToken("first")
	done := make(chan error, 1)
	go func() { done <- s.Save(context.Background(), first) }()
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("first Save returned without renaming: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Save(ctx, fileToken(fileSecret))
	checkStoreError(t, err, fileSecret)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want an error wrapping context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first Save: %v", err)
	}
	checkFile(t, path, tokenJSONOf(t, first), 0o600)
	checkOnly(t, filepath.Dir(path), "token.json")
}

func TestFileStoreLoadMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "token.json"), filepath.Join(dir, "missing", "token.json")} {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			t.Parallel()
			tok, err := NewFileStore(path).Load(context.Background())
			if tok != nil || err != nil {
				t.Errorf("Load: got %v, %v; want nil, nil", tok, err)
			}
		})
	}
}

func TestFileStoreLoadCorrupt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		bad     bool // the content is wrong: errors.Is(err, errTokenFile)
	}{
		{"empty file", "", true},
		{"cut off", `{"access_token": "` + fileSecret, true},
		{"the bare token", fileSecret, true},
		{"null", "null", true},
		{"no access_token", `{"token_type": "Bearer", "expires_in": 60}`, true},
		{"access_token not a string", `{"access_token": 12345}`, true},
		{"expiry not a time", `{"access_token": "x", "expiry": "` + fileSecret + `"}`, true},
		{"expires_in not a number", `{"access_token": "` + fileSecret + `", "expires_in": "` + fileSecret + `"}`, true},
		{"trailing garbage", `{"access_token": "x"}` + fileSecret, true},
		{"over the cap", `{"access_token": "` + fileSecret + strings.Repeat(" ", maxTokenFileSize) + `"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, path := newFileStore(t)
			writeFile(t, path, tt.content, 0o600)
			tok, err := s.Load(context.Background())
			if tok != nil {
				t.Errorf("Load: got %v, want nil", tok)
			}
			checkStoreError(t, err, fileSecret)
			if got := errors.Is(err, errTokenFile); got != tt.bad {
				t.Errorf("errors.Is(%v, errTokenFile): got %v, want %v", err, got, tt.bad)
			}
			checkFile(t, path, tt.content, 0o600)
		})
	}
}

// A path that cannot be read as a file is an error that wraps the cause.
func TestFileStoreLoadUnreadable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok, err := NewFileStore(dir).Load(context.Background())
	if tok != nil {
		t.Errorf("Load: got %v, want nil", tok)
	}
	checkStoreError(t, err)
	var pathErr *os.PathError
	if !errors.As(err, &pathErr) {
		t.Errorf("got %v, want an error wrapping an *os.PathError", err)
	}
}

func TestFileStoreLoadCancelled(t *testing.T) {
	t.Parallel()
	s, path := newFileStore(t)
	content := tokenJSONOf(t, fileToken(fileSecret))
	writeFile(t, path, content, 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tok, err := s.Load(ctx)
	if tok != nil {
		t.Errorf("Load: got %v, want nil", tok)
	}
	checkStoreError(t, err, fileSecret)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want an error wrapping context.Canceled", err)
	}
	checkFile(t, path, content, 0o600)
}

// A file that others may read is still loaded; Load leaves its mode alone,
// and the next Save narrows it to 0600.
func TestFileStoreLoadReadableByOthers(t *testing.T) {
	t.Parallel()
	s, path := newFileStore(t)
	writeFile(t, path, tokenJSONOf(t, fileToken(fileSecret)), 0o644)
	tok, err := s.Load(context.Background())
	if err != nil || tok == nil || tok.AccessToken != fileSecret {
		t.Fatalf("Load: got %v, %v; want the token", tok, err)
	}
	checkMode(t, path, 0o644)
	if err := s.Save(context.Background(), tok); err != nil {
		t.Fatalf("Save: %v", err)
	}
	checkMode(t, path, 0o600)
}
