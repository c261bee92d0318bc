package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

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

// TestRun_IssueFirstRevokeFails: with -issue-first, a revoke that keeps
// failing leaves the job with the new token saved and the old one reported
// still valid; without it, the same failure issues nothing.
func TestRun_IssueFirstRevokeFails(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       []cryptofuse.Option
		wantErr    bool
		wantTokens int // token requests: the first token, and the rotation's if any
		wantOut    string
	}{
		{"issue first", []cryptofuse.Option{cryptofuse.WithIssueFirst()}, false, 2, "new token issued, but the old one is still valid"},
		{"revoke first", nil, true, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := fakeEnv(t, tc.opts...)
			env.Fake.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable, RetryAfter: "60"})
			var out bytes.Buffer
			err := run(context.Background(), env, "", &out)
			if tc.wantErr {
				var rerr *cryptofuse.RotateError
				require.ErrorAs(t, err, &rerr)
				assert.False(t, rerr.Revoked || rerr.Issued, "nothing revoked, nothing issued")
			} else {
				require.NoError(t, err)
				assert.Contains(t, out.String(), tc.wantOut)
				assert.Contains(t, out.String(), "old token      accepted")
				assert.Contains(t, out.String(), "new token      accepted")
			}
			assert.Equal(t, tc.wantTokens, env.Fake.Counts().Token, "token requests")
		})
	}
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
