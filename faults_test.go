package cryptofuse

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentCallsUnderFaults shares one Client between many goroutines
// that revoke, issue and rotate while the fake server answers some requests
// with 503 and 429 and drops some connections. With enough attempts every
// call succeeds, and the server's state agrees with what the calls returned.
// Run it with -race.
func TestConcurrentCallsUnderFaults(t *testing.T) {
	waits := fakeSleep(t)
	srv := cryptofusetest.NewServer(testID, testSecret)
	t.Cleanup(srv.Close)
	// Every other token's first revoke loses its connection; of the other
	// revokes, one in 3 is answered 503 with Retry-After; one token request
	// in 4 is answered 429. A request goes to the first fault that matches
	// it, so the first, OncePerToken, takes each token's first revoke and
	// the second takes its retries. A retry is another request, which a
	// fault may take again: 20 attempts make the chance that all of one
	// call's attempts fail negligible.
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Drop: true, OncePerToken: true, Every: 2})
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable, RetryAfter: "1", Every: 3})
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Status: http.StatusTooManyRequests, Every: 4})
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), WithRetry(RetryPolicy{MaxAttempts: 20}))
	require.NoError(t, err)

	const goroutines, rounds = 16, 12
	type result struct {
		revoked, issued, rotatedOld, rotatedNew []string
		errs                                    []error
	}
	results := make([]result, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := &results[g]
			for i := range rounds {
				switch i % 3 {
				case 0:
					tok := srv.IssueToken(testID, "")
					if err := c.Revoke(ctx, tok, AccessTokenHint); err != nil {
						r.errs = append(r.errs, err)
						continue
					}
					r.revoked = append(r.revoked, tok)
				case 1:
					tok, err := c.Token(ctx)
					if err != nil {
						r.errs = append(r.errs, err)
						continue
					}
					r.issued = append(r.issued, tok.AccessToken)
				case 2:
					old := srv.IssueToken(testID, "")
					tok, err := c.RotateToken(ctx, old)
					if err != nil {
						r.errs = append(r.errs, err)
						continue
					}
					r.rotatedOld = append(r.rotatedOld, old)
					r.rotatedNew = append(r.rotatedNew, tok.AccessToken)
				}
			}
		}()
	}
	wg.Wait()

	var calls int
	for g, r := range results {
		for _, err := range r.errs {
			t.Errorf("goroutine %d: %v", g, err)
			assertNoSecret(t, err.Error(), testSecret)
		}
		for _, tok := range append(r.revoked, r.rotatedOld...) {
			assert.False(t, srv.Active(tok), "revoked token still active")
		}
		for _, tok := range append(r.issued, r.rotatedNew...) {
			assert.True(t, srv.Active(tok), "issued token not active")
		}
		calls += len(r.revoked) + len(r.issued) + len(r.rotatedOld)
	}
	assert.Equal(t, goroutines*rounds, calls, "calls that succeeded")

	n := srv.Counts()
	t.Logf("server saw %+v", n)
	// Every faulted request was retried once more, so the requests sent
	// are the calls' own plus one per fault: 4 revokes (one per revoke
	// call, one per rotation) and 4 token requests (one per token call,
	// one per rotation) per 3 rounds.
	wantRevokes, wantTokens := goroutines*rounds*2/3, goroutines*rounds*2/3
	assert.Equal(t, wantRevokes+wantTokens+n.Faulted, n.Revoke+n.Token, "requests sent: one per call step, plus one per fault")
	assert.Greater(t, n.Faulted, goroutines*rounds/4, "faults injected")
	assert.Len(t, waits(), n.Faulted, "one wait per fault")
	assert.LessOrEqual(t, n.Connections, goroutines+n.Faulted, "connections: reused, but for the dropped ones")
}

// TestConcurrentCallsUnderFaults_GiveUp: with the default policy and a
// server that always answers 503, every call gives up with a typed error
// after 3 attempts, and none leaks a secret.
func TestConcurrentCallsUnderFaults_GiveUp(t *testing.T) {
	fakeSleep(t)
	srv := cryptofusetest.NewServer(testID, testSecret)
	t.Cleanup(srv.Close)
	srv.InjectFault(-1, cryptofusetest.Fault{Status: http.StatusServiceUnavailable})
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL))
	require.NoError(t, err)

	const goroutines = 16
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch g % 3 {
			case 0:
				errs[g] = c.Revoke(context.Background(), testToken, "")
			case 1:
				_, errs[g] = c.Token(context.Background())
			case 2:
				_, errs[g] = c.RotateToken(context.Background(), testToken)
			}
		}()
	}
	wg.Wait()
	for g, err := range errs {
		var e *Error
		require.ErrorAs(t, err, &e, "goroutine %d", g)
		assert.Equal(t, http.StatusServiceUnavailable, e.StatusCode)
		assert.Equal(t, 3, e.attempts, "attempts")
		var re *RotateError
		assert.Equal(t, g%3 == 2, errors.As(err, &re), "a RotateError from RotateToken only")
		assertNoSecret(t, err.Error(), testSecret, testToken)
	}
	assert.Equal(t, goroutines*3, srv.Counts().Revoke+srv.Counts().Token, "requests: 3 attempts per call")
}
