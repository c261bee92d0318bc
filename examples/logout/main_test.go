package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This is how a service tests its own logout handler: against
// cryptofusetest, asking the fake whether the token is still active.

func newClient(t *testing.T, baseURL, secret string) *cryptofuse.Client {
	t.Helper()
	c, err := cryptofuse.NewClient("svc", secret, cryptofuse.WithBaseURL(baseURL))
	require.NoError(t, err)
	return c
}

func TestLogoutHandler(t *testing.T) {
	fake := cryptofusetest.NewServer("svc", "svc-secret")
	t.Cleanup(fake.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens here any more
	// noIntrospection passes everything to the fake but /o/introspect/,
	// which it answers 404, as a server without the endpoint does.
	fakeURL, err := url.Parse(fake.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(fakeURL)
	noIntrospection := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == cryptofusetest.IntrospectPath {
			http.NotFound(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(noIntrospection.Close)

	fake.AddClient("other-app", "other-secret")
	cases := []struct {
		name       string
		tokenOf    string // the client the token is issued to; "" for svc
		client     *cryptofuse.Client
		method     string
		authHeader func(token string) string
		wantStatus int
		wantActive bool // the token afterwards
	}{
		{"logout", "", newClient(t, fake.URL, "svc-secret"), http.MethodPost, func(tok string) string { return "Bearer " + tok }, http.StatusNoContent, false},
		{"scheme in lower case", "", newClient(t, fake.URL, "svc-secret"), http.MethodPost, func(tok string) string { return "bearer " + tok }, http.StatusNoContent, false},
		{"GET", "", newClient(t, fake.URL, "svc-secret"), http.MethodGet, func(tok string) string { return "Bearer " + tok }, http.StatusMethodNotAllowed, true},
		{"no token", "", newClient(t, fake.URL, "svc-secret"), http.MethodPost, func(string) string { return "" }, http.StatusUnauthorized, true},
		{"Basic instead of Bearer", "", newClient(t, fake.URL, "svc-secret"), http.MethodPost, func(tok string) string { return "Basic " + tok }, http.StatusUnauthorized, true},
		{"service misconfigured", "", newClient(t, fake.URL, "wrong-secret"), http.MethodPost, func(tok string) string { return "Bearer " + tok }, http.StatusInternalServerError, true},
		{"another client's token, kept", "other-app", newClient(t, fake.URL, "svc-secret"), http.MethodPost, func(tok string) string { return "Bearer " + tok }, http.StatusForbidden, true},
		{"no introspection endpoint", "", newClient(t, noIntrospection.URL, "svc-secret"), http.MethodPost, func(tok string) string { return "Bearer " + tok }, http.StatusInternalServerError, false},
		{"token server down", "", newClient(t, down.URL, "svc-secret"), http.MethodPost, func(tok string) string { return "Bearer " + tok }, http.StatusServiceUnavailable, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			owner := "svc"
			if tc.tokenOf != "" {
				owner = tc.tokenOf
			}
			token := fake.IssueToken(owner, "")
			var logs bytes.Buffer
			h := logoutHandler(tc.client, slog.New(slog.NewTextHandler(&logs, nil)))

			req := httptest.NewRequest(tc.method, "/logout", nil)
			if a := tc.authHeader(token); a != "" {
				req.Header.Set("Authorization", a)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			assert.Equal(t, tc.wantStatus, rec.Code, "status")
			assert.Equal(t, tc.wantActive, fake.Active(token), "token active afterwards")
			assert.NotContains(t, logs.String(), token, "the token reached a log line")
			assert.NotContains(t, rec.Body.String(), token, "the token reached the answer")
			if tc.wantStatus == http.StatusServiceUnavailable {
				assert.NotEmpty(t, rec.Header().Get("Retry-After"))
			}
		})
	}
}

func TestLogoutSurvivesClientDisconnect(t *testing.T) {
	fake := cryptofusetest.NewServer("svc", "svc-secret")
	t.Cleanup(fake.Close)
	token := fake.IssueToken("svc", "")
	h := logoutHandler(newClient(t, fake.URL, "svc-secret"), slog.New(slog.DiscardHandler))

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the user closed the tab before the handler ran
	req := httptest.NewRequest(http.MethodPost, "/logout", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.False(t, fake.Active(token), "token still active after a logout whose caller went away")
}

func TestDemo(t *testing.T) {
	t.Setenv("CRYPTOFUSE_CLIENT_ID", "")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), "", &out))
	assert.Contains(t, out.String(), "POST /logout   204 No Content")
	assert.Contains(t, out.String(), "POST /logout   403 Forbidden")
	assert.Equal(t, 3, strings.Count(out.String(), "active: true"), "output:\n%s", out.String())
	assert.Equal(t, 1, strings.Count(out.String(), "active: false"), "output:\n%s", out.String())
}
