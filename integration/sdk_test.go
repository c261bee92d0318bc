package integration_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cryptofuse/cryptofuse-go"
)

func TestTokenThenRevoke(t *testing.T) {
	base, ctx, client := setup(t, mainClient)
	tok := issue(ctx, t, client)
	if got := accepted(ctx, t, base, tok.AccessToken); got.ClientID != mainClient.id {
		t.Errorf("resource client_id: got %q, want %q", got.ClientID, mainClient.id)
	}
	if tok.TokenType != "Bearer" {
		t.Errorf("TokenType: got %q, want %q", tok.TokenType, "Bearer")
	}
	if tok.ExpiresIn != 36000 || tok.Expiry.IsZero() {
		t.Errorf("ExpiresIn, Expiry: got %d, %v, want 36000 and a time", tok.ExpiresIn, tok.Expiry)
	}
	if err := client.Revoke(ctx, tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	rejected(ctx, t, base, tok.AccessToken)
}

func TestRevokeTwiceAndUnknown(t *testing.T) {
	base, ctx, client := setup(t, mainClient)
	tok := issue(ctx, t, client)
	for i := range 2 {
		if err := client.Revoke(ctx, tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
			t.Fatalf("Revoke #%d: got %v, want nil", i+1, err)
		}
	}
	rejected(ctx, t, base, tok.AccessToken)
	if err := client.Revoke(ctx, "no-such-token-0123456789abcdef", cryptofuse.AccessTokenHint); err != nil {
		t.Fatalf("Revoke of an unknown token: got %v, want nil", err)
	}
}

func TestRotateToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []cryptofuse.Option
	}{
		{"revoke then issue", nil},
		{"issue first", []cryptofuse.Option{cryptofuse.WithIssueFirst()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, ctx, client := setup(t, mainClient, tc.opts...)
			old := issue(ctx, t, client)
			accepted(ctx, t, base, old.AccessToken)
			tok, err := client.RotateToken(ctx, old.AccessToken)
			if err != nil {
				t.Fatalf("RotateToken: %v", err)
			}
			if tok.AccessToken == old.AccessToken {
				t.Fatal("RotateToken returned the old token")
			}
			rejected(ctx, t, base, old.AccessToken)
			accepted(ctx, t, base, tok.AccessToken)
		})
	}
}

func TestSpecialCharacterClient(t *testing.T) {
	base, ctx, client := setup(t, specialClient)
	tok := issue(ctx, t, client)
	if got := accepted(ctx, t, base, tok.AccessToken); got.ClientID != specialClient.id {
		t.Errorf("resource client_id: got %q, want %q", got.ClientID, specialClient.id)
	}
	if err := client.Revoke(ctx, tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	rejected(ctx, t, base, tok.AccessToken)
}

func TestWrongSecret(t *testing.T) {
	base, ctx, client := setup(t, mainClient)
	tok := issue(ctx, t, client)
	_, _, wrong := setup(t, testClient{mainClient.id, mainClient.secret + "-wrong"})

	wantInvalidClient := func(t *testing.T, op string, err error) {
		t.Helper()
		if !errors.Is(err, cryptofuse.ErrInvalidClient) {
			t.Fatalf("%s: got %v, want ErrInvalidClient", op, err)
		}
		var e *cryptofuse.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: got %T, want *cryptofuse.Error", op, err)
		}
		if e.StatusCode != http.StatusUnauthorized || e.Op != op {
			t.Errorf("%s: got Op %q, StatusCode %d, want %q, 401", op, e.Op, e.StatusCode, op)
		}
	}
	t.Run("revoke", func(t *testing.T) {
		wantInvalidClient(t, "revoke", wrong.Revoke(ctx, tok.AccessToken, cryptofuse.AccessTokenHint))
		accepted(ctx, t, base, tok.AccessToken)
	})
	t.Run("token", func(t *testing.T) {
		got, err := wrong.Token(ctx)
		if got != nil {
			t.Errorf("Token: got a token, want nil")
		}
		wantInvalidClient(t, "token", err)
	})
	t.Run("rotate", func(t *testing.T) {
		got, err := wrong.RotateToken(ctx, tok.AccessToken)
		if got != nil {
			t.Errorf("RotateToken: got a token, want nil")
		}
		wantInvalidClient(t, "revoke", err)
		var re *cryptofuse.RotateError
		if !errors.As(err, &re) || re.Revoked {
			t.Errorf("RotateToken: got %v, want a *RotateError with Revoked false", err)
		}
		accepted(ctx, t, base, tok.AccessToken)
	})
}

