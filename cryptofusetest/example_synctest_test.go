package cryptofusetest_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// TestSynctestRotation is the pattern for testing rotation, backoff and
// grace periods without sleeping: the fake server, built WithoutListener,
// and the SDK, talking through srv.Client(), run inside a testing/synctest
// bubble, where time.Sleep moves a fake clock as soon as every goroutine
// of the bubble waits.
//
// A TokenSource that rotates its token every 10 minutes (MaxAge) and
// revokes each replaced token a minute later (RevokeAfter) is used once a
// minute for a simulated day: 144 to 192 tokens issued (MaxAge is
// jittered down by up to a quarter, so each lives 7.5 to 10 minutes), all
// but the current one revoked, in a few milliseconds of real time.
func TestSynctestRotation(t *testing.T) {
	start := time.Now() // real time: outside the bubble
	synctest.Test(t, func(t *testing.T) {
		srv := cryptofusetest.NewServer("my-id", "my-secret", cryptofusetest.WithoutListener())
		defer srv.Close()
		c, err := cryptofuse.NewClient("my-id", "my-secret",
			cryptofuse.WithBaseURL(srv.URL),
			cryptofuse.WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		ts, err := c.TokenSource(cryptofuse.TokenPolicy{MaxAge: 10 * time.Minute, RevokeAfter: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()

		for minute := 0; minute < 24*60; minute++ {
			tok, err := ts.Token(ctx)
			if err != nil {
				t.Fatalf("minute %d: %v", minute, err)
			}
			if !srv.Active(tok.AccessToken) {
				t.Fatalf("minute %d: the current token is not active", minute)
			}
			time.Sleep(time.Minute)
			// Let every timer due at this instant (the TokenSource's
			// MaxAge among them) do its work before the next call, so
			// that the run does not depend on which wakes first.
			synctest.Wait()
		}
		if err := ts.Close(ctx); err != nil {
			t.Fatal(err)
		}

		// MaxAge is jittered down by up to a quarter, so that a fleet
		// does not rotate at once: each token lives 7.5 to 10 minutes.
		got := srv.Counts()
		if got.Token < 24*60/10 || got.Token > 24*60*4/30+1 || got.Revoke != got.Token-1 {
			t.Errorf("got %d tokens issued and %d revoked, want 144 to 193 issued and one fewer revoked", got.Token, got.Revoke)
		}
		// The last token handed out may have been replaced in the
		// background since (its MaxAge came); Close then revoked it with
		// the others waiting for RevokeAfter. The current one, and only
		// it, is left to expire (RevokeOnClose is off): the counts above
		// say so.
		if got.Connections != 0 {
			t.Errorf("connections: got %d, want 0", got.Connections)
		}
	})
	t.Logf("a simulated day of rotations took %v of real time", time.Since(start))
}

// TestSynctestRetryAfter waits out a 503's Retry-After on the bubble's fake
// clock: the SDK's retry sleeps exactly the 5 s the server asked for, in no
// real time.
func TestSynctestRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := cryptofusetest.NewServer("my-id", "my-secret", cryptofusetest.WithoutListener())
		defer srv.Close()
		c, err := cryptofuse.NewClient("my-id", "my-secret",
			cryptofuse.WithBaseURL(srv.URL),
			cryptofuse.WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		tok := srv.IssueToken("my-id", "")
		srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 503, RetryAfter: "5"})

		start := time.Now()
		in, err := c.Introspect(context.Background(), tok)
		if err != nil || !in.Active {
			t.Fatalf("got %+v, %v, want an active token", in, err)
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("waited: got %v, want 5s (the Retry-After)", got)
		}
		if got := srv.Counts().Introspect; got != 2 {
			t.Errorf("introspection requests: got %d, want 2", got)
		}
	})
}
