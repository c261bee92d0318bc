package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

const (
	testClientID     = "cli-test-client"
	testClientSecret = "cli-test-s3cret+/:%&"
)

// fixture is a fake server and an environment pointing at it. Every token
// it issues and the client secret are secrets: run fails the test if one
// appears in the command's stdout or stderr.
type fixture struct {
	srv *cryptofusetest.Server
	env map[string]string

	mu      sync.Mutex
	secrets []string
}

// newFixture starts a fake server, closed when the test ends.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t)
}

// newFixtureWith is newFixture with options for the fake server.
func newFixtureWith(t *testing.T, opts ...cryptofusetest.Option) *fixture {
	t.Helper()
	srv := cryptofusetest.NewServer(testClientID, testClientSecret, opts...)
	t.Cleanup(srv.Close)
	return &fixture{
		srv: srv,
		env: map[string]string{
			envClientID:     testClientID,
			envClientSecret: testClientSecret,
			envBaseURL:      srv.URL,
		},
		secrets: []string{testClientSecret},
	}
}

// issue mints n active tokens on the server and records them as secrets.
func (f *fixture) issue(n int) []string {
	toks := make([]string, n)
	for i := range toks {
		toks[i] = f.srv.IssueToken(testClientID, "")
	}
	f.mu.Lock()
	f.secrets = append(f.secrets, toks...)
	f.mu.Unlock()
	return toks
}

// secret records a value that must never be printed.
func (f *fixture) secret(s string) {
	f.mu.Lock()
	f.secrets = append(f.secrets, s)
	f.mu.Unlock()
}

// withEnv returns a copy of the fixture's environment with changes; a value
// of "" unsets the variable.
func (f *fixture) withEnv(changes map[string]string) map[string]string {
	env := map[string]string{}
	for k, v := range f.env {
		env[k] = v
	}
	for k, v := range changes {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	return env
}

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// invocation is how the command is run.
type invocation struct {
	env   map[string]string
	stdin string
	tty   bool // stderr (and stdin) pretend to be a terminal
	ctx   context.Context
}

// run runs the command with the fixture's environment and checks that no
// secret appears in its output.
func (f *fixture) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return f.runWith(t, invocation{env: f.env, stdin: stdin}, args...)
}

// runWith runs the command as inv says and checks that no secret appears in
// its output.
func (f *fixture) runWith(t *testing.T, inv invocation, args ...string) result {
	t.Helper()
	res := runCommand(inv, args...)
	f.mu.Lock()
	secrets := append([]string(nil), f.secrets...)
	f.mu.Unlock()
	assertNoSecrets(t, res, secrets...)
	return res
}

// runCommand runs the command on buffers, with env as its environment.
func runCommand(inv invocation, args ...string) result {
	if inv.ctx == nil {
		inv.ctx = context.Background()
	}
	var stdout, stderr bytes.Buffer
	c := &command{
		stdin:         strings.NewReader(inv.stdin),
		stdout:        &stdout,
		stderr:        &stderr,
		getenv:        func(k string) string { return inv.env[k] },
		isTerminal:    func(any) bool { return inv.tty },
		progressEvery: 5 * time.Millisecond,
		backoff:       time.Millisecond,
	}
	code := c.run(inv.ctx, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// assertNoSecrets fails the test if any secret appears in the output, and
// says which one by fingerprint only.
func assertNoSecrets(t *testing.T, res result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for name, out := range map[string]string{"stdout": res.stdout, "stderr": res.stderr} {
			if strings.Contains(out, s) {
				t.Errorf("%s holds a secret (fp %s)", name, fingerprint(s))
			}
		}
	}
}

// wantCode fails the test unless the command exited with want.
func wantCode(t *testing.T, res result, want int) {
	t.Helper()
	if res.code != want {
		t.Fatalf("exit code: got %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, want, res.stdout, res.stderr)
	}
}

// wantContains fails the test unless out contains every one of subs.
func wantContains(t *testing.T, what, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("%s: got\n%s\nwant it to contain %q", what, out, s)
		}
	}
}

// writeFile writes content to a new file in the test's temp dir with the
// given mode (set with chmod, so the umask does not matter).
func writeFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// lines joins tokens one per line.
func lines(toks ...string) string {
	return strings.Join(toks, "\n") + "\n"
}

// front starts a server in front of f's fake server. Each revoke request is
// first offered to intercept with its token; if intercept does not answer it
// (returns false), the request goes on to the fake server. It returns the
// front server's URL.
func (f *fixture) front(t *testing.T, intercept func(w http.ResponseWriter, r *http.Request, token string) bool) string {
	t.Helper()
	return f.frontAll(t, func(w http.ResponseWriter, r *http.Request, token string) bool {
		return r.URL.Path == revokePath && intercept(w, r, token)
	})
}

const (
	revokePath = "/o/revoke_token/"
	tokenPath  = "/o/token/"
)

// frontAll is front for the requests of every path; token is the request's
// token form value, if any.
func (f *fixture) frontAll(t *testing.T, intercept func(w http.ResponseWriter, r *http.Request, token string) bool) string {
	t.Helper()
	target, err := url.Parse(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		{
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			form, err := url.ParseQuery(string(body))
			if err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			if intercept(w, r, form.Get("token")) {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// summaryLine returns the value of a "key: value" line of the summary.
func summaryLine(t *testing.T, stdout, key string) string {
	t.Helper()
	for _, l := range strings.Split(stdout, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("summary has no %q line:\n%s", key, stdout)
	return ""
}

// countOf parses the leading number of a summary value.
func countOf(t *testing.T, v string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(v, &n); err != nil {
		t.Fatalf("summary value %q: %v", v, err)
	}
	return n
}

// accounted checks that the summary accounts for every one of total tokens.
func accounted(t *testing.T, stdout string, total int) (revoked, failed, notAttempted int) {
	t.Helper()
	revoked = countOf(t, summaryLine(t, stdout, "revoked"))
	failed = countOf(t, summaryLine(t, stdout, "failed"))
	notAttempted = countOf(t, summaryLine(t, stdout, "not attempted"))
	if want := fmt.Sprintf("%d of %d", revoked, total); summaryLine(t, stdout, "revoked") != want {
		t.Errorf("revoked line: got %q, want %q", summaryLine(t, stdout, "revoked"), want)
	}
	if revoked+failed+notAttempted != total {
		t.Errorf("revoked %d + failed %d + not attempted %d = %d, want %d", revoked, failed, notAttempted, revoked+failed+notAttempted, total)
	}
	return revoked, failed, notAttempted
}
