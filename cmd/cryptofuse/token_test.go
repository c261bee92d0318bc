package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// printedToken returns the one token the command printed on stdout.
func printedToken(t *testing.T, res result) string {
	t.Helper()
	tok := strings.TrimSuffix(res.stdout, "\n")
	if tok == "" || strings.ContainsAny(tok, " \n") {
		t.Fatalf("stdout: got %q, want one token on one line", res.stdout)
	}
	return tok
}

// jsonToken parses the JSON token the command printed on stdout.
func jsonToken(t *testing.T, res result) cryptofuse.Token {
	t.Helper()
	if strings.Count(res.stdout, "\n") != 1 || !strings.HasSuffix(res.stdout, "\n") {
		t.Errorf("stdout: got %d lines, want one line of JSON", strings.Count(res.stdout, "\n"))
	}
	var tok cryptofuse.Token
	if err := json.Unmarshal([]byte(res.stdout), &tok); err != nil {
		t.Fatalf("stdout is not a JSON token: %v", err)
	}
	if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 || tok.Expiry.IsZero() {
		t.Errorf("token: got type %q, expires_in %d, expiry %v, access token set %v; want a whole Bearer token", tok.TokenType, tok.ExpiresIn, tok.Expiry, tok.AccessToken != "")
	}
	return tok
}

func TestToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      []string
		json      bool
		wantScope string
	}{
		{"plain", []string{"token"}, false, "read write"},
		{"json", []string{"token", "-json"}, true, "read write"},
		{"scope read", []string{"token", "-scope", "read", "-json"}, true, "read"},
		{"no scope: the server's default", []string{"token", "-scope", "", "-json"}, true, "read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			res := f.run(t, "", tt.args...)
			wantCode(t, res, exitOK)
			if res.stderr != "" {
				t.Errorf("stderr: got %q, want nothing", res.stderr)
			}
			var tok string
			if tt.json {
				jt := jsonToken(t, res)
				tok = jt.AccessToken
				if jt.Scope != tt.wantScope {
					t.Errorf("scope: got %q, want %q", jt.Scope, tt.wantScope)
				}
			} else {
				tok = printedToken(t, res)
			}
			if !f.srv.Active(tok) {
				t.Error("the printed token is not active on the server")
			}
		})
	}
}

func TestTokenFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		busy bool // the server answers 503 to every token request
		args []string
		want []string
	}{
		{"wrong secret", map[string]string{envClientSecret: "wrong-secret"}, false, []string{"token"}, []string{"cryptofuse token: 401 Unauthorized: invalid_client", "check CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET (or -credentials)"}},
		{"unknown scope", nil, false, []string{"token", "-scope", "admin"}, []string{"cryptofuse token: 400 Bad Request: invalid_scope", "check -scope"}},
		{"server down", map[string]string{envBaseURL: "http://127.0.0.1:1"}, false, []string{"token"}, []string{"connection refused"}},
		{"server busy", nil, true, []string{"token", "-attempts", "2"}, []string{"cryptofuse token: 503 Service Unavailable\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.secret("wrong-secret")
			env := f.withEnv(tt.env)
			if tt.busy {
				env[envBaseURL] = f.frontAll(t, func(w http.ResponseWriter, r *http.Request, _ string) bool {
					http.Error(w, "<html>busy</html>", http.StatusServiceUnavailable)
					return true
				})
			}
			res := f.runWith(t, invocation{env: env}, tt.args...)
			wantCode(t, res, exitFailed)
			wantContains(t, "stderr", res.stderr, tt.want...)
			// Each prefix once: not "cryptofuse token: cryptofuse: token: 503".
			for _, bad := range []string{"cryptofuse: ", "token: token:"} {
				if strings.Contains(res.stderr, bad) {
					t.Errorf("stderr holds %q:\n%s", bad, res.stderr)
				}
			}
			if res.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", res.stdout)
			}
		})
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      []string
		stdin     string // OLD is replaced by an active token
		wantScope string // "" for a plain (non-JSON) answer
	}{
		{"plain", []string{"rotate"}, "\n  OLD  \nignored second line\n", ""},
		{"json", []string{"rotate", "-json"}, "OLD\n", "read write"},
		{"scope read", []string{"rotate", "-scope", "read", "-json"}, "OLD\n", "read"},
		{"scope read, issue first", []string{"rotate", "-issue-first", "-scope", "read", "-json"}, "OLD\n", "read"},
		{"byte order mark", []string{"rotate"}, "\ufeffOLD\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			old := f.issue(1)[0]
			res := f.run(t, strings.ReplaceAll(tt.stdin, "OLD", old), tt.args...)
			wantCode(t, res, exitOK)
			var tok string
			if tt.wantScope != "" {
				jt := jsonToken(t, res)
				tok = jt.AccessToken
				if jt.Scope != tt.wantScope {
					t.Errorf("scope: got %q, want %q", jt.Scope, tt.wantScope)
				}
			} else {
				tok = printedToken(t, res)
			}
			if f.srv.Active(old) {
				t.Error("the old token is still active")
			}
			if !f.srv.Active(tok) {
				t.Error("the new token is not active")
			}
		})
	}
}

func TestRotateFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		stdin string // "OLD" is replaced by an active token
		code  int
		want  []string
	}{
		{"empty stdin", nil, "\n\n", exitUsage, []string{"no token on stdin"}},
		{"two words", nil, "Bearer OLD\n", exitUsage, []string{"something other than one token"}},
		{"zero-width space", nil, "OLD\u200b\n", exitUsage, []string{"something other than one token", "RFC 6750"}},
		{"quoted", nil, "\"OLD\",\n", exitUsage, []string{"something other than one token"}},
		{"wrong secret", map[string]string{envClientSecret: "wrong-secret"}, "OLD\n", exitFailed, []string{"cryptofuse rotate: old token fp ", ": issuing a new token failed; the old token was not revoked: 401 Unauthorized: invalid_client\n", "check CRYPTOFUSE_CLIENT_ID"}},
		{"Bearer prefix", nil, "Bearer OLD\n", exitUsage, []string{"something other than one token", `drop the "Bearer " prefix`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.secret("wrong-secret")
			old := f.issue(1)[0]
			res := f.runWith(t, invocation{env: f.withEnv(tt.env), stdin: strings.ReplaceAll(tt.stdin, "OLD", old)}, "rotate")
			wantCode(t, res, tt.code)
			wantContains(t, "stderr", res.stderr, tt.want...)
			if strings.Contains(res.stderr, "cryptofuse: ") {
				t.Errorf("stderr repeats the \"cryptofuse: \" prefix:\n%s", res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", res.stdout)
			}
			if !f.srv.Active(old) {
				t.Error("the old token was revoked")
			}
			if c := f.srv.Counts(); c.Revoke != 0 {
				t.Errorf("revoke requests: got %d, want 0", c.Revoke)
			}
		})
	}
}

func TestRotateIssueFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.issue(1)[0]
	res := f.run(t, old+"\n", "rotate", "-issue-first")
	wantCode(t, res, exitOK)
	tok := printedToken(t, res)
	if f.srv.Active(old) || !f.srv.Active(tok) {
		t.Errorf("old active %v, new active %v; want false, true", f.srv.Active(old), f.srv.Active(tok))
	}
}

// When one step of a rotation fails, the operator is told what they hold.
func TestRotateStepFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		failPath   string
		wantNew    bool // a new token is printed
		wantOldOK  bool // the old token is still active
		wantStderr string
	}{
		{"revoke first, issue fails", []string{"rotate", "-revoke-first"}, tokenPath, false, false, "The old token is revoked and no new one was issued: run 'cryptofuse token'"},
		{"default, revoke fails", []string{"rotate", "-json"}, revokePath, true, true, "is still valid: revoke it with 'cryptofuse revoke'"},
		{"default, issue fails", []string{"rotate"}, tokenPath, false, true, "issuing a new token failed; the old token was not revoked"},
		{"-issue-first, issue fails", []string{"rotate", "-issue-first"}, tokenPath, false, true, "issuing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			old := f.issue(1)[0]
			base := f.frontAll(t, func(w http.ResponseWriter, r *http.Request, _ string) bool {
				if r.URL.Path != tt.failPath {
					return false
				}
				http.Error(w, "<html>Internal Server Error</html>", http.StatusInternalServerError)
				return true
			})
			res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: base}), stdin: old + "\n"}, append(tt.args, "-attempts", "1")...)
			wantCode(t, res, exitFailed)
			wantContains(t, "stderr", res.stderr, tt.wantStderr, "fp "+fingerprint(old))
			if tt.wantNew {
				if tok := jsonToken(t, res).AccessToken; !f.srv.Active(tok) {
					t.Error("the printed token is not active")
				}
			} else if res.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", res.stdout)
			}
			if got := f.srv.Active(old); got != tt.wantOldOK {
				t.Errorf("old token active: got %v, want %v", got, tt.wantOldOK)
			}
		})
	}
}

