package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
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

func TestRun(t *testing.T) {
	env := fakeEnv(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), env, "", &out))
	assert.Regexp(t, regexp.MustCompile(`(?m)^current token  [0-9a-f]{8}  \(Bearer, scope "read write", expires `), out.String())
	assert.Regexp(t, regexp.MustCompile(`(?m)^new token      [0-9a-f]{8}  \(Bearer`), out.String())
	assert.Contains(t, out.String(), "old token      rejected")
	assert.Contains(t, out.String(), "new token      accepted")
	assert.Equal(t, 1+1, env.Fake.Counts().Token, "token requests: the first token and the rotation's")
	assert.Equal(t, 1, env.Fake.Counts().Revoke, "revoke requests")
}

func TestRun_IssueFirst(t *testing.T) {
	env := fakeEnv(t, cryptofuse.WithIssueFirst())
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), env, "", &out))
	assert.Contains(t, out.String(), "old token      rejected")
	assert.Contains(t, out.String(), "new token      accepted")
	assert.Equal(t, 2, env.Fake.Counts().Token, "token requests")
	assert.Equal(t, 1, env.Fake.Counts().Revoke, "revoke requests")
}

func TestRun_StateFile(t *testing.T) {
	env := fakeEnv(t)
	path := filepath.Join(t.TempDir(), "token.json")
	saved := func() cryptofuse.Token {
		t.Helper()
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		var tok cryptofuse.Token
		require.NoError(t, json.Unmarshal(b, &tok))
		return tok
	}

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), env, path, &out))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "state file mode")
	first := saved()
	assert.True(t, env.Fake.Active(first.AccessToken), "saved token active")
	assert.False(t, first.Expiry.IsZero(), "expiry saved")

	// The next run rotates the saved token.
	require.NoError(t, run(context.Background(), env, path, &out))
	second := saved()
	assert.NotEqual(t, first.AccessToken, second.AccessToken)
	assert.False(t, env.Fake.Active(first.AccessToken), "the saved token was not rotated")
	assert.True(t, env.Fake.Active(second.AccessToken))

	require.NoError(t, os.WriteFile(path, []byte(`{"token_type": "Bearer"}`), 0o600))
	assert.ErrorContains(t, run(context.Background(), env, path, &out), "no access_token")
}
