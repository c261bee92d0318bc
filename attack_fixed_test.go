package cryptofuse_test

// FAILING attack tests: one test per defect found. Each names the promise it breaks.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// Promise (was broken before the fix): Client.Format doc: "Every verb prints the same redacted
// summary, so no … of a Client (or of a *Client) can show the secret"; package
// doc: "no formatting of a Client or a Token ever contains the client secret or a
// token". fmt handles %p before calling Format, so %p of a Client value prints
// every field: the secret and the Basic header.
func TestAttackPercentPOnClientValue(t *testing.T) {
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL("http://127.0.0.1:9"))
	atkNoLeak(t, "fmt.Sprintf(\"%p\", *c)", fmt.Sprintf("%p", *c), atkSecret)
}

// %p of a *Token is its address. (%p of a Token value is fmt's bad-verb
// path, which bypasses Format and prints the exported fields: the Token
// doc says so; the fields are the API's contract and cannot be hidden.)
func TestAttackPercentPOnTokenPointer(t *testing.T) {
	tok := &cryptofuse.Token{AccessToken: atkToken, RefreshToken: atkToken + "-r", TokenType: "Bearer"}
	atkNoLeak(t, "fmt.Sprintf(\"%p\", tok)", fmt.Sprintf("%p", tok), atkToken)
}

// Promise (was broken before the fix): DESIGN.md "No secret through fmt": "Every verb on a
// *TokenSource … (%v %+v %#v %s %q) prints no token and no credential"; issue 16
// finding 1. %s, %q, %t, %e, %-40s of a *TokenSource print the client secret and
// the Basic credential.
func TestAttackTokenSourceFormat(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
	defer srv.Close()
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()))
	ts, _ := c.TokenSource(cryptofuse.TokenPolicy{})
	defer ts.Close(context.Background())
	tok, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%t", "%e", "%-40s", "%p"} {
		atkNoLeak(t, "*TokenSource "+verb, fmt.Sprintf(verb, ts), atkSecret, tok.AccessToken)
	}
}

// Promise (was broken before the fix): Hooks doc: "TokenObtained is called when a TokenSource
// installs a new current token, with the reason it needed one" (ReasonFirst:
// "the source had no token yet"); issue 18 item 3. The first token of a
// TokenSource, and one obtained by Rotate, fire no TokenObtained event.
func TestAttackTokenObtainedHook(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
	defer srv.Close()
	var mu sync.Mutex
	var evs []cryptofuse.TokenEvent
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()),
		cryptofuse.WithHooks(cryptofuse.Hooks{TokenObtained: func(e cryptofuse.TokenEvent) {
			mu.Lock()
			evs = append(evs, e)
			mu.Unlock()
		}}))
	ts, _ := c.TokenSource(cryptofuse.TokenPolicy{})
	tok, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := ts.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ts.Close(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if len(evs) != 2 {
		t.Fatalf("TokenObtained events = %+v; want 2 (first, rotate)", evs)
	}
	if evs[0].Reason != cryptofuse.ReasonFirst || evs[0].Fingerprint != cryptofuse.Fingerprint(tok.AccessToken) ||
		evs[1].Reason != cryptofuse.ReasonRotate || evs[1].Fingerprint != cryptofuse.Fingerprint(tok2.AccessToken) {
		t.Errorf("events = %+v", evs)
	}
}

// Promise (was broken before the fix): Hooks doc: "Invalidated is called when a TokenSource marks a
// token rejected (a 401, or TokenSource.Invalidate)"; "Revoked is called after
// each revocation a TokenSource makes of a token it replaced, rejected or held
// at Close"; issue 18 item 3. Neither fires (same defect family as TokenObtained).
func TestAttackInvalidatedRevokedHooks(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
	defer srv.Close()
	var mu sync.Mutex
	var inv []cryptofuse.InvalidateEvent
	var rev []cryptofuse.RevokeEvent
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()),
		cryptofuse.WithHooks(cryptofuse.Hooks{
			Invalidated: func(e cryptofuse.InvalidateEvent) { mu.Lock(); inv = append(inv, e); mu.Unlock() },
			Revoked:     func(e cryptofuse.RevokeEvent) { mu.Lock(); rev = append(rev, e); mu.Unlock() },
		}))
	ts, _ := c.TokenSource(cryptofuse.TokenPolicy{RevokeOnClose: true})
	tok, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ts.Invalidate(tok.AccessToken)
	tok2, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(inv) != 1 || inv[0].Cause != "invalidate" || inv[0].Fingerprint != cryptofuse.Fingerprint(tok.AccessToken) || inv[0].ClientID != atkID {
		t.Errorf("Invalidated events %+v", inv)
	}
	fps := map[string]bool{}
	for _, e := range rev {
		fps[e.Fingerprint] = true
		if e.Err != nil {
			t.Errorf("revoke err %v", e.Err)
		}
		atkFormatAll(t, "RevokeEvent", e, tok.AccessToken, tok2.AccessToken, atkSecret)
	}
	if !fps[cryptofuse.Fingerprint(tok2.AccessToken)] {
		t.Errorf("Revoked events %+v lack the current token at close", rev)
	}
	if srv.Active(tok2.AccessToken) {
		t.Error("current token active after RevokeOnClose")
	}
}

// Promise (was broken before the fix): Hooks doc: "RefreshFailed is called when a TokenSource failed
// to obtain a token"; issue 18 item 3. It never fires.
func TestAttackRefreshFailedHook(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
		defer srv.Close()
		var mu sync.Mutex
		var evs []cryptofuse.RefreshFailedEvent
		var txt []string
		c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()),
			cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}),
			cryptofuse.WithHooks(cryptofuse.Hooks{RefreshFailed: func(e cryptofuse.RefreshFailedEvent) {
				mu.Lock()
				evs = append(evs, e)
				txt = append(txt, fmt.Sprint(e.Err))
				mu.Unlock()
			}}))
		ts, _ := c.TokenSource(cryptofuse.TokenPolicy{})
		defer ts.Close(context.Background())
		srv.InjectFault(2, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Status: 503, Body: atkSecret})
		ts.Token(context.Background())
		synctest.Wait() // the hook runs on the refresh goroutine, after Token returns
		time.Sleep(10 * time.Minute)
		ts.Token(context.Background())
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(evs) != 2 || evs[0].Failures != 1 || evs[1].Failures != 2 || evs[0].Reason != cryptofuse.ReasonFirst || evs[0].NextTry <= 0 {
			t.Errorf("RefreshFailed events %+v", evs)
		}
		for _, s := range txt {
			atkNoLeak(t, "refresh err", s, atkSecret)
		}
	})
}
