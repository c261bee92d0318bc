package integration_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
)

// TestIntrospect asks the real server about tokens with Client.Introspect:
// DOT answers an active token with active, scope, exp and client_id only
// (so Username and IssuedAt stay zero), lets any client introspect another
// client's token, and answers a revoked or unknown token with active false.
func TestIntrospect(t *testing.T) {
	base, ctx, client := setup(t, mainClient)
	_, _, other := setup(t, otherClient)
	own := issue(ctx, t, client)
	foreign := issue(ctx, t, other)
	revoked := issue(ctx, t, client)
	if err := client.Revoke(ctx, revoked.AccessToken, cryptofuse.AccessTokenHint); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	rejected(ctx, t, base, revoked.AccessToken)

	cases := []struct {
		name     string
		tok      *cryptofuse.Token // nil: an unknown token
		active   bool
		clientID string
	}{
		{"own token", own, true, mainClient.id},
		{"another client's token", foreign, true, otherClient.id},
		{"revoked token", revoked, false, ""},
		{"unknown token", nil, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := "no-such-token-0123456789abcdef"
			if tc.tok != nil {
				token = tc.tok.AccessToken
			}
			in, err := client.Introspect(ctx, token)
			if err != nil {
				t.Fatalf("Introspect: %v", err)
			}
			if in.Active != tc.active || in.ClientID != tc.clientID {
				t.Errorf("got Active %v, ClientID %q, want %v, %q", in.Active, in.ClientID, tc.active, tc.clientID)
			}
			if in.Username != "" || in.TokenType != "" || !in.IssuedAt.IsZero() {
				t.Errorf("got Username %q, TokenType %q, IssuedAt %v, want them empty (DOT sends none)", in.Username, in.TokenType, in.IssuedAt)
			}
			if !tc.active {
				if *in != (cryptofuse.Introspection{}) {
					t.Errorf("got %+v, want Active false alone", *in)
				}
				return
			}
			if in.Scope != tc.tok.Scope {
				t.Errorf("Scope: got %q, want %q", in.Scope, tc.tok.Scope)
			}
			// exp is whole seconds; Expiry is the time of receipt plus
			// expires_in, so the two differ by the request's time.
			if d := in.Expiry.Sub(tc.tok.Expiry); d < -time.Minute || d > time.Minute {
				t.Errorf("Expiry: got %v, want about %v", in.Expiry, tc.tok.Expiry)
			}
		})
	}
}

// TestIntrospectWrongSecret: DOT answers introspection with wrong client
// credentials with 403 and an empty body, not 401 invalid_client.
func TestIntrospectWrongSecret(t *testing.T) {
	_, ctx, client := setup(t, mainClient)
	tok := issue(ctx, t, client)
	_, _, wrong := setup(t, testClient{mainClient.id, mainClient.secret + "-wrong"})
	in, err := wrong.Introspect(ctx, tok.AccessToken)
	var e *cryptofuse.Error
	if in != nil || !errors.As(err, &e) || e.Op != "introspect" || e.StatusCode != http.StatusForbidden || e.Code != "" {
		t.Fatalf("got %v, %v, want an introspect *Error with status 403 and no code", in, err)
	}
}

// TestRevokeAndVerify: the own token is inactive after a nil
// RevokeAndVerify on both versions; another client's token is kept by
// 3.4.1 (RFC 7009 §2.1's ownership check), which RevokeAndVerify reports
// as ErrStillActive where Revoke alone said nil, and revoked by 1.7.0.
func TestRevokeAndVerify(t *testing.T) {
	base, ctx, client := setup(t, mainClient)
	_, _, other := setup(t, otherClient)
	old := isDOT170(t)
	t.Logf("django-oauth-toolkit %s", serverVersion)

	t.Run("own token", func(t *testing.T) {
		tok := issue(ctx, t, client)
		if err := client.RevokeAndVerify(ctx, tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
			t.Fatalf("RevokeAndVerify: got %v, want nil", err)
		}
		rejected(ctx, t, base, tok.AccessToken)
	})
	t.Run("another client's token", func(t *testing.T) {
		tok := issue(ctx, t, other)
		err := client.RevokeAndVerify(ctx, tok.AccessToken, cryptofuse.AccessTokenHint)
		if old {
			if err != nil {
				t.Fatalf("RevokeAndVerify on %s: got %v, want nil (1.7.0 revokes any client's token)", serverVersion, err)
			}
			rejected(ctx, t, base, tok.AccessToken)
			return
		}
		if !errors.Is(err, cryptofuse.ErrStillActive) {
			t.Fatalf("RevokeAndVerify on %s: got %v, want ErrStillActive", serverVersion, err)
		}
		accepted(ctx, t, base, tok.AccessToken)
		// Revoke alone reports the same revocation as a success.
		if err := client.Revoke(ctx, tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
			t.Errorf("Revoke: got %v, want nil", err)
		}
		accepted(ctx, t, base, tok.AccessToken)
	})
}

// TestIntrospectBadInput: Introspect and RevokeAndVerify refuse what
// Revoke refuses, and send nothing.
func TestIntrospectBadInput(t *testing.T) {
	n := &counter{base: http.DefaultTransport}
	_, ctx, client := setup(t, mainClient, cryptofuse.WithHTTPClient(&http.Client{Transport: n}))
	cases := []struct {
		name, token string
		want        error
	}{
		{"empty", "", cryptofuse.ErrEmptyToken},
		{"Bearer prefix", "Bearer abc", cryptofuse.ErrMalformedToken},
		{"trailing newline", "abc\n", cryptofuse.ErrMalformedToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := client.Introspect(ctx, tc.token); !errors.Is(err, tc.want) {
				t.Errorf("Introspect: got %v, want %v", err, tc.want)
			}
			if err := client.RevokeAndVerify(ctx, tc.token, cryptofuse.AccessTokenHint); !errors.Is(err, tc.want) {
				t.Errorf("RevokeAndVerify: got %v, want %v", err, tc.want)
			}
		})
	}
	if tokens, revokes, others := n.tokens.Load(), n.revokes.Load(), n.apis.Load(); tokens+revokes+others != 0 {
		t.Errorf("requests: got %d token, %d revoke, %d other, want none", tokens, revokes, others)
	}
}

// TestIntrospectRetried503: a proxy in front of the server answers the
// first introspection 503 with Retry-After; Introspect retries, and the
// server's answer comes through.
func TestIntrospectRetried503(t *testing.T) {
	base, ctx, client := setup(t, mainClient)
	tok := issue(ctx, t, client)
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var introspections atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/o/introspect/" && introspections.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	_, _, viaProxy := setup(t, mainClient, cryptofuse.WithBaseURL(front.URL+target.Path))

	in, err := viaProxy.Introspect(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	if !in.Active || in.ClientID != mainClient.id {
		t.Errorf("got Active %v, ClientID %q, want true, %q", in.Active, in.ClientID, mainClient.id)
	}
	if got := introspections.Load(); got != 2 {
		t.Errorf("introspection requests: got %d, want 2", got)
	}
}
