package cryptofuse_test

import (
	"context"
	"net/http"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// dotAPI is a TokenSource whose Transport calls a fake that answers as
// django-oauth-toolkit's own views do (403, empty body), with its policy.
func dotAPI(t *testing.T, p cryptofuse.TokenPolicy, opts ...cryptofusetest.Option) (*cryptofusetest.Server, *cryptofuse.Client, *cryptofuse.TokenSource, *http.Client) {
	t.Helper()
	srv := cryptofusetest.NewServer("svc", "svc-secret", append([]cryptofusetest.Option{cryptofusetest.WithoutListener(), cryptofusetest.WithDOTResource()}, opts...)...)
	t.Cleanup(srv.Close)
	c, err := cryptofuse.NewClient("svc", "svc-secret", cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()),
		cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.TokenSource(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.Close(context.Background()) })
	return srv, c, ts, &http.Client{Transport: ts.Transport(srv.Transport())}
}

// get fetches the fake's protected resource and returns the status.
func get(t *testing.T, srv *cryptofusetest.Server, api *http.Client) int {
	t.Helper()
	resp, err := api.Get(srv.URL + cryptofusetest.ResourcePath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Introspect403: a revoked token behind DOT's 403 recovers on the same call
// with one introspection and one new token; a 403 for a live token that
// lacks a scope is returned and mints nothing, and its token is checked
// once however many 403s it meets.
func TestTransport_Introspect403(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		policy     cryptofuse.TokenPolicy
		opts       []cryptofusetest.Option
		revoke     bool // revoke the token before the calls
		calls      int
		wantStatus int
		// counts at the fake after the calls (the first token included)
		wantTokens, wantIntrospect int
	}{
		{"revoked token, option on", cryptofuse.TokenPolicy{Introspect403: true}, nil, true, 1, http.StatusOK, 2, 1},
		{"revoked token, option on, then steady", cryptofuse.TokenPolicy{Introspect403: true}, nil, true, 5, http.StatusOK, 2, 1},
		{"revoked token, option off", cryptofuse.TokenPolicy{}, nil, true, 3, http.StatusForbidden, 1, 0},
		{"permission denied, option on", cryptofuse.TokenPolicy{Introspect403: true}, []cryptofusetest.Option{cryptofusetest.WithResourceScopes("admin")}, false, 4, http.StatusForbidden, 1, 1},
		{"permission denied, option off", cryptofuse.TokenPolicy{}, []cryptofusetest.Option{cryptofusetest.WithResourceScopes("admin")}, false, 2, http.StatusForbidden, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c, ts, api := dotAPI(t, tc.policy, tc.opts...)
			tok, err := ts.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tc.revoke {
				if err := c.Revoke(context.Background(), tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
					t.Fatal(err)
				}
			}
			var status int
			for range tc.calls {
				status = get(t, srv, api)
			}
			if status != tc.wantStatus {
				t.Errorf("last status: got %d, want %d", status, tc.wantStatus)
			}
			got := srv.Counts()
			if got.Token != tc.wantTokens || got.Introspect != tc.wantIntrospect {
				t.Errorf("tokens issued, introspections: got %d, %d; want %d, %d", got.Token, got.Introspect, tc.wantTokens, tc.wantIntrospect)
			}
		})
	}
}

// A 403 that cannot be checked (the introspection fails) is returned as
// it is: nothing is minted, and the token is not checked again.
func TestTransport_Introspect403CheckFails(t *testing.T) {
	t.Parallel()
	srv, c, ts, api := dotAPI(t, cryptofuse.TokenPolicy{Introspect403: true})
	tok, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(context.Background(), tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: http.StatusServiceUnavailable})
	for i, want := range []int{http.StatusForbidden, http.StatusForbidden} {
		if got := get(t, srv, api); got != want {
			t.Errorf("call %d: got %d, want %d", i, got, want)
		}
	}
	if got := srv.Counts(); got.Token != 1 || got.Introspect != 1 {
		t.Errorf("tokens issued, introspections: got %d, %d; want 1, 1", got.Token, got.Introspect)
	}
}
