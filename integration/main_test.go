package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
)

// urlEnv names the environment variable that holds the test server's base URL.
const urlEnv = "CRYPTOFUSE_INTEGRATION_URL"

// The clients that "manage.py seed" creates (dotserver/management/commands/seed.py).
type testClient struct{ id, secret string }

var (
	mainClient  = testClient{"cryptofuse-it", "cryptofuse-it-secret"}
	otherClient = testClient{"cryptofuse-it-other", "cryptofuse-it-other-secret"}
	// specialClient has each of : + % & / = and a non-ASCII letter in both
	// its id and its secret.
	specialClient = testClient{"spécial:+%&/=id", "sécret:+%&/=value"}
	// hashedClient's secret is stored hashed on DOT 3.4.1, which hashes with
	// PBKDF2 (the other clients set hash_client_secret=False, for speed);
	// 1.7.0 stores every secret plain.
	hashedClient = testClient{"cryptofuse-it-hashed", "cryptofuse-it-hashed-secret"}
	// userClient is a password-grant application: its tokens for seededUser
	// come with refresh tokens.
	userClient = testClient{"cryptofuse-it-user", "cryptofuse-it-user-secret"}
	seededUser = struct{ name, password string }{"cryptofuse-it-alice", "cryptofuse-it-alice-password"}
	// shortClient's tokens live shortLifetime instead of 36000 s
	// (SHORT_TOKEN_SECONDS in dotserver/settings.py), for the TokenSource
	// tests.
	shortClient = testClient{"cryptofuse-it-short", "cryptofuse-it-short-secret"}
)

// shortLifetime is the lifetime of shortClient's tokens on both DOT versions.
const shortLifetime = 5 * time.Second

// serverVersion is the django-oauth-toolkit version of the server under test,
// such as "1.7.0" or "3.4.1", as TestMain's probe found it.
var serverVersion string

// dotVersion returns the server's django-oauth-toolkit version, or skips the
// test when there is no server.
func dotVersion(t *testing.T) string {
	t.Helper()
	serverURL(t)
	return serverVersion
}

// isDOT170 reports whether the server under test runs DOT 1.x, which
// predates the ownership check on revocation and the cascade from an access
// token to its refresh token.
func isDOT170(t *testing.T) bool {
	t.Helper()
	return strings.HasPrefix(dotVersion(t), "1.")
}

// callTimeout bounds each test's calls: generous, as the machine may be busy.
const callTimeout = 60 * time.Second

// TestMain fails the whole run, instead of letting every test fail on its own,
// when the variable is set but the server does not answer: a CI job that set
// it must never pass without the server.
func TestMain(m *testing.M) {
	if base := os.Getenv(urlEnv); base != "" {
		if err := probe(base); err != nil {
			fmt.Fprintf(os.Stderr, "%s=%s, but the server is not usable: %v\n", urlEnv, base, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// probe checks that base serves DOT's protected resource (403 without a
// token), and sets serverVersion from the test project's /api/version/.
func probe(base string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, _, err := get(ctx, base+"/api/me/", "")
	if err != nil {
		return err
	}
	if status != http.StatusForbidden {
		return fmt.Errorf("GET /api/me/ without a token: got status %d, want 403", status)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/api/version/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var v struct {
		DOT string `json:"dot"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v); err != nil || v.DOT == "" {
		return fmt.Errorf("GET /api/version/: got status %d, want the DOT version as JSON (%v)", resp.StatusCode, err)
	}
	serverVersion = v.DOT
	return nil
}

// serverURL returns the test server's base URL, or skips the test.
func serverURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv(urlEnv)
	if base == "" {
		t.Skipf("%s is not set: these tests need a django-oauth-toolkit server; run integration/ci.sh, or see integration/doc.go", urlEnv)
	}
	return strings.TrimRight(base, "/")
}

// setup returns the server's base URL, a context bounded by callTimeout and a
// Client for c on that server, built with the public API only.
func setup(t *testing.T, c testClient, opts ...cryptofuse.Option) (string, context.Context, *cryptofuse.Client) {
	t.Helper()
	base := serverURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	client, err := cryptofuse.NewClient(c.id, c.secret, append([]cryptofuse.Option{cryptofuse.WithBaseURL(base)}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient(%q): %v", c.id, err)
	}
	return base, ctx, client
}

// issue gets a new access token from client, or fails the test.
func issue(ctx context.Context, t *testing.T, client *cryptofuse.Client) *cryptofuse.Token {
	t.Helper()
	tok, err := client.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.AccessToken == "" {
		t.Fatal("Token: got an empty access token")
	}
	return tok
}

// resource is what the protected views answer for a live token.
type resource struct {
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// get sends GET url with token as a Bearer token ("" sends none) and returns
// the status and, for a 200, the decoded body.
func get(ctx context.Context, url, token string) (int, resource, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, resource{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, resource{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, resource{}, err
	}
	var r resource
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &r); err != nil {
			return 0, resource{}, fmt.Errorf("GET %s: decoding %q: %w", url, body, err)
		}
	}
	return resp.StatusCode, r, nil
}

// wantStatus fails the test unless GET base+path with token answers want.
// It returns the decoded body of a 200.
func wantStatus(ctx context.Context, t *testing.T, base, path, token string, want int) resource {
	t.Helper()
	got, r, err := get(ctx, base+path, token)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if got != want {
		t.Fatalf("GET %s: got status %d, want %d", path, got, want)
	}
	return r
}

// accepted and rejected assert what the protected resource /api/me/ answers:
// 200 for a live token, DOT's 403 for a revoked one.
func accepted(ctx context.Context, t *testing.T, base, token string) resource {
	t.Helper()
	return wantStatus(ctx, t, base, "/api/me/", token, http.StatusOK)
}

func rejected(ctx context.Context, t *testing.T, base, token string) {
	t.Helper()
	wantStatus(ctx, t, base, "/api/me/", token, http.StatusForbidden)
}