func TestScopes(t *testing.T) {
	tests := []struct {
		scopes    []string
		wantScope string
		wantWrite int // GET /api/write/, which needs the write scope
	}{
		{[]string{"read"}, "read", http.StatusForbidden},
		{[]string{"read", "write"}, "read write", http.StatusOK},
		{nil, "read write", http.StatusOK}, // the SDK's default
	}
	for _, tt := range tests {
		t.Run(tt.wantScope, func(t *testing.T) {
			var opts []cryptofuse.Option
			if tt.scopes != nil {
				opts = append(opts, cryptofuse.WithScopes(tt.scopes...))
			}
			base, ctx, client := setup(t, mainClient, opts...)
			tok := issue(ctx, t, client)
			if tok.Scope != tt.wantScope {
				t.Errorf("Scope: got %q, want %q", tok.Scope, tt.wantScope)
			}
			if got := accepted(ctx, t, base, tok.AccessToken); got.Scope != tt.wantScope {
				t.Errorf("scope the server stored: got %q, want %q", got.Scope, tt.wantScope)
			}
			wantStatus(ctx, t, base, "/api/write/", tok.AccessToken, tt.wantWrite)
		})
	}

	t.Run("unknown", func(t *testing.T) {
		_, ctx, client := setup(t, mainClient, cryptofuse.WithScopes("read", "admin"))
		tok, err := client.Token(ctx)
		if !errors.Is(err, cryptofuse.ErrInvalidScope) || tok != nil {
			t.Fatalf("Token: got %v, %v, want nil, ErrInvalidScope", tok != nil, err)
		}
		var e *cryptofuse.Error
		if errors.As(err, &e) && e.StatusCode != http.StatusBadRequest {
			t.Errorf("StatusCode: got %d, want 400", e.StatusCode)
		}
	})
}

func TestEveryHintRevokesAnAccessToken(t *testing.T) {
	for _, hint := range []cryptofuse.TokenTypeHint{cryptofuse.AccessTokenHint, cryptofuse.RefreshTokenHint, "", "unknown_hint"} {
		t.Run(string(hint), func(t *testing.T) {
			base, ctx, client := setup(t, mainClient)
			tok := issue(ctx, t, client)
			accepted(ctx, t, base, tok.AccessToken)
			if err := client.Revoke(ctx, tok.AccessToken, hint); err != nil {
				t.Fatalf("Revoke with hint %q: %v", hint, err)
			}
			rejected(ctx, t, base, tok.AccessToken)
		})
	}
}

// TestConcurrentRevoke revokes 50 tokens from 8 goroutines sharing one Client.
func TestConcurrentRevoke(t *testing.T) {
	const tokens, workers = 50, 8
	base, ctx, client := setup(t, mainClient)
	values := make([]string, tokens)
	for i := range values {
		values[i] = issue(ctx, t, client).AccessToken
		accepted(ctx, t, base, values[i])
	}

	jobs := make(chan string)
	errs := make(chan error, tokens)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range jobs {
				errs <- client.Revoke(ctx, v, cryptofuse.AccessTokenHint)
			}
		}()
	}
	for _, v := range values {
		jobs <- v
	}
	close(jobs)
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			t.Errorf("Revoke: %v", err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d revocations failed", failed, tokens)
	}
	for _, v := range values {
		rejected(ctx, t, base, v)
	}
}

// TestConnectionReuse shows that the SDK reads each of the real server's
// answers, errors included, to the end: every call reuses one connection.
func TestConnectionReuse(t *testing.T) {
	var dials atomic.Int64
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(transport.CloseIdleConnections)
	hc := cryptofuse.WithHTTPClient(&http.Client{Transport: transport})
	_, ctx, client := setup(t, mainClient, hc)
	_, _, wrong := setup(t, testClient{mainClient.id, "wrong"}, hc)
	_, _, unknownScope := setup(t, mainClient, hc, cryptofuse.WithScopes("admin"))

	calls := 0
	for range 3 {
		tok := issue(ctx, t, client)
		if err := client.Revoke(ctx, tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if _, err := wrong.Token(ctx); !errors.Is(err, cryptofuse.ErrInvalidClient) {
			t.Fatalf("Token with a wrong secret: got %v, want ErrInvalidClient", err)
		}
		if _, err := unknownScope.Token(ctx); !errors.Is(err, cryptofuse.ErrInvalidScope) {
			t.Fatalf("Token with an unknown scope: got %v, want ErrInvalidScope", err)
		}
		calls += 4
	}
	if got := dials.Load(); got != 1 {
		t.Errorf("%d calls in a row dialled %d connections, want 1", calls, got)
	}
}
