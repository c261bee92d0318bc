package integration_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
)

// The TokenSource against the real django-oauth-toolkit: a refresh on tokens
// that live a few seconds (shortClient), a rotation whose replaced token the
// protected resource rejects only after RevokeAfter, the Transport, and
// Close with RevokeOnClose. Every "eventually" is a poll with a generous
// deadline; every "not yet" is checked right after the action, or against a
// bound that a correct TokenSource meets however slow the machine is.

// counter is an http.RoundTripper that counts the requests it sends by
// path, so that a test can tell how many tokens the server issued, how many
// revocations it got and how many API requests went out.
type counter struct {
	base                  http.RoundTripper
	tokens, revokes, apis atomic.Int64
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.URL.Path {
	case "/o/token/":
		c.tokens.Add(1)
	case "/o/revoke_token/":
		c.revokes.Add(1)
	default:
		c.apis.Add(1)
	}
	return c.base.RoundTrip(req)
}

// tokenSource returns a TokenSource of c under p, whose Client sends its
// requests through a counter, and the counter. Close runs at cleanup.
func tokenSource(t *testing.T, c testClient, p cryptofuse.TokenPolicy) (string, context.Context, *cryptofuse.TokenSource, *counter) {
	t.Helper()
	n := &counter{base: http.DefaultTransport}
	base, ctx, client := setup(t, c, cryptofuse.WithHTTPClient(&http.Client{Transport: n}))
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

// current returns ts.Token, or fails the test.
func current(ctx context.Context, t *testing.T, ts *cryptofuse.TokenSource) *cryptofuse.Token {
	t.Helper()
	tok, err := ts.Token(ctx)
	if err != nil {
		t.Fatalf("TokenSource.Token: %v", err)
	}
	if tok.AccessToken == "" {
		t.Fatal("TokenSource.Token: got an empty access token")
	}
	return tok
}

// TestTokenSourceRefresh: on tokens that live shortLifetime, a TokenSource
// with the default RefreshBefore (5 min, so capped at half the lifetime)
// hands out a token that the API accepts at every moment across more than
// two lifetimes. It gets each new token before the one it replaces has
// expired, one token request per token, and the server really enforces the
// short lifetime: the first token is rejected once it has expired.
func TestTokenSourceRefresh(t *testing.T) {
	base, ctx, ts, n := tokenSource(t, shortClient, cryptofuse.TokenPolicy{})
	first := current(ctx, t, ts)
	if first.ExpiresIn != int64(shortLifetime/time.Second) {
		t.Fatalf("ExpiresIn of %s's token: got %d, want %d (SHORT_TOKEN_SECONDS in dotserver/settings.py)",
			shortClient.id, first.ExpiresIn, int64(shortLifetime/time.Second))
	}

	// Poll for a little over two lifetimes. A token that stays valid that
	// long needs at least three tokens: the first expires after one
	// lifetime, and so does the second, issued before the first expired.
	start := time.Now()
	seen := []*cryptofuse.Token{first}
	for polls := 0; time.Since(start) < 2*shortLifetime+time.Second; polls++ {
		tok := current(ctx, t, ts)
		if prev := seen[len(seen)-1]; tok.AccessToken != prev.AccessToken {
			// The refresh window opens at least a quarter of the lifetime
			// before expiry (half, jittered down by up to a quarter of that),
			// and polls come every 200 ms: a refresh that waited for expiry
			// is seen after it.
			if now := time.Now(); !now.Before(prev.Expiry) {
				t.Errorf("token #%d first seen %v after token #%d expired: the refresh did not come before expiry",
					len(seen)+1, now.Sub(prev.Expiry), len(seen))
			}
			seen = append(seen, tok)
		}
		if got := accepted(ctx, t, base, tok.AccessToken); got.ClientID != shortClient.id {
			t.Fatalf("poll %d: resource client_id: got %q, want %q", polls, got.ClientID, shortClient.id)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(seen) < 3 {
		t.Errorf("distinct tokens over %v of %v tokens: got %d, want at least 3", time.Since(start).Round(time.Millisecond), shortLifetime, len(seen))
	}
	// One token request per token: none wasted, none duplicated. A refresh
	// started by the last poll may have gone out without being seen yet.
	if got := n.tokens.Load(); got < int64(len(seen)) || got > int64(len(seen))+1 {
		t.Errorf("token requests: got %d, want %d (one per token seen), or one more in flight", got, len(seen))
	}
	if n.revokes.Load() != 0 {
		t.Errorf("revocations: got %d, want 0 (RevokeAfter 0 leaves replaced tokens to expire)", n.revokes.Load())
	}
	// The first token expired more than a lifetime ago: DOT rejects it.
	rejected(ctx, t, base, first.AccessToken)
	t.Logf("%d tokens of %v in %v", len(seen), shortLifetime, time.Since(start).Round(time.Millisecond))
}

// TestTokenSourceRotateRevokeAfter: after Rotate with RevokeAfter, the
// replaced token is still accepted right after the rotation (and while less
// than half of RevokeAfter has passed), and the protected resource rejects
// it within RevokeAfter plus a margin, while the new token stays accepted.
//
// It uses the 36000 s tokens of mainClient on purpose: the replaced token
// cannot expire during the test, so its rejection can only be the
// TokenSource's revocation after the grace period.
func TestTokenSourceRotateRevokeAfter(t *testing.T) {
	const revokeAfter = 2 * time.Second
	base, ctx, ts, n := tokenSource(t, mainClient, cryptofuse.TokenPolicy{RevokeAfter: revokeAfter})
	old := current(ctx, t, ts)
	accepted(ctx, t, base, old.AccessToken)

	tok, err := ts.Rotate(ctx)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	rotated := time.Now() // the RevokeAfter timer started before Rotate returned
	if tok.AccessToken == old.AccessToken {
		t.Fatal("Rotate returned the token it was to replace")
	}
	if cur := current(ctx, t, ts); cur.AccessToken != tok.AccessToken {
		t.Fatal("Token after Rotate: got another token than the one Rotate returned")
	}
	// Right after the rotation, requests still in flight with the old token
	// succeed: it is not revoked at once, as Client.RotateToken revokes it.
	accepted(ctx, t, base, old.AccessToken)
	accepted(ctx, t, base, tok.AccessToken)
	if got := n.revokes.Load(); got != 0 {
		t.Fatalf("revocations right after Rotate: got %d, want 0", got)
	}

	// Eventually rejected: poll with a deadline well past RevokeAfter. A
	// rejection whose answer came back less than revokeAfter/2 after Rotate
	// returned means the revocation came early, however slow the machine.
	deadline := rotated.Add(revokeAfter + 5*time.Second)
	for {
		status, _, err := get(ctx, base+"/api/me/", old.AccessToken)
		if err != nil {
			t.Fatalf("GET /api/me/ with the replaced token: %v", err)
		}
		elapsed := time.Since(rotated)
		if status == http.StatusForbidden {
			if elapsed < revokeAfter/2 {
				t.Fatalf("the replaced token was rejected %v after Rotate; RevokeAfter is %v", elapsed, revokeAfter)
			}
			t.Logf("the replaced token was rejected by %v after Rotate (RevokeAfter %v)", elapsed.Round(time.Millisecond), revokeAfter)
			break
		}
		if status != http.StatusOK {
			t.Fatalf("GET /api/me/ with the replaced token: got status %d, want 200 or 403", status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replaced token is still accepted %v after Rotate; RevokeAfter is %v", elapsed, revokeAfter)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := n.revokes.Load(); got != 1 {
		t.Errorf("revocations: got %d, want 1 (the replaced token)", got)
	}
	// Only the replaced token was revoked.
	accepted(ctx, t, base, tok.AccessToken)
	if cur := current(ctx, t, ts); cur.AccessToken != tok.AccessToken {
		t.Error("Token after the revocation: the current token changed")
	}
}

// TestTokenSourceTransport: ts.Transport in an http.Client calls DOT's
// protected view with the Bearer token. Once the server has revoked that
// token, the next request gets DOT's answer passed through unchanged: 403
// with an empty body.
//
// DOT differs from RFC 6750 §3.1 and cryptofusetest here: its stock
// protected views (ProtectedResourceView) answer an invalid token with 403,
// not 401 with WWW-Authenticate, so the Transport's invalidate-and-replay
// after a 401 never fires. The request is sent once, the TokenSource keeps
// the revoked token, and only an explicit ts.Invalidate (what a caller of a
// DOT-protected API has to do on that 403) makes the retry get a new token
// and a 200. Views built on Django REST framework answer 401, and there the
// replay works.
func TestTokenSourceTransport(t *testing.T) {
	base, ctx, ts, n := tokenSource(t, mainClient, cryptofuse.TokenPolicy{})
	api := &counter{base: http.DefaultTransport}
	hc := &http.Client{Transport: ts.Transport(api)}
	call := func() (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/me/", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET /api/me/ through ts.Transport: %v", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			t.Fatalf("GET /api/me/ through ts.Transport: reading the body: %v", err)
		}
		return resp.StatusCode, string(body)
	}

	if status, body := call(); status != http.StatusOK {
		t.Fatalf("GET /api/me/ through ts.Transport: got status %d (%q), want 200", status, body)
	}
	cur := current(ctx, t, ts)
	if got := accepted(ctx, t, base, cur.AccessToken); got.ClientID != mainClient.id {
		t.Errorf("resource client_id: got %q, want %q", got.ClientID, mainClient.id)
	}

	// Revoke the current token behind the TokenSource's back, with another
	// Client of the same application (3.4.1 ignores a revocation by another
	// application).
	_, _, other := setup(t, mainClient)
	if err := other.Revoke(ctx, cur.AccessToken, cryptofuse.AccessTokenHint); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	rejected(ctx, t, base, cur.AccessToken)

	tokens, apis := n.tokens.Load(), api.apis.Load()
	if status, body := call(); status != http.StatusForbidden || body != "" {
		t.Fatalf("GET /api/me/ through ts.Transport with the revoked token: got status %d (%q), want DOT's 403 with an empty body", status, body)
	}
	if got := api.apis.Load() - apis; got != 1 {
		t.Errorf("requests sent for that call: got %d, want 1 (DOT's 403 is no 401: no replay)", got)
	}
	if got := n.tokens.Load() - tokens; got != 0 {
		t.Errorf("token requests after the 403: got %d, want 0", got)
	}
	if again := current(ctx, t, ts); again.AccessToken != cur.AccessToken {
		t.Error("Token after the 403: got a new token, want the same (a 403 invalidates nothing)")
	}

	// The caller tells the TokenSource; the retry gets a new token.
	ts.Invalidate(cur.AccessToken)
	if status, body := call(); status != http.StatusOK {
		t.Fatalf("GET /api/me/ through ts.Transport after Invalidate: got status %d (%q), want 200", status, body)
	}
	if got := n.tokens.Load() - tokens; got != 1 {
		t.Errorf("token requests after Invalidate: got %d, want 1", got)
	}
	fresh := current(ctx, t, ts)
	if fresh.AccessToken == cur.AccessToken {
		t.Fatal("Token after Invalidate: got the revoked token")
	}
	accepted(ctx, t, base, fresh.AccessToken)
	if n.revokes.Load() != 0 {
		t.Errorf("revocations by the TokenSource: got %d, want 0 (Invalidate revokes nothing)", n.revokes.Load())
	}
}

// TestTokenSourceCloseRevokes: Close with RevokeOnClose revokes the current
// token and the one that Rotate replaced (RevokeAfter 0: left for Close),
// before it returns; afterwards Token and Rotate return ErrClosed.
func TestTokenSourceCloseRevokes(t *testing.T) {
	base, ctx, ts, n := tokenSource(t, mainClient, cryptofuse.TokenPolicy{RevokeOnClose: true})
	old := current(ctx, t, ts)
	tok, err := ts.Rotate(ctx)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if tok.AccessToken == old.AccessToken {
		t.Fatal("Rotate returned the token it was to replace")
	}
	accepted(ctx, t, base, old.AccessToken) // RevokeAfter 0: not revoked on rotation
	accepted(ctx, t, base, tok.AccessToken)
	if got := n.revokes.Load(); got != 0 {
		t.Fatalf("revocations before Close: got %d, want 0", got)
	}

	if err := ts.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := n.revokes.Load(); got != 2 {
		t.Errorf("revocations by Close: got %d, want 2 (the current token and the replaced one)", got)
	}
	rejected(ctx, t, base, tok.AccessToken)
	rejected(ctx, t, base, old.AccessToken)

	if _, err := ts.Token(ctx); !errors.Is(err, cryptofuse.ErrClosed) {
		t.Errorf("Token after Close: got %v, want ErrClosed", err)
	}
	if _, err := ts.Rotate(ctx); !errors.Is(err, cryptofuse.ErrClosed) {
		t.Errorf("Rotate after Close: got %v, want ErrClosed", err)
	}
	if got := n.tokens.Load(); got != 2 {
		t.Errorf("token requests: got %d, want 2", got)
	}
}
