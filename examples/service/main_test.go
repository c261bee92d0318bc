package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

// recorder is a base transport that records the bearer tokens sent through
// it, to ask the fake about them afterwards.
type recorder struct {
	mu     sync.Mutex
	tokens []string // in the order first sent
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		r.mu.Lock()
		if !contains(r.tokens, tok) {
			r.tokens = append(r.tokens, tok)
		}
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDemo(t *testing.T) {
	env := fakeEnv(t)
	rec := &recorder{}
	// A grace period a loaded machine cannot outrun with one request.
	cfg := config{RotateEvery: 10 * time.Minute, Grace: time.Second, Path: cryptofusetest.ResourcePath, Base: rec}
	var out bytes.Buffer
	require.NoError(t, demo(context.Background(), env, cfg, &out), out.String())
	t.Log("\n" + out.String())

	tokens := rec.seen()
	require.Len(t, tokens, 2, "tokens sent: the first one and the rotation's")
	old, cur := setup.Fingerprint(tokens[0]), setup.Fingerprint(tokens[1])
	for _, re := range []string{
		`^service against the built-in fake server`,
		`(?m)^policy         rotate every 10m0s, revoke a replaced token 1s after, revoke on close$`,
		`(?m)^call 1         ` + old + `  200 OK$`,
		`(?m)^call 2         ` + old + `  200 OK$`,
		`(?m)^call 3         ` + old + `  200 OK$`,
		`(?m)^rotated        ` + old + ` -> ` + cur + `$`,
		`(?m)^call 4         ` + cur + `  200 OK$`,
		`(?m)^old token      ` + old + `  200 OK: accepted during the grace period$`,
		`(?m)^old token      ` + old + `  401 Unauthorized: revoked after the grace period$`,
		`(?m)^closed         ` + cur + `  401 Unauthorized: revoked on close$`,
		`(?m)^after close    Token: ErrClosed true; API call: ErrClosed true$`,
	} {
		assert.Regexp(t, regexp.MustCompile(re), out.String())
	}
	for _, tok := range tokens {
		assert.NotContains(t, out.String(), tok, "a token in the output")
		assert.False(t, env.Fake.Active(tok), "token %s still active", setup.Fingerprint(tok))
	}
	counts := env.Fake.Counts()
	assert.Equal(t, 2, counts.Token, "token requests: the first token and the rotation's, none per call")
	// Four calls, the old token during and after the grace period, the
	// current one after Close; the call after Close is not sent.
	assert.GreaterOrEqual(t, counts.Resource, 4+2+1, "API requests")
	// One revocation after the grace period, one on Close. Close may send
	// a second one for the replaced token when its RevokeAfter revocation
	// was still waiting for the answer (see the report on TokenSource.Close).
	assert.GreaterOrEqual(t, counts.Revoke, 2, "revoke requests")
	assert.LessOrEqual(t, counts.Revoke, 3, "revoke requests")
}

// TestServe runs the service loop with a short rotation schedule until it
// has rotated twice: every call succeeds across the rotations, and once it
// stops, no token it used is still active.
func TestServe(t *testing.T) {
	env := fakeEnv(t)
	rec := &recorder{}
	// MaxAge has a floor of 1 s; rotations come between 3/4 and all of it.
	cfg := config{RotateEvery: time.Second, Grace: 100 * time.Millisecond, Every: 10 * time.Millisecond,
		Path: cryptofusetest.ResourcePath, Base: rec}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, env, cfg, &out) }()
	deadline := time.After(30 * time.Second)
	for len(rec.seen()) < 3 {
		select {
		case <-deadline:
			require.Fail(t, "not two rotations in 30 s")
		case err := <-done:
			require.Fail(t, "serve returned early", "%v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	require.NoError(t, <-done)

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Greater(t, len(lines), 2)
	assert.Contains(t, lines[0], "serving against the built-in fake server")
	assert.Equal(t, "stopped; the tokens held are revoked", lines[len(lines)-1])
	for _, line := range lines[1 : len(lines)-1] {
		assert.Equal(t, "call 200 OK", line)
	}
	tokens := rec.seen()
	assert.GreaterOrEqual(t, len(tokens), 3, "tokens used")
	for _, tok := range tokens {
		assert.False(t, env.Fake.Active(tok), "token %s still active after the service stopped", setup.Fingerprint(tok))
	}
}

// TestOpen_Store: with -store, a service started again while the first one
// still runs (a restart after a crash) uses the stored token; after Close
// revoked it, a new start mints a new one, and its first call gets 200.
func TestOpen_Store(t *testing.T) {
	env := fakeEnv(t)
	dir := filepath.Join(t.TempDir(), "tokens")
	cfg := config{RotateEvery: time.Hour, Grace: time.Second, Path: cryptofusetest.ResourcePath, Store: dir}
	target := env.BaseURL + cryptofusetest.ResourcePath
	ctx := context.Background()
	start := func() (*cryptofuse.TokenSource, string) {
		t.Helper()
		ts, api, err := open(env.Client, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { ts.Close(ctx) })
		var out bytes.Buffer
		require.NoError(t, call(ctx, &out, "call", ts, api, target), "first API call")
		tok, err := ts.Token(ctx)
		require.NoError(t, err)
		return ts, tok.AccessToken
	}
	records := func() []string {
		t.Helper()
		files, err := filepath.Glob(filepath.Join(dir, "cryptofuse-v1-*"))
		require.NoError(t, err)
		return files
	}

	first, tok1 := start()
	// The TokenSource stores a new token in the background.
	require.Eventually(t, func() bool { return len(records()) == 1 }, 10*time.Second, 5*time.Millisecond, "one record file after the first start")
	second, tok2 := start()
	assert.Equal(t, setup.Fingerprint(tok1), setup.Fingerprint(tok2), "a restart uses the stored token")
	assert.Equal(t, 1, env.Fake.Counts().Token, "token requests")

	require.NoError(t, second.Close(ctx))
	require.NoError(t, first.Close(ctx))
	assert.False(t, env.Fake.Active(tok1), "the token after Close with RevokeOnClose")
	assert.Empty(t, records(), "record files after Close revoked the token")

	_, tok3 := start() // start checked that its first call got 200
	assert.NotEqual(t, setup.Fingerprint(tok1), setup.Fingerprint(tok3), "a start after Close hands out the revoked token")
	assert.Equal(t, 2, env.Fake.Counts().Token, "token requests")
}