// token -cache DIR reuses a kept token while it stays valid for -min-valid,
// and keeps a new one otherwise, sealed, one record per scope set; a broken
// cache never fails the run.
func TestTokenCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      []string // of both runs
		wantReuse bool     // the second run prints the first's token, and sends nothing
	}{
		{"reused", nil, true},
		{"reused, JSON", []string{"-json"}, true},
		{"lifetime (10 h) shorter than -min-valid", []string{"-min-valid", "11h"}, false},
		{"scope read", []string{"-scope", "read"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			dir := filepath.Join(t.TempDir(), "cache")
			first := f.run(t, "", append([]string{"token", "-cache", dir}, tt.args...)...)
			wantCode(t, first, exitOK)
			if first.stderr != "" {
				t.Errorf("stderr: got %q, want nothing", first.stderr)
			}
			files, err := filepath.Glob(filepath.Join(dir, "cryptofuse-v1-*"))
			if err != nil {
				t.Fatalf("Glob: got %v, want nil", err)
			}
			if len(files) != 1 {
				t.Fatalf("record files: got %v, want one", files)
			}
			b, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatalf("ReadFile: got %v, want nil", err)
			}
			if tok := strings.TrimSpace(first.stdout); tok == "" || strings.Contains(string(b), tok) || strings.Contains(string(b), "access_token") {
				t.Errorf("record file: holds the token in clear, or no token was printed (%q)", first.stdout)
			}
			for path, want := range map[string]os.FileMode{dir: 0o700, files[0]: 0o600} {
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
					t.Errorf("mode of %s: got %v, %v, want %v", filepath.Base(path), fi.Mode().Perm(), err, want)
				}
			}
			again := f.run(t, "", append([]string{"token", "-cache", dir}, tt.args...)...)
			wantCode(t, again, exitOK)
			wantTokens := 2
			if tt.wantReuse {
				wantTokens = 1
			}
			if got := again.stdout == first.stdout; got != tt.wantReuse {
				t.Errorf("second run printed the first's token: got %v, want %v", got, tt.wantReuse)
			}
			if n := f.srv.Counts().Token; n != wantTokens {
				t.Errorf("token requests: got %d, want %d", n, wantTokens)
			}
		})
	}
}

// A token kept for one scope set is never printed for another: each has a
// record of its own in the directory.
func TestTokenCache_ScopesApart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := t.TempDir()
	run := func(scope string) string {
		t.Helper()
		res := f.run(t, "", "token", "-cache", dir, "-scope", scope)
		wantCode(t, res, exitOK)
		return res.stdout
	}
	both, read := run("read write"), run("read")
	if both == read {
		t.Errorf("-scope read got the token kept for read write")
	}
	if again := run("write read"); again != both {
		t.Errorf("-scope \"write read\": got another token than \"read write\"'s, want the kept one")
	}
	if n := f.srv.Counts().Token; n != 2 {
		t.Errorf("token requests: got %d, want 2", n)
	}
}

// A cache that cannot be used is reported on stderr; the run still prints a
// new token.
func TestTokenCache_Broken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		plant      func(t *testing.T, path string)
		wantStderr string
	}{
		{"a 0.2 token file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(`{"access_token": "AT-kept-0123456789", "expiry": "2099-01-01T00:00:00Z"}`), 0o600); err != nil {
				t.Fatalf("WriteFile: got %v, want nil", err)
			}
		}, "is a file, not a directory"},
		{"a directory others can write", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatalf("Mkdir: got %v, want nil", err)
			}
			if err := os.Chmod(path, 0o777); err != nil {
				t.Fatalf("Chmod: got %v, want nil", err)
			}
		}, "writable by group or others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			path := filepath.Join(t.TempDir(), "cache")
			tt.plant(t, path)
			res := f.run(t, "", "token", "-cache", path)
			wantCode(t, res, exitOK)
			wantContains(t, "stderr", res.stderr, tt.wantStderr)
			if res.stdout == "" || strings.Contains(res.stdout, "AT-kept") {
				t.Errorf("stdout: got %q, want a new token", res.stdout)
			}
			if n := f.srv.Counts().Token; n != 1 {
				t.Errorf("token requests: got %d, want 1", n)
			}
		})
	}
}

// A kept record that does not open (altered, or sealed under another
// secret) is reported, and replaced by a new token.
func TestTokenCache_Unusable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := t.TempDir()
	first := f.run(t, "", "token", "-cache", dir)
	wantCode(t, first, exitOK)
	files, err := filepath.Glob(filepath.Join(dir, "cryptofuse-v1-*"))
	if err != nil {
		t.Fatalf("Glob: got %v, want nil", err)
	}
	if len(files) != 1 {
		t.Fatalf("record files: got %v, want one", files)
	}
	if err := os.WriteFile(files[0], []byte("\x01not a sealed record, but long enough to be tried as one"), 0o600); err != nil {
		t.Fatalf("WriteFile: got %v, want nil", err)
	}

	res := f.run(t, "", "token", "-cache", dir)
	wantCode(t, res, exitOK)
	wantContains(t, "stderr", res.stderr, "-cache: the kept token is not usable (a new one is issued)")
	if res.stdout == first.stdout {
		t.Errorf("stdout: got the first token, want a new one")
	}
	if again := f.run(t, "", "token", "-cache", dir); again.stdout != res.stdout || again.stderr != "" {
		t.Errorf("third run: got %q (stderr %q), want the new kept token and no complaint", again.stdout, again.stderr)
	}
	if n := f.srv.Counts().Token; n != 2 {
		t.Errorf("token requests: got %d, want 2", n)
	}
}
