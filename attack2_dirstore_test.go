package cryptofuse_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// a2Records lists the record files of a DirStore directory.
func a2Records(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") && !e.IsDir() || e.Type()&os.ModeSymlink != 0 && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// a2Seed stores one token of e's client in dir and returns it and its file.
func a2Seed(t *testing.T, e *a2Env, dir string) (*cryptofuse.Token, string) {
	t.Helper()
	ts := e.ts(t, cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir)})
	tok := mustTok(t, ts)
	if err := ts.Close(bg); err != nil {
		t.Fatal(err)
	}
	recs := a2Records(t, dir)
	if len(recs) != 1 {
		t.Fatalf("records after seed: %v, want 1", recs)
	}
	return tok, filepath.Join(dir, recs[0])
}

func TestAttack2DirStoreRestartReuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "s")
		e := a2New(t, nil)
		a, _ := a2Seed(t, e, dir)
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir)})
		defer ts.Close(bg)
		b := mustTok(t, ts)
		if a.AccessToken != b.AccessToken || e.srv.Counts().Token != 1 {
			t.Errorf("restart: reused=%v token requests=%d, want reuse and 1", a.AccessToken == b.AccessToken, e.srv.Counts().Token)
		}
	})
}

func TestAttack2DirStoreRevokeOnCloseRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "s")
		e := a2New(t, nil)
		for i := range 3 {
			ts := e.ts(t, cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir), RevokeOnClose: true})
			tok := mustTok(t, ts)
			if !e.srv.Active(tok.AccessToken) {
				t.Errorf("run %d: handed out an inactive (revoked) token", i)
			}
			if code, err := a2Get(ts, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath); code != 200 {
				t.Errorf("run %d: first API call = %d %v, want 200", i, code, err)
			}
			if err := ts.Close(bg); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		if got := e.srv.Counts().Token; got != 3 {
			t.Errorf("token requests = %d, want 3 (one per run)", got)
		}
		if got := e.srv.Counts().Resource; got != 3 {
			t.Errorf("resource requests = %d, want 3 (no 401 then replay)", got)
		}
	})
}

func TestAttack2DirStoreRotateFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "s")
		e := a2New(t, nil)
		a, _ := a2Seed(t, e, dir)
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir), RevokeAfter: time.Minute})
		defer ts.Close(bg)
		r, err := ts.Rotate(bg)
		if err != nil {
			t.Fatal(err)
		}
		if r.AccessToken == a.AccessToken {
			t.Errorf("Rotate as first call returned the stored token")
		}
		if got := e.srv.Counts().Token; got != 2 {
			t.Errorf("token requests = %d, want 2", got)
		}
		if b := mustTok(t, ts); b.AccessToken != r.AccessToken {
			t.Errorf("Token after Rotate is not the rotated token")
		}
	})
}

func TestAttack2DirStoreRejectedLeavesStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "s")
		e := a2New(t, nil)
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir)})
		a := mustTok(t, ts)
		synctest.Wait()
		e.srv.InjectFault(100, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Status: 400, ContentType: "application/json", Body: `{"error":"invalid_client"}`})
		ts.Invalidate(a.AccessToken)
		if _, err := ts.Token(bg); err == nil {
			t.Errorf("Token after invalidate with failing server: nil error")
		}
		ts.Close(bg)
		e.srv.ClearFaults()
		ts2 := e.ts(t, cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir)})
		defer ts2.Close(bg)
		b := mustTok(t, ts2)
		if b.AccessToken == a.AccessToken {
			t.Errorf("restart handed out the token that was rejected (401/Invalidate)")
		}
	})
}

