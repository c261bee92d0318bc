package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/cryptofuse/cryptofuse-go/examples/internal/setup"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeEnv returns an Env on the built-in fake server.
func fakeEnv(t *testing.T, opts ...cryptofuse.Option) *setup.Env {
	t.Helper()
	t.Setenv(setup.EnvClientID, "")
	env, err := setup.FromEnv(opts...)
	require.NoError(t, err)
	require.NotNil(t, env.Fake)
	t.Cleanup(env.Close)
	return env
}

// grace is the tests' grace period: one introspection request fits in it
// however loaded the machine.
const grace = time.Second

func TestRun(t *testing.T) {
	env := fakeEnv(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), env, config{Grace: grace}, &out))
	assert.Regexp(t, regexp.MustCompile(`(?m)^current token  [0-9a-f]{8}  \(Bearer, scope "read write", expires `), out.String())
	assert.Regexp(t, regexp.MustCompile(`(?m)^new token      [0-9a-f]{8}  \(Bearer`), out.String())
	assert.Contains(t, out.String(), "old token      accepted: the server reports it active during the 1s grace period")
	assert.Contains(t, out.String(), "old token      rejected: the server reports it inactive after the grace period")
	assert.Contains(t, out.String(), "new token      accepted")
	assert.Equal(t, 1+1, env.Fake.Counts().Token, "token requests: the first token and the rotation's")
	// Close may send a second revocation when the grace period's one was
	// still waiting for its answer (see the report on TokenSource.Close).
	assert.GreaterOrEqual(t, env.Fake.Counts().Revoke, 1, "revoke requests")
	assert.LessOrEqual(t, env.Fake.Counts().Revoke, 2, "revoke requests")
}

// TestRun_RevokeFails: a revocation that keeps failing leaves the job with
// the new token and the old one reported still valid, left to expire; the
// run still succeeds.
func TestRun_RevokeFails(t *testing.T) {
	defer func(d time.Duration) { revokeWait = d }(revokeWait)
	revokeWait = 300 * time.Millisecond
	env := fakeEnv(t)
	env.Fake.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable, RetryAfter: "60"})
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), env, config{Grace: 10 * time.Millisecond}, &out))
	assert.Contains(t, out.String(), "old token      still active after the grace period: its revocation failed")
	assert.Contains(t, out.String(), "new token      accepted")
	assert.Contains(t, out.String(), "closing        cryptofuse: revoke: 503")
	assert.Equal(t, 2, env.Fake.Counts().Token, "token requests")
}

// TestRun_StateDir: with -state DIR the job keeps its token in a DirStore
// between runs: sealed, one record file at mode 0600.
func TestRun_StateDir(t *testing.T) {
	env := fakeEnv(t)
	dir := filepath.Join(t.TempDir(), "state")
	current := regexp.MustCompile(`(?m)^current token  ([0-9a-f]{8})  `)
	rotated := regexp.MustCompile(`(?m)^new token      ([0-9a-f]{8})  `)
	record := func() os.FileInfo {
		t.Helper()
		files, err := filepath.Glob(filepath.Join(dir, "cryptofuse-v1-*"))
		require.NoError(t, err)
		require.Len(t, files, 1, "record files")
		fi, err := os.Stat(files[0])
		require.NoError(t, err)
		return fi
	}
	cfg := config{State: dir, MaxAge: time.Hour, Grace: grace}

	// The first run has nothing stored: it issues a token and keeps it.
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), env, cfg, &out))
	assert.Equal(t, os.FileMode(0o600), record().Mode().Perm(), "record file mode")
	m := current.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	first := m[1]
	assert.Equal(t, 1, env.Fake.Counts().Token, "token requests after the first run")
	assert.Contains(t, out.String(), "nothing to rotate")

	// The next run finds the stored token fresh: it mints nothing.
	out.Reset()
	require.NoError(t, run(context.Background(), env, cfg, &out))
	assert.Regexp(t, regexp.MustCompile(`(?m)^current token  `+first+`  `), out.String())
	assert.Equal(t, 1, env.Fake.Counts().Token, "token requests after a run with a fresh stored token")
	assert.Equal(t, 0, env.Fake.Counts().Revoke, "revoke requests")

	// Once the stored token is older than -max-age, a run rotates it, and
	// the next run starts with the new one.
	cfg.MaxAge = time.Nanosecond
	out.Reset()
	require.NoError(t, run(context.Background(), env, cfg, &out))
	m = rotated.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	second := m[1]
	assert.NotEqual(t, first, second)
	assert.Contains(t, out.String(), "old token      rejected")
	assert.Equal(t, 2, env.Fake.Counts().Token, "token requests after the rotation")
	assert.Equal(t, os.FileMode(0o600), record().Mode().Perm(), "record file mode after the rotation")
	cfg.MaxAge = time.Hour
	out.Reset()
	require.NoError(t, run(context.Background(), env, cfg, &out))
	assert.Regexp(t, regexp.MustCompile(`(?m)^current token  `+second+`  `), out.String())
	assert.Equal(t, 2, env.Fake.Counts().Token, "token requests after a run with the rotated token")

	// A record that does not open (written by hand, or for another secret)
	// is not fatal: it is logged, and the run issues a new token and keeps
	// it in its place.
	files, _ := filepath.Glob(filepath.Join(dir, "cryptofuse-v1-*"))
	require.NoError(t, os.WriteFile(files[0], []byte(`{"access_token": "AT-planted"}`), 0o600))
	out.Reset()
	require.NoError(t, run(context.Background(), env, cfg, &out))
	assert.Equal(t, 3, env.Fake.Counts().Token, "token requests after the broken record")
	assert.Equal(t, os.FileMode(0o600), record().Mode().Perm(), "record file mode")
}
