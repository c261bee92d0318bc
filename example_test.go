package cryptofuse_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// The examples run against cryptofusetest, the SDK's in-memory fake server.
// In production, leave out WithBaseURL: the client talks to DefaultBaseURL.

func ExampleClient_Revoke() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	userToken := srv.IssueToken("my-service", "") // the token a user logs out with

	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Revoke(ctx, userToken, cryptofuse.AccessTokenHint); err != nil {
		log.Fatal(err)
	}
	fmt.Println("active after revoke:", srv.Active(userToken))

	// Revoking a token that is already gone is not an error (RFC 7009 §2.2).
	fmt.Println("revoke again:", c.Revoke(ctx, userToken, cryptofuse.AccessTokenHint))
	// Output:
	// active after revoke: false
	// revoke again: <nil>
}

func ExampleClient_Token() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()

	c, err := cryptofuse.NewClient("my-service", "my-secret",
		cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithScopes("read"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := c.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, tok.Scope, tok.ExpiresIn, srv.Active(tok.AccessToken))
	// Formatting a token never shows it.
	fmt.Println(strings.Contains(fmt.Sprint(tok), tok.AccessToken))
	// Output:
	// Bearer read 36000 true
	// false
}

func ExampleClient_RotateToken() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	old, err := c.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}

	tok, err := c.RotateToken(ctx, old.AccessToken)
	var rerr *cryptofuse.RotateError
	if errors.As(err, &rerr) && rerr.Revoked {
		// The old token is gone but no new one was issued: get one.
		tok, err = c.Token(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("old active:", srv.Active(old.AccessToken))
	fmt.Println("new active:", srv.Active(tok.AccessToken))
	// Output:
	// old active: false
	// new active: true
}

// Errors are typed: test them with errors.Is and errors.As, never by their
// text.
func ExampleError() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	c, err := cryptofuse.NewClient("my-service", "wrong-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	err = c.Revoke(context.Background(), "some-token", cryptofuse.AccessTokenHint)
	fmt.Println(errors.Is(err, cryptofuse.ErrInvalidClient))
	var e *cryptofuse.Error
	if errors.As(err, &e) {
		fmt.Println(e.Op, e.StatusCode, e.Code)
	}
	fmt.Println(err)
	// Output:
	// true
	// revoke 401 invalid_client
	// cryptofuse: revoke: 401 Unauthorized: invalid_client
}

// With WithIssueFirst, RotateToken issues the new token before it revokes
// the old one, so the caller always holds a valid token.
func ExampleWithIssueFirst() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	c, err := cryptofuse.NewClient("my-service", "my-secret",
		cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithIssueFirst())
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	old := srv.IssueToken("my-service", "")

	tok, err := c.RotateToken(ctx, old)
	var rerr *cryptofuse.RotateError
	switch {
	case errors.As(err, &rerr) && rerr.Issued:
		// The new token is good; the old one is still valid. Use tok, and
		// revoke the old one later.
	case err != nil:
		// Nothing was issued; the old token is untouched. Keep using it.
		log.Fatal(err)
	}
	fmt.Println("old active:", srv.Active(old))
	fmt.Println("new active:", srv.Active(tok.AccessToken))
	// Output:
	// old active: false
	// new active: true
}

// WithLogger writes one debug line per attempt. Nothing is logged without
// it, and no line holds a secret or a token.
func ExampleWithLogger() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{} // left out, so the output is the same every run
			}
			return a
		},
	}))
	c, err := cryptofuse.NewClient("my-service", "wrong-secret",
		cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	_ = c.Revoke(context.Background(), "some-token", cryptofuse.AccessTokenHint)
	// Output:
	// level=DEBUG msg="cryptofuse: attempt" op=revoke attempt=1 status=401 error="cryptofuse: revoke: 401 Unauthorized: invalid_client" gave_up="not retryable"
}

// Calls retry what a later attempt can fix. Here the server answers the
// first two revocations with 503, and the third attempt succeeds.
func ExampleWithRetry() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	srv.InjectFault(2, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable})
	userToken := srv.IssueToken("my-service", "")

	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL),
		cryptofuse.WithRetry(cryptofuse.RetryPolicy{
			MaxAttempts: 3,                     // in all; 1 turns retries off
			BaseDelay:   50 * time.Millisecond, // backoff: random waits under 50 ms, then 100 ms
		}))
	if err != nil {
		log.Fatal(err)
	}
	err = c.Revoke(context.Background(), userToken, cryptofuse.AccessTokenHint)
	fmt.Println("error:", err)
	fmt.Println("requests:", srv.Counts().Revoke, "active:", srv.Active(userToken))
	// Output:
	// error: <nil>
	// requests: 3 active: false
}