// Two sources with different scopes, clients or base URLs on one directory.
func TestAttack2DirStoreSeparation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "s")
		srvA := cryptofusetest.NewServer(a2ID, a2Secret, cryptofusetest.WithoutListener())
		defer srvA.Close()
		srvB := cryptofusetest.NewServer(a2ID, a2Secret, cryptofusetest.WithoutListener())
		defer srvB.Close()
		srvA.AddClient("other-client", a2Secret)
		route := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r2 := r.Clone(r.Context())
			for p, s := range map[string]*cryptofusetest.Server{"/a": srvA, "/b": srvB} {
				if strings.HasPrefix(r.URL.Path, p+"/") {
					r2.URL.Path = strings.TrimPrefix(r.URL.Path, p)
					return s.Transport().RoundTrip(r2)
				}
			}
			return srvA.Transport().RoundTrip(r2)
		})
		hc := &http.Client{Transport: route}
		mk := func(id, base string, scopes ...string) *cryptofuse.TokenSource {
			opts := []cryptofuse.Option{cryptofuse.WithBaseURL(base), cryptofuse.WithHTTPClient(hc)}
			if scopes != nil {
				opts = append(opts, cryptofuse.WithScopes(scopes...))
			}
			c, err := cryptofuse.NewClient(id, a2Secret, opts...)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := c.TokenSource(cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir)})
			if err != nil {
				t.Fatal(err)
			}
			return ts
		}
		type src struct {
			name string
			ts   *cryptofuse.TokenSource
		}
		srcs := []src{
			{"A rw", mk(a2ID, "http://127.0.0.1:9/a")},
			{"A read", mk(a2ID, "http://127.0.0.1:9/a", "read")},
			{"A write", mk(a2ID, "http://127.0.0.1:9/a", "write")},
			{"A write read", mk(a2ID, "http://127.0.0.1:9/a", "write", "read")},
			{"A other", mk("other-client", "http://127.0.0.1:9/a")},
			{"B rw", mk(a2ID, "http://127.0.0.1:9/b")},
			{"A rw slash", mk(a2ID, "http://127.0.0.1:9/a/")},
		}
		seen := map[string]string{}
		for round := range 2 {
			for _, s := range srcs {
				tok, err := s.ts.Token(bg)
				if err != nil {
					t.Errorf("%s: %v", s.name, err)
					continue
				}
				synctest.Wait()
				if o, ok := seen[tok.AccessToken]; ok && a2Group(o) != a2Group(s.name) {
					t.Errorf("round %d: %s was handed %s's token", round, s.name, o)
				}
				seen[tok.AccessToken] = s.name
			}
		}
		for _, s := range srcs {
			s.ts.Close(bg)
		}
		// restart: each new source gets back its own token or a new one, never another's
		owner := map[string]string{}
		for k, v := range seen {
			owner[k] = v
		}
		for _, s := range []src{
			{"B rw", mk(a2ID, "http://127.0.0.1:9/b")},
			{"A read", mk(a2ID, "http://127.0.0.1:9/a", "read")},
			{"A other", mk("other-client", "http://127.0.0.1:9/a")},
		} {
			tok, err := s.ts.Token(bg)
			if err != nil {
				t.Fatal(err)
			}
			if o, ok := owner[tok.AccessToken]; ok && o != s.name {
				t.Errorf("restart: %s was handed %s's token", s.name, o)
			}
			s.ts.Close(bg)
		}
		if n := srvB.Counts().Token; n != 1 {
			t.Errorf("server B token requests = %d, want 1", n)
		}
	})
}

// A record file of another client, copied over this client's file.
func TestAttack2DirStoreSwappedRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dirA := filepath.Join(t.TempDir(), "a")
		dirB := filepath.Join(t.TempDir(), "b")
		e := a2New(t, nil)
		e.srv.AddClient("other-client", a2Secret)
		_, fileA := a2Seed(t, e, dirA)
		cB, _ := cryptofuse.NewClient("other-client", a2Secret, cryptofuse.WithBaseURL(e.srv.URL), cryptofuse.WithHTTPClient(&http.Client{Transport: e.rt}))
		tsB, _ := cB.TokenSource(cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dirB)})
		b := mustTok(t, tsB)
		tsB.Close(bg)
		recB := a2Records(t, dirB)
		data, err := os.ReadFile(filepath.Join(dirB, recB[0]))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fileA, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ts := e.ts(t, cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dirA)})
		defer ts.Close(bg)
		got := mustTok(t, ts)
		if got.AccessToken == b.AccessToken {
			t.Errorf("client A used client B's record copied under A's key")
		}
	})
}

