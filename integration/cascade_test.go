package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cryptofuse/cryptofuse-go"
)

// TestUserTokenRevocation revokes one token of a user's pair through the
// SDK, on the real server and on cryptofusetest in that server's mode, and
// checks on both what is left (RFC 7009 §2.1): revoking the refresh token
// takes the access token along on both versions; revoking the access token
// takes the refresh token along on 3.4.1, while 1.7.0 leaves the refresh
// token unrevoked (its refresh grant then crashes 1.7.0 with a 500).
func TestUserTokenRevocation(t *testing.T) {
	base := serverURL(t)
	old := isDOT170(t)
	srv, _ := fakeFor(t, dotVersion(t))
	tests := []struct {
		name      string
		revoke    string // "access" or "refresh"
		hint      cryptofuse.TokenTypeHint
		wantGrant int // a refresh grant with the refresh token afterwards
	}{
		{"refresh token", "refresh", cryptofuse.RefreshTokenHint, http.StatusBadRequest},
		{"refresh token, no hint", "refresh", "", http.StatusBadRequest},
		{"access token", "access", cryptofuse.AccessTokenHint, map[bool]int{true: http.StatusInternalServerError, false: http.StatusBadRequest}[old]},
	}
	for _, tt := range tests {
		for _, side := range []struct {
			name  string
			base  string
			issue func(ctx context.Context, t *testing.T) (string, string)
		}{
			{"DOT", base, func(ctx context.Context, t *testing.T) (string, string) {
				t.Helper()
				p := &paritySide{base: base}
				a, r, err := p.passwordGrant(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return a, r
			}},
			{"cryptofusetest", srv.URL, func(context.Context, *testing.T) (string, string) {
				return srv.IssueUserToken(userClient.id, seededUser.name, "")
			}},
		} {
			t.Run(tt.name+"/"+side.name, func(t *testing.T) {
				_, ctx, _ := setup(t, userClient)
				client, err := cryptofuse.NewClient(userClient.id, userClient.secret, cryptofuse.WithBaseURL(side.base))
				if err != nil {
					t.Fatal(err)
				}
				access, refresh := side.issue(ctx, t)
				if !introspectActive(ctx, t, side.base, access) {
					t.Fatal("a fresh access token is not active")
				}
				tok := map[string]string{"access": access, "refresh": refresh}[tt.revoke]
				if err := client.Revoke(ctx, tok, tt.hint); err != nil {
					t.Fatalf("Revoke: %v", err)
				}
				if introspectActive(ctx, t, side.base, access) {
					t.Error("the access token is still active")
				}
				if got := refreshGrant(ctx, t, side.base, refresh); got != tt.wantGrant {
					t.Errorf("refresh grant afterwards: got status %d, want %d", got, tt.wantGrant)
				}
			})
		}
	}
}

// TestHashedSecretClient issues and revokes a token for the client whose
// secret DOT 3.4.1 stores hashed (PBKDF2); 1.7.0 stores it plain.
func TestHashedSecretClient(t *testing.T) {
	base, ctx, client := setup(t, hashedClient)
	tok := issue(ctx, t, client)
	if got := accepted(ctx, t, base, tok.AccessToken); got.ClientID != hashedClient.id {
		t.Errorf("resource client_id: got %q, want %q", got.ClientID, hashedClient.id)
	}
	if err := client.Revoke(ctx, tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	rejected(ctx, t, base, tok.AccessToken)
}

// introspectActive asks base's /o/introspect/, as mainClient, whether token
// is active.
func introspectActive(ctx context.Context, t *testing.T, base, token string) bool {
	t.Helper()
	status, body := postForm(ctx, t, base+"/o/introspect/", mainClient, url.Values{"token": {token}})
	var v struct {
		Active *bool `json:"active"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &v) != nil || v.Active == nil {
		t.Fatalf("introspection: got status %d, body %q, want 200 and an active field", status, body)
	}
	return *v.Active
}

// refreshGrant sends a refresh_token grant for userClient and returns its status.
func refreshGrant(ctx context.Context, t *testing.T, base, refresh string) int {
	t.Helper()
	status, _ := postForm(ctx, t, base+"/o/token/", userClient, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	return status
}

// postForm posts form to u with c's credentials, form-encoded (RFC 6749
// §2.3.1), and returns the answer's status and body.
func postForm(ctx context.Context, t *testing.T, u string, c testClient, form url.Values) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(fmt.Errorf("POST %s: reading the body: %w", u, err))
	}
	return resp.StatusCode, body
}
