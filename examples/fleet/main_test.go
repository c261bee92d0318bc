package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go/examples/internal/setup"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun runs the demo on the fake server over a DirStore in a temporary
// directory: one token for the cold start, one per rotation, every one
// revoked after the last Close.
func TestRun(t *testing.T) {
	t.Setenv(setup.EnvClientID, "")
	env, err := setup.FromEnv()
	require.NoError(t, err)
	require.NotNil(t, env.Fake)
	t.Cleanup(env.Close)
	var out bytes.Buffer
	cfg := config{Instances: 4, Callers: 10, Rotations: 2, Grace: 100 * time.Millisecond, Dir: t.TempDir()}
	require.NoError(t, run(context.Background(), env, cfg, &out))
	assert.Contains(t, out.String(), "cold start      40 callers: 1 token(s) minted, 1 distinct handed out, 0 errors")
	assert.Contains(t, out.String(), "tokens minted   3 for 4 instances (without a shared store: 12)")
	assert.Contains(t, out.String(), "after Close     0 of 3 tokens still active")
	assert.Equal(t, 3, env.Fake.Counts().Token, "token requests at the server")
	assert.Equal(t, 3, env.Fake.Counts().Revoke, "revocations at the server: each token once")
}