func TestAttack2DirStoreOtherSecret(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "s")
		e := a2New(t, nil)
		a, _ := a2Seed(t, e, dir)
		srv2 := cryptofusetest.NewServer(a2ID, "a-different-secret-0987654321", cryptofusetest.WithoutListener())
		defer srv2.Close()
		c2, _ := cryptofuse.NewClient(a2ID, "a-different-secret-0987654321", cryptofuse.WithBaseURL(srv2.URL), cryptofuse.WithHTTPClient(srv2.Client()))
		ts, _ := c2.TokenSource(cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir)})
		defer ts.Close(bg)
		b := mustTok(t, ts)
		if b.AccessToken == a.AccessToken || srv2.Counts().Token != 1 {
			t.Errorf("record sealed under another secret was used")
		}
	})
}

// Hostile files at the record's path: each is refused, and the source mints.
func TestAttack2DirStoreHostileFiles(t *testing.T) {
	cases := map[string]func(t *testing.T, dir, file string){
		"symlink": func(t *testing.T, dir, file string) {
			target := filepath.Join(t.TempDir(), "target")
			data, _ := os.ReadFile(file)
			os.WriteFile(target, data, 0o600)
			os.Remove(file)
			if err := os.Symlink(target, file); err != nil {
				t.Fatal(err)
			}
		},
		"group-writable file": func(t *testing.T, dir, file string) { os.Chmod(file, 0o660) },
		"world-writable file": func(t *testing.T, dir, file string) { os.Chmod(file, 0o606) },
		"group-writable dir":  func(t *testing.T, dir, file string) { os.Chmod(dir, 0o770) },
		"huge file": func(t *testing.T, dir, file string) {
			data, _ := os.ReadFile(file)
			big := make([]byte, 0, 3<<20)
			for len(big) < 3<<20 {
				big = append(big, data...)
			}
			os.WriteFile(file, big, 0o600)
		},
		"directory": func(t *testing.T, dir, file string) {
			os.Remove(file)
			os.Mkdir(file, 0o700)
		},
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "s")
				e := a2New(t, nil)
				a, file := a2Seed(t, e, dir)
				mod(t, dir, file)
				key := filepath.Base(file)
				if _, err := cryptofuse.DirStore(dir).Get(bg, key); err == nil {
					t.Errorf("DirStore.Get of a %s: nil error, want refused", name)
				}
				ts := e.ts(t, cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir)})
				b, err := ts.Token(bg)
				if err != nil {
					t.Fatalf("Token over a %s: %v", name, err)
				}
				if b.AccessToken == a.AccessToken {
					t.Errorf("the token behind a %s was used", name)
				}
				ts.Close(bg)
			})
		})
	}
}

// A FIFO at the record's path must not hang Get (real syscalls: no bubble).
func TestAttack2DirStoreFIFO(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	var file string
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil)
		_, file = a2Seed(t, e, dir)
	})
	os.Remove(file)
	if err := syscall.Mkfifo(file, 0o600); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(bg, 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := cryptofuse.DirStore(dir).Get(ctx, filepath.Base(file))
	if err == nil || errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("Get of a FIFO: err=%v after %v, want a prompt refusal", err, time.Since(start))
	}
	srv := cryptofusetest.NewServer(a2ID, a2Secret)
	defer srv.Close()
	c, _ := cryptofuse.NewClient(a2ID, a2Secret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()))
	ts, _ := c.TokenSource(cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir)})
	start = time.Now()
	if _, err := ts.Token(ctx); err != nil {
		t.Errorf("Token over a FIFO: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Token over a FIFO took %v", d)
	}
	ts.Close(ctx)
}

func TestAttack2DirStoreBadKeys(t *testing.T) {
	d := cryptofuse.DirStore(t.TempDir())
	for _, k := range []string{"", ".", "..", ".guard", "../x", "a/b", strings.Repeat("a", 201), "a\x00b", ".lock-x", "é"} {
		if err := d.Put(bg, k, []byte("x")); err == nil {
			t.Errorf("Put(%q) = nil, want refused", k)
		}
		if _, err := d.Get(bg, k); err == nil || errors.Is(err, cryptofuse.ErrStoreMiss) && k != "" {
			if err == nil {
				t.Errorf("Get(%q) = nil error", k)
			}
		}
	}
}

// a2Group names the sources that may share a token: same origin, client and
// scope set ("read write" = "write read"; a trailing slash is the same base).
func a2Group(name string) string {
	switch name {
	case "A rw slash", "A write read":
		return "A rw"
	}
	return name
}
