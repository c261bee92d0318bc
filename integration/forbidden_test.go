package integration_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// TestIntrospect403 runs TokenPolicy.Introspect403 against DOT's own
// protected views, which answer a revoked token with 403 and an empty body:
// a revoked token behind ProtectedResourceView (/api/me/) recovers on the
// next call with one introspection, and a token without the scope that
// ScopedProtectedResourceView (/api/write/) requires gets its 403 and
// mints nothing.
func TestIntrospect403(t *testing.T) {
	base, ctx, c := setup(t, mainClient)
	var introspections, tokens int
	hooks := cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: func(ev cryptofuse.AttemptEvent) {
		switch ev.Op {
		case "introspect":
			introspections++
		case "token":
			tokens++
		}
	}})

	call := func(t *testing.T, api *http.Client, path string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := api.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("revoked token recovers", func(t *testing.T) {
		introspections, tokens = 0, 0
		_, _, hc := setup(t, mainClient, hooks)
		ts, err := hc.TokenSource(cryptofuse.TokenPolicy{Introspect403: true})
		if err != nil {
			t.Fatal(err)
		}
		defer ts.Close(context.Background())
		api := &http.Client{Transport: ts.Transport(cryptofuse.NewTransport())}
		if got := call(t, api, "/api/me/"); got != http.StatusOK {
			t.Fatalf("first call: got %d, want 200", got)
		}
		tok, err := ts.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Revoke(ctx, tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
			t.Fatal(err)
		}
		if got := call(t, api, "/api/me/"); got != http.StatusOK {
			t.Errorf("call after the revocation: got %d, want 200 (replayed with a new token)", got)
		}
		if introspections != 1 || tokens != 2 {
			t.Errorf("introspections, token requests: got %d, %d; want 1, 2", introspections, tokens)
		}
	})

	t.Run("permission denied mints nothing", func(t *testing.T) {
		introspections, tokens = 0, 0
		_, _, hc := setup(t, mainClient, hooks, cryptofuse.WithScopes("read"))
		ts, err := hc.TokenSource(cryptofuse.TokenPolicy{Introspect403: true})
		if err != nil {
			t.Fatal(err)
		}
		defer ts.Close(context.Background())
		api := &http.Client{Transport: ts.Transport(cryptofuse.NewTransport())}
		for i := range 3 {
			if got := call(t, api, "/api/write/"); got != http.StatusForbidden {
				t.Errorf("call %d: got %d, want 403 (the token lacks write)", i, got)
			}
		}
		if got := call(t, api, "/api/me/"); got != http.StatusOK {
			t.Errorf("the same token on /api/me/: got %d, want 200", got)
		}
		if introspections != 1 || tokens != 1 {
			t.Errorf("introspections, token requests: got %d, %d; want 1, 1", introspections, tokens)
		}
	})
}
