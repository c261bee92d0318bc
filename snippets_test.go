package cryptofuse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// The functions in this file compile the snippets of docs/ that no other
// example or test holds (docs_test.go checks that each snippet matches).

// A Client is built once, at start-up, from the environment (docs/client.md).
// Compiled, not run: it needs real credentials.
func ExampleNewClient() {
	c, err := cryptofuse.NewClient(os.Getenv("CRYPTOFUSE_CLIENT_ID"), os.Getenv("CRYPTOFUSE_CLIENT_SECRET"))
	if err != nil {
		log.Fatal(err) // bad input: empty credentials, a bad base URL, …
	}
	_ = c
}

// RotateToken revokes, then issues; a *RotateError says where the caller
// stands (docs/client.md). Here the issue fails once, after the revocation.
func ExampleRotateError() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL),
		cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	tok, err := c.Token(ctx) // client_credentials grant, scope "read write"
	if err != nil {
		log.Fatal(err)
	}
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Status: http.StatusServiceUnavailable})
	newTok, err := c.RotateToken(ctx, tok.AccessToken) // revoke the old one, then issue
	var rerr *cryptofuse.RotateError
	if errors.As(err, &rerr) && rerr.Revoked {
		// The old token is gone and no new one was issued: get one now.
		newTok, err = c.Token(ctx)
	}
	fmt.Println("error:", err, "new token:", newTok != nil, "old active:", srv.Active(tok.AccessToken))
	// Output:
	// error: <nil> new token: true old active: false
}

// WithRetry and WithLogger together (docs/reliability.md).
func ExampleWithRetry_logger() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable})
	id, secret := "my-service", "my-secret"
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := cryptofuse.NewClient(id, secret,
		cryptofuse.WithRetry(cryptofuse.RetryPolicy{
			MaxAttempts: 5,                      // 1 turns retries off
			BaseDelay:   100 * time.Millisecond, // zero fields keep the defaults
			MaxDelay:    5 * time.Second,
		}),
		cryptofuse.WithLogger(logger), // one debug line per attempt, never a secret
		cryptofuse.WithBaseURL(srv.URL),
	)
	if err != nil {
		log.Fatal(err)
	}
	err = c.Revoke(context.Background(), srv.IssueToken(id, ""), cryptofuse.AccessTokenHint)
	fmt.Println("error:", err, "attempts:", srv.Counts().Revoke)
	// Output:
	// error: <nil> attempts: 2
}

// revokeOrExplain is docs/reliability.md's error switch.
func revokeOrExplain(ctx context.Context, c *cryptofuse.Client, token string, retryLater func(time.Duration)) error {
	err := c.Revoke(ctx, token, cryptofuse.AccessTokenHint)
	var e *cryptofuse.Error
	switch {
	case err == nil:
	case errors.Is(err, cryptofuse.ErrInvalidClient):
		// our credentials were refused: page someone
		return err
	case errors.As(err, &e) && (e.StatusCode == 429 || e.StatusCode >= 500):
		retryLater(e.RetryAfter) // RetryAfter is 0 when the server sent none
	case errors.Is(err, context.DeadlineExceeded):
		// the server did not answer in time
		return err
	default:
		return err
	}
	return nil
}

// Errors are typed: the switch of docs/reliability.md tells a refused
// credential from an outage worth retrying.
func ExampleError_switch() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable, RetryAfter: "30"})
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL),
		cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		log.Fatal(err)
	}
	later := func(d time.Duration) { fmt.Println("retry in", d) }
	fmt.Println(revokeOrExplain(context.Background(), c, srv.IssueToken("my-service", ""), later))
	bad, err := cryptofuse.NewClient("my-service", "wrong", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	err = revokeOrExplain(context.Background(), bad, "some-token", later)
	fmt.Println(errors.Is(err, cryptofuse.ErrInvalidClient))
	// Output:
	// retry in 30s
	// <nil>
	// true
}

// Fault injection, as docs/testing.md shows it.
func ExampleServer_InjectFault_kinds() {
	srv := cryptofusetest.NewServer("my-id", "my-secret")
	defer srv.Close()

	// The next two revocations get 503 with Retry-After: 1, then the real answer.
	srv.InjectFault(2, cryptofusetest.Fault{
		Path:       cryptofusetest.RevokePath,
		Status:     http.StatusServiceUnavailable,
		RetryAfter: "1",
	})
	// Drop the connection of the next token request before any answer.
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Drop: true})
	// Make every revocation slow; the wait ends early if the client gives up.
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Delay: 2 * time.Second})
	// A 100 MiB error body that is not JSON, streamed.
	srv.InjectFault(1, cryptofusetest.Fault{Status: 500, Body: "<html>", BodySize: 100 << 20})
	// Fail only the first attempt for each token, so retries succeed.
	srv.InjectFault(-1, cryptofusetest.Fault{Status: 503, OncePerToken: true})
	srv.ClearFaults()
	fmt.Println("faulted so far:", srv.Counts().Faulted)
	// Output:
	// faulted so far: 0
}

// Hooks see what the SDK does, for metrics of your own (docs/observability.md):
// here, the tokens a TokenSource obtained, by reason. A TokenSource calls
// TokenObtained on its refresh goroutine, so the example waits for the
// events rather than read a counter right after Token returns.
func ExampleHooks() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	obtained := make(chan cryptofuse.TokenReason, 10)

	c, err := cryptofuse.NewClient("my-service", "my-secret",
		cryptofuse.WithBaseURL(srv.URL),
		cryptofuse.WithHooks(cryptofuse.Hooks{
			TokenObtained: func(ev cryptofuse.TokenEvent) {
				obtained <- ev.Reason // ev.Fingerprint names the token; nothing holds it
			},
		}))
	if err != nil {
		log.Fatal(err)
	}
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{})
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close(context.Background())
	if _, err := ts.Token(context.Background()); err != nil {
		log.Fatal(err)
	}
	if _, err := ts.Rotate(context.Background()); err != nil {
		log.Fatal(err)
	}
	reasons := []string{string(<-obtained), string(<-obtained)}
	sort.Strings(reasons)
	fmt.Println(reasons)
	// Output:
	// [first rotate]
}

// A service keeps one token for all its calls to the API: rotated hourly,
// each replaced token revoked a minute later, what is left revoked on
// shutdown, and kept (sealed) in a directory so that a restart mints
// nothing. This is the README's snippet.
func ExampleTokenSource_service() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	stateDir, err := os.MkdirTemp("", "cryptofuse-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(stateDir)
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	apiBase := srv.URL

	ts, err := c.TokenSource(cryptofuse.TokenPolicy{
		MaxAge:        time.Hour,                                 // rotate hourly
		RevokeAfter:   time.Minute,                               // revoke each replaced token a minute later
		RevokeOnClose: true,                                      // and the current one on shutdown
		Store:         cryptofuse.DirStore(stateDir + "/tokens"), // a crash, or another instance, reuses the token
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close(context.Background())

	// Every request to the client's own origin carries the current token.
	api := &http.Client{Transport: ts.Transport(nil)}
	resp, err := api.Get(apiBase + cryptofusetest.ResourcePath)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// 200 OK
}
