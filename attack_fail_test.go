package cryptofuse_test

// FAILING attack tests: one test per defect found. Each names the promise it breaks.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// Promise broken: Error's doc and issue 16 item 4: "Scrubbing changes text only:
// the cause that Unwrap gives is still seen by errors.Is and errors.As."
// A token whose text occurs in a TLS error ("certificate", ≥ 4 chars, scrubbed
// anywhere as documented) makes errors.As lose the x509 error.
func TestAttackFailScrubHidesX509FromErrorsAs(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	for _, v := range []struct{ secret, token string }{
		{"some-long-secret", "certificate"}, // token scrubbed from "failed to verify certificate"
		{"some-long-secret", "x509"},        // 4-char token
		{"tls", "x"},                        // 3-char secret standing as a word: "tls: failed…"
		{"cert", "x"},                       // 4-char secret inside "certificate"
	} {
		c, _ := cryptofuse.NewClient("id", v.secret, cryptofuse.WithBaseURL(srv.URL),
			cryptofuse.WithHTTPClient(&http.Client{Transport: cryptofuse.NewTransport()}))
		_, err := c.Introspect(context.Background(), v.token)
		var ua x509.UnknownAuthorityError
		var cv *tls.CertificateVerificationError
		if !errors.As(err, &ua) || !errors.As(err, &cv) {
			t.Errorf("secret %q token %q: errors.As(x509.UnknownAuthorityError)=%v, As(*tls.CertificateVerificationError)=%v; want both true. err: %v",
				v.secret, v.token, errors.As(err, &ua), errors.As(err, &cv), err)
		}
	}
}

// Promise broken: same as above, for a dial failure: a token "refused" or a
// secret "tcp" (as a word in "dial tcp")
// makes errors.As(*net.OpError) and errors.Is(syscall.ECONNREFUSED) false.
func TestAttackFailScrubHidesNetOpErrorFromErrorsAs(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	for _, v := range []struct{ secret, token string }{
		{"some-long-secret", "refused"},
		{"tcp", "x"},
	} {
		c, _ := cryptofuse.NewClient("id", v.secret, cryptofuse.WithBaseURL("http://"+addr),
			cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}))
		_, err := c.Introspect(context.Background(), v.token)
		var op *net.OpError
		if !errors.As(err, &op) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("secret %q token %q: As(*net.OpError)=%v Is(ECONNREFUSED)=%v; want true, true. err: %v",
				v.secret, v.token, errors.As(err, &op), errors.Is(err, syscall.ECONNREFUSED), err)
		}
	}
}

// Promise broken: Client.Format doc: "Every verb prints the same redacted
// summary, so no … of a Client (or of a *Client) can show the secret"; package
// doc: "no formatting of a Client or a Token ever contains the client secret or a
// token". fmt handles %p before calling Format, so %p of a Client value prints
// every field: the secret and the Basic header.
func TestAttackFailPercentPOnClientValueLeaksSecret(t *testing.T) {
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL("http://127.0.0.1:9"))
	atkNoLeak(t, "fmt.Sprintf(\"%p\", *c)", fmt.Sprintf("%p", *c), atkSecret)
}

// Promise broken: Token doc: "Any fmt formatting of a Token or a *Token (%v,
// %+v, %#v, %s, …) … show the token as [redacted]". %p of a Token value prints
// the access token.
func TestAttackFailPercentPOnTokenValueLeaksToken(t *testing.T) {
	tok := cryptofuse.Token{AccessToken: atkToken, RefreshToken: atkToken + "-r", TokenType: "Bearer"}
	atkNoLeak(t, "fmt.Sprintf(\"%p\", tok)", fmt.Sprintf("%p", tok), atkToken)
}

// Promise broken: DESIGN.md "No secret through fmt": "Every verb on a
// *TokenSource … (%v %+v %#v %s %q) prints no token and no credential"; issue 16
// finding 1. %s, %q, %t, %e, %-40s of a *TokenSource print the client secret and
// the Basic credential.
func TestAttackFailTokenSourceFormatLeaksSecret(t *testing.T) {
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

// Promise broken: Hooks doc: "TokenObtained is called when a TokenSource
// installs a new current token, with the reason it needed one" (ReasonFirst:
// "the source had no token yet"); issue 18 item 3. The first token of a
// TokenSource, and one obtained by Rotate, fire no TokenObtained event.
func TestAttackFailTokenObtainedHookNeverCalled(t *testing.T) {
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

// Promise broken: Hooks doc: "Invalidated is called when a TokenSource marks a
// token rejected (a 401, or TokenSource.Invalidate)"; "Revoked is called after
// each revocation a TokenSource makes of a token it replaced, rejected or held
// at Close"; issue 18 item 3. Neither fires (same defect family as TokenObtained).
func TestAttackFailInvalidatedRevokedHooksNeverCalled(t *testing.T) {
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

// Promise broken: Hooks doc: "RefreshFailed is called when a TokenSource failed
// to obtain a token"; issue 18 item 3. It never fires.
func TestAttackFailRefreshFailedHookNeverCalled(t *testing.T) {
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
		time.Sleep(10 * time.Minute)
		ts.Token(context.Background())
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
