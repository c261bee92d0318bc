package integration_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// TestFakeDOTResourceMatchesDOT compares the fake's protected resource
// under WithDOTResource (and WithResourceScopes("write")) with DOT's own
// views, /api/me/ (ProtectedResourceView) and /api/write/
// (ScopedProtectedResourceView, required_scopes write): the same status,
// Content-Type, WWW-Authenticate and body for a live, a revoked, an unknown
// and a missing token, and for a live token without the scope.
func TestFakeDOTResourceMatchesDOT(t *testing.T) {
	base, ctx, client := setup(t, mainClient)
	readOnly, err := cryptofuse.NewClient(mainClient.id, mainClient.secret, cryptofuse.WithBaseURL(base), cryptofuse.WithScopes("read"))
	if err != nil {
		t.Fatal(err)
	}
	scoped := cryptofusetest.NewServer(mainClient.id, mainClient.secret, cryptofusetest.WithDOTResource(), cryptofusetest.WithResourceScopes("write"))
	t.Cleanup(scoped.Close)
	plain := cryptofusetest.NewServer(mainClient.id, mainClient.secret, cryptofusetest.WithDOTResource())
	t.Cleanup(plain.Close)

	revokedTok := issue(ctx, t, client).AccessToken
	if err := client.Revoke(ctx, revokedTok, cryptofuse.AccessTokenHint); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	cases := []struct {
		name string
		path string // DOT's view
		fake *cryptofusetest.Server
		// token returns the bearer token for the server ("" sends none).
		real, inFake func() string
	}{
		{"no token", "/api/me/", plain, func() string { return "" }, func() string { return "" }},
		{"unknown token", "/api/me/", plain, func() string { return "no-such-token-0123456789abcdef" }, func() string { return "no-such-token-0123456789abcdef" }},
		{"revoked token", "/api/me/", plain, func() string { return revokedTok }, func() string { return revokedIn(plain) }},
		{"read token, write required", "/api/write/", scoped, func() string { return issue(ctx, t, readOnly).AccessToken }, func() string { return scoped.IssueToken(mainClient.id, "read") }},
		{"unknown token, write required", "/api/write/", scoped, func() string { return "no-such-token-0123456789abcdef" }, func() string { return "no-such-token-0123456789abcdef" }},
		{"read write token, write required", "/api/write/", scoped, func() string { return issue(ctx, t, client).AccessToken }, func() string { return scoped.IssueToken(mainClient.id, "read write") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := answerOf(ctx, t, base+tc.path, tc.real())
			got := answerOf(ctx, t, tc.fake.URL+cryptofusetest.ResourcePath, tc.inFake())
			if want.status == http.StatusOK {
				// Bodies name the token's client and scope; compare the
				// status only.
				got.body, want.body = "", ""
			}
			if got != want {
				t.Errorf("fake: got %+v, want DOT's %+v", got, want)
			}
		})
	}
}

// revokedIn returns a token of srv that srv has revoked.
func revokedIn(srv *cryptofusetest.Server) string {
	tok := srv.IssueToken(mainClient.id, "")
	c, err := cryptofuse.NewClient(mainClient.id, mainClient.secret, cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	if err := c.Revoke(context.Background(), tok, cryptofuse.AccessTokenHint); err != nil {
		panic(err)
	}
	return tok
}

// resourceAnswer is what a protected resource answered, in the parts a
// client sees.
type resourceAnswer struct {
	status                             int
	contentType, wwwAuthenticate, body string
}

// answerOf sends GET url with token as a Bearer token ("" sends none).
func answerOf(ctx context.Context, t *testing.T, url, token string) resourceAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resourceAnswer{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("WWW-Authenticate"), string(body)}
}
