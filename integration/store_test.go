package integration_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cryptofuse/cryptofuse-go"
)

// The store against the real django-oauth-toolkit: a token that Close
// revoked is not handed out by the next start over the same DirStore, a
// restart without revocation mints nothing, and sources of different scope
// sets or clients sharing one directory never hand out each other's token.

// storeSource returns a TokenSource of c under p, whose Client (built with
// opts) sends its requests through a counter, and the counter. Close runs
// at cleanup (a second Close does nothing).
func storeSource(t *testing.T, c testClient, p cryptofuse.TokenPolicy, opts ...cryptofuse.Option) (string, context.Context, *cryptofuse.TokenSource, *counter) {
	t.Helper()
	n := &counter{base: http.DefaultTransport}
	base, ctx, client := setup(t, c, append([]cryptofuse.Option{cryptofuse.WithHTTPClient(&http.Client{Transport: n})}, opts...)...)
	ts, err := client.TokenSource(p)
	if err != nil {
		t.Fatalf("TokenSource(%+v): %v", p, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		if err := ts.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return base, ctx, ts, n
}

// callAPI sends GET base+path through ts.Transport and returns the status.
func callAPI(ctx context.Context, t *testing.T, ts *cryptofuse.TokenSource, base, path string) int {
	t.Helper()
	hc := &http.Client{Transport: ts.Transport(http.DefaultTransport)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s through ts.Transport: %v", path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode
}

// sortedScope is scope with its scopes sorted.
func sortedScope(scope string) string {
	f := strings.Fields(scope)
	slices.Sort(f)
	return strings.Join(f, " ")
}

// records lists the record files in dir.
func records(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "cryptofuse-v1-*"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestStoreRevokeOnCloseThenRestart: Close with RevokeOnClose over a
// DirStore revokes the token and takes it out of the store; a new
// TokenSource on the same directory mints a new token, and its first API
// call gets 200 (0.2.0 handed out the revoked token: 403 until it expired).
func TestStoreRevokeOnCloseThenRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	store := cryptofuse.DirStore(dir)
	base, ctx, first, _ := storeSource(t, mainClient, cryptofuse.TokenPolicy{RevokeOnClose: true, Store: store})
	if got := callAPI(ctx, t, first, base, "/api/me/"); got != http.StatusOK {
		t.Fatalf("first source's API call: got status %d, want 200", got)
	}
	old := current(ctx, t, first)
	if err := first.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	rejected(ctx, t, base, old.AccessToken)
	if files := records(t, dir); len(files) != 0 {
		t.Errorf("record files after Close revoked the token: got %d, want 0", len(files))
	}

	_, _, next, n := storeSource(t, mainClient, cryptofuse.TokenPolicy{RevokeOnClose: true, Store: store})
	if got := callAPI(ctx, t, next, base, "/api/me/"); got != http.StatusOK {
		t.Fatalf("next source's first API call: got status %d, want 200", got)
	}
	if got := n.tokens.Load(); got != 1 {
		t.Errorf("token requests of the next source: got %d, want 1 (a new token)", got)
	}
	if tok := current(ctx, t, next); tok.AccessToken == old.AccessToken {
		t.Error("next source: got the token Close revoked")
	}
}

// TestStoreRestartMintsNothing: without RevokeOnClose, the next start over
// the same DirStore uses the stored token (accepted by the server) and
// sends no token request.
func TestStoreRestartMintsNothing(t *testing.T) {
	store := cryptofuse.DirStore(filepath.Join(t.TempDir(), "tokens"))
	base, ctx, first, _ := storeSource(t, mainClient, cryptofuse.TokenPolicy{Store: store})
	tok := current(ctx, t, first)
	if err := first.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, _, next, n := storeSource(t, mainClient, cryptofuse.TokenPolicy{Store: store})
	if got := callAPI(ctx, t, next, base, "/api/me/"); got != http.StatusOK {
		t.Fatalf("next source's first API call: got status %d, want 200", got)
	}
	if got := current(ctx, t, next); got.AccessToken != tok.AccessToken {
		t.Error("next source: got a new token, want the stored one")
	}
	if got := n.tokens.Load(); got != 0 {
		t.Errorf("token requests of the next source: got %d, want 0", got)
	}
}

// TestStoreKeepsApart: sources of two scope sets and of two clients share
// one DirStore, twice (the second time each starts from the store). Each
// hands out only a token of its own client and scope set, as the server
// sees it: /api/me/ names the client and the scope, and /api/write/
// accepts only a token with "write".
func TestStoreKeepsApart(t *testing.T) {
	store := cryptofuse.DirStore(filepath.Join(t.TempDir(), "tokens"))
	type source struct {
		name      string
		c         testClient
		scopes    []string
		wantScope string
		wantWrite int
	}
	sources := []source{
		{"main, read", mainClient, []string{"read"}, "read", http.StatusForbidden},
		{"main, read write", mainClient, []string{"read", "write"}, "read write", http.StatusOK},
		{"other, read write", otherClient, []string{"write", "read"}, "read write", http.StatusOK},
	}
	first := map[string]string{} // the token each source got in round 1
	for round := 1; round <= 2; round++ {
		seen := map[string]string{}
		for _, s := range sources {
			base, ctx, ts, n := storeSource(t, s.c, cryptofuse.TokenPolicy{Store: store}, cryptofuse.WithScopes(s.scopes...))
			tok := current(ctx, t, ts)
			r := accepted(ctx, t, base, tok.AccessToken)
			if r.ClientID != s.c.id || sortedScope(r.Scope) != s.wantScope {
				t.Errorf("round %d, %s: the server sees client %q scope %q, want %q %q", round, s.name, r.ClientID, r.Scope, s.c.id, s.wantScope)
			}
			if got := callAPI(ctx, t, ts, base, "/api/write/"); got != s.wantWrite {
				t.Errorf("round %d, %s: /api/write/ got status %d, want %d", round, s.name, got, s.wantWrite)
			}
			if other, ok := seen[tok.AccessToken]; ok {
				t.Errorf("round %d: %s got the token of %s", round, s.name, other)
			}
			seen[tok.AccessToken] = s.name
			wantTokens := int64(1)
			if round == 2 {
				wantTokens = 0
				if tok.AccessToken != first[s.name] {
					t.Errorf("round 2, %s: got another token than its stored one", s.name)
				}
			}
			first[s.name] = tok.AccessToken
			if err := ts.Close(ctx); err != nil { // stores the token
				t.Fatalf("Close: %v", err)
			}
			if got := n.tokens.Load(); got != wantTokens {
				t.Errorf("round %d, %s: token requests: got %d, want %d", round, s.name, got, wantTokens)
			}
		}
	}
	if files := records(t, string(store)); len(files) != len(sources) {
		t.Errorf("record files: got %d, want %d (one per client and scope set)", len(files), len(sources))
	}
}
