package cryptofuse_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
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

// A TokenSource keeps one token for the service: Token does no request
// while the token is fresh, however often it is called.
func ExampleClient_TokenSource() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{}) // the defaults: refresh 5 minutes before expiry
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close(context.Background())

	ctx := context.Background()
	first, err := ts.Token(ctx) // issues the token
	if err != nil {
		log.Fatal(err)
	}
	again, err := ts.Token(ctx) // the same token, without a request
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same token:", first == again)
	fmt.Println("token requests:", srv.Counts().Token)
	// Output:
	// same token: true
	// token requests: 1
}

// An http.Client over the TokenSource's Transport sends the current token
// with every request to the client's own origin, and refuses to send a
// request anywhere else. This is the README's snippet ("Managed tokens").
func ExampleTokenSource_Transport() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	ts, err := c.TokenSource(cryptofuse.TokenPolicy{}) // the zero policy: every default
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close(context.Background())

	// Every request to the client's origin carries the current token.
	api := &http.Client{Transport: ts.Transport(cryptofuse.NewTransport())}

	resp, err := api.Get(srv.URL + cryptofusetest.ResourcePath) // a protected resource of the fake
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("own origin:", resp.Status)

	_, err = api.Get("https://example.com/")
	fmt.Println("other origin refused:", errors.Is(err, cryptofuse.ErrForeignOrigin))
	// Output:
	// own origin: 200 OK
	// other origin refused: true
}

// Rotate replaces the token now. With RevokeAfter, the replaced token stays
// valid that long, for requests still in flight with it, and is revoked
// then.
func ExampleTokenSource_Rotate() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	const grace = 200 * time.Millisecond
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{RevokeAfter: grace})
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close(context.Background())
	ctx := context.Background()
	old, err := ts.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}

	tok, err := ts.Rotate(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new token:", tok.AccessToken != old.AccessToken, srv.Active(tok.AccessToken))
	fmt.Println("old token active during the grace period:", srv.Active(old.AccessToken))

	time.Sleep(grace)
	fmt.Println("old token revoked after it:", eventually(func() bool { return !srv.Active(old.AccessToken) }))
	// Output:
	// new token: true true
	// old token active during the grace period: true
	// old token revoked after it: true
}

// eventually reports whether cond holds within 5 seconds, for what a
// TokenSource does in the background (a revocation is one request).
func eventually(cond func() bool) bool {
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// A TokenStore keeps the token between runs of a program: a TokenSource
// uses a stored token that is still fresh without a request. DirStore keeps
// it, sealed under the client secret, in a file of its own at mode 0600.
func ExampleDirStore() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	dir, err := os.MkdirTemp("", "cryptofuse-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	store := cryptofuse.DirStore(filepath.Join(dir, "tokens"))

	// An earlier run of the program got a token; Close waited for it to be
	// stored.
	first, err := c.TokenSource(cryptofuse.TokenPolicy{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	saved, err := first.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := first.Close(ctx); err != nil {
		log.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(string(store), "cryptofuse-v1-*"))
	if err != nil || len(files) != 1 {
		log.Fatalf("record files: %v, %v", files, err)
	}
	info, err := os.Stat(files[0])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("record file mode:", info.Mode().Perm())

	// This run starts with it.
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close(ctx)
	tok, err := ts.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored token used:", tok.AccessToken == saved.AccessToken)
	fmt.Println("token requests:", srv.Counts().Token, "(the earlier run's)")
	// Output:
	// record file mode: -rw-------
	// stored token used: true
	// token requests: 1 (the earlier run's)
}

// Tracing with OpenTelemetry, as the README shows it: an otelhttp transport
// under the TokenSource's Transport traces the API calls, and one in
// WithHTTPClient traces the token and revocation requests. otelhttp here is
// a stand-in that prints one line per request.
func ExampleTokenSource_Transport_tracing() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	id, secret := "my-service", "my-secret"

	c, err := cryptofuse.NewClient(id, secret,
		cryptofuse.WithBaseURL(srv.URL), // the fake; leave it out in production
		cryptofuse.WithHTTPClient(&http.Client{Transport: otelhttp.NewTransport(cryptofuse.NewTransport())}))
	if err != nil {
		log.Fatal(err)
	}
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{})
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close(context.Background())
	api := &http.Client{Transport: ts.Transport(otelhttp.NewTransport(cryptofuse.NewTransport()))}

	resp, err := api.Get(srv.URL + cryptofusetest.ResourcePath)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	// Output:
	// span: POST /o/token/: 200 OK
	// span: GET /test/resource/ (bearer token): 200 OK
}

// otelhttp stands in for go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp,
// which this module does not require, so that the README's tracing snippet
// compiles here as written. Its NewTransport wraps a RoundTripper as the
// real one does; the real one records a span where this prints a line.
var otelhttp = struct {
	NewTransport func(base http.RoundTripper) http.RoundTripper
}{
	NewTransport: func(base http.RoundTripper) http.RoundTripper { return spanPrinter{base} },
}

// spanPrinter is the stand-in otelhttp transport.
type spanPrinter struct{ base http.RoundTripper }

func (p spanPrinter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := p.base.RoundTrip(req)
	auth := ""
	if strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
		auth = " (bearer token)"
	}
	if err != nil {
		fmt.Printf("span: %s %s%s: %v\n", req.Method, req.URL.Path, auth, err)
		return nil, err
	}
	fmt.Printf("span: %s %s%s: %s\n", req.Method, req.URL.Path, auth, resp.Status)
	return resp, nil
}
