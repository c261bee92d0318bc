package oauth2adapt_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/cryptofuse/cryptofuse-go/oauth2adapt"
	"golang.org/x/oauth2"
)

const (
	testID     = "svc-id"
	testSecret = "svc-secret"
)

// setup returns a fake server and a TokenSource of a client of it; both are
// closed when the test ends, the source first.
func setup(t *testing.T, opts ...cryptofusetest.Option) (*cryptofusetest.Server, *cryptofuse.TokenSource) {
	t.Helper()
	srv := cryptofusetest.NewServer(testID, testSecret, opts...)
	t.Cleanup(srv.Close)
	c, err := cryptofuse.NewClient(testID, testSecret, cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{})
	if err != nil {
		t.Fatalf("TokenSource: %v", err)
	}
	t.Cleanup(func() { _ = ts.Close(context.Background()) })
	return srv, ts
}

// The adapter returns ts's current token, converted, and follows it when
// ts replaces it.
func TestTokenSourceFollowsSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, ts := setup(t)
	src := oauth2adapt.TokenSource(ctx, ts)

	got, err := src.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	want, err := ts.Token(ctx)
	if err != nil {
		t.Fatalf("ts.Token: %v", err)
	}
	if got.AccessToken != want.AccessToken || got.TokenType != want.TokenType || !got.Expiry.Equal(want.Expiry) || got.ExpiresIn != want.ExpiresIn {
		t.Errorf("Token: got %q %q %v %d, want %q %q %v %d", got.AccessToken, got.TokenType, got.Expiry, got.ExpiresIn,
			want.AccessToken, want.TokenType, want.Expiry, want.ExpiresIn)
	}
	if !got.Valid() {
		t.Errorf("Valid(): got false, want true for a fresh token")
	}
	again, err := src.Token()
	if err != nil || again.AccessToken != got.AccessToken {
		t.Errorf("second Token: got %v, %v; want the same token", again, err)
	}
	if n := srv.Counts().Token; n != 1 {
		t.Errorf("token requests: got %d, want 1", n)
	}

	rotated, err := ts.Rotate(ctx)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	after, err := src.Token()
	if err != nil {
		t.Fatalf("Token after Rotate: %v", err)
	}
	if after.AccessToken != rotated.AccessToken || after.AccessToken == got.AccessToken {
		t.Errorf("Token after Rotate: got a different token than Rotate's (or the old one)")
	}
}

// The adapter never modifies the token ts holds: the cryptofuse token stays
// as ts returned it.
func TestTokenSourceDoesNotModifyToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, ts := setup(t)
	tok, err := ts.Token(ctx)
	if err != nil {
		t.Fatalf("ts.Token: %v", err)
	}
	before := *tok
	src := oauth2adapt.TokenSource(ctx, ts)
	for range 3 {
		if _, err := src.Token(); err != nil {
			t.Fatalf("Token: %v", err)
		}
	}
	if *tok != before {
		t.Errorf("the cryptofuse token changed: got %v, want %v", *tok, before)
	}
}

// Every ts.Token call gets the ctx given to TokenSource: when ts has to
// wait for a token, that ctx ends the wait.
func TestTokenSourcePassesContext(t *testing.T) {
	t.Parallel()
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline passed", expired, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, ts := setup(t)
			// The token endpoint never answers in time, so the only way out
			// of the wait is the ctx.
			srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Delay: time.Hour})
			done := make(chan error, 1)
			go func() {
				_, err := oauth2adapt.TokenSource(tt.ctx, ts).Token()
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, tt.want) {
					t.Errorf("Token: got %v, want an error wrapping %v", err, tt.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Token did not return: the ctx was not passed")
			}
		})
	}
}

// An error from ts passes through: after Close, errors.Is(err, ErrClosed).
func TestTokenSourceAfterClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, ts := setup(t)
	src := oauth2adapt.TokenSource(ctx, ts)
	if _, err := src.Token(); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if err := ts.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	tok, err := src.Token()
	if tok != nil {
		t.Errorf("Token after Close: got a token, want nil")
	}
	if !errors.Is(err, cryptofuse.ErrClosed) {
		t.Errorf("Token after Close: got %v, want an error wrapping ErrClosed", err)
	}
}

// The adapter is safe for concurrent use, and all callers get ts's token.
func TestTokenSourceConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, ts := setup(t)
	src := oauth2adapt.TokenSource(ctx, ts)
	const n = 64
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tok, err := src.Token()
			if err != nil {
				t.Errorf("Token: %v", err)
				return
			}
			tokens[i] = tok.AccessToken
		})
	}
	wg.Wait()
	for i, tok := range tokens {
		if tok != tokens[0] {
			t.Errorf("caller %d: got another token than caller 0", i)
		}
	}
	if c := srv.Counts().Token; c != 1 {
		t.Errorf("token requests: got %d, want 1", c)
	}
}

// With a fresh token, Token allocates nothing, as ts.Token does not. Not
// parallel: testing.AllocsPerRun refuses to run beside other tests.
func TestTokenSourceSteadyStateAllocs(t *testing.T) {
	ctx := context.Background()
	_, ts := setup(t)
	src := oauth2adapt.TokenSource(ctx, ts)
	if _, err := src.Token(); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got := testing.AllocsPerRun(100, func() { _, _ = src.Token() }); got != 0 {
		t.Errorf("allocs per Token: got %v, want 0", got)
	}
}

// oauth2.NewClient with the adapter calls the API with the managed token.
func TestTokenSourceWithOAuth2Client(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, ts := setup(t)
	hc := oauth2.NewClient(ctx, oauth2adapt.TokenSource(ctx, ts))
	for range 3 {
		resp, err := hc.Get(srv.URL + cryptofusetest.ResourcePath)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status: got %d, want 200", resp.StatusCode)
		}
	}
	if c := srv.Counts(); c.Token != 1 || c.Resource != 3 {
		t.Errorf("Counts: got %+v, want Token 1, Resource 3", c)
	}
}

// Through oauth2.Transport, a Rotate reaches the next request at once: the
// adapter caches nothing. (oauth2.NewClient would keep the old token.)
func TestTokenSourceWithOAuth2TransportFollowsRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, ts := setup(t)
	hc := &http.Client{Transport: &oauth2.Transport{Source: oauth2adapt.TokenSource(ctx, ts), Base: cryptofuse.NewTransport()}}
	get := func() int {
		t.Helper()
		resp, err := hc.Get(srv.URL + cryptofusetest.ResourcePath)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(); got != http.StatusOK {
		t.Fatalf("status: got %d, want 200", got)
	}
	old, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := cryptofuse.NewClient(testID, testSecret, cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(ctx, old.AccessToken, cryptofuse.AccessTokenHint); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != http.StatusOK {
		t.Errorf("status after Rotate and the old token's revocation: got %d, want 200", got)
	}
	if err := ts.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(srv.URL + cryptofusetest.ResourcePath); !errors.Is(err, cryptofuse.ErrClosed) {
		t.Errorf("GET after Close: got %v, want ErrClosed", err)
	}
}
