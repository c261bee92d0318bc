package cryptofuse_test

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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// atkEchoAll echoes every secret it can find in the request, in every encoding,
// in the body (as error_description, error_uri, error), headers and status text.
func atkEchoAll(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		var vals []string
		vals = append(vals, string(raw), auth)
		for _, v := range []string{atkSecret, atkToken} {
			vals = append(vals, atkEncodings(v)...)
		}
		all := strings.Join(vals, " | ")
		w.Header().Set("X-Echo", all)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+all+`"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q,"error_description":%q,"error_uri":%q}`, "invalid_request "+atkSecret, all, "https://x/"+atkToken)
	}
}

// Promise: no error (and nothing errors.As hands out) contains the secret or the token.
func TestAttackEchoedSecretsScrubbed(t *testing.T) {
	for _, st := range []int{200, 400, 401, 403, 404, 500, 503} {
		t.Run(fmt.Sprint(st), func(t *testing.T) {
			srv := atkNewServer(t, atkEchoAll(st))
			cl := atkClient(t, srv.URL)
			ctx := context.Background()
			var errs []error
			_, err := cl.Introspect(ctx, atkToken)
			errs = append(errs, err)
			errs = append(errs, cl.Revoke(ctx, atkToken, cryptofuse.AccessTokenHint))
			errs = append(errs, cl.RevokeAndVerify(ctx, atkToken, cryptofuse.AccessTokenHint))
			_, err = cl.Token(ctx)
			errs = append(errs, err)
			_, err = cl.RotateToken(ctx, atkToken)
			errs = append(errs, err)
			for i, err := range errs {
				secrets := []string{atkSecret, atkToken}
				if i == 3 {
					secrets = secrets[:1] // Token sends no token
				}
				if err == nil {
					if st != 200 || i == 0 {
						t.Errorf("call %d: nil error", i)
					}
					continue
				}
				for e := err; e != nil; e = errors.Unwrap(e) {
					atkNoLeak(t, fmt.Sprintf("call %d chain %T", i, e), fmt.Sprintf("%v|%+v|%s|%q", e, e, e, e), secrets...)
				}
				var ce *cryptofuse.Error
				if errors.As(err, &ce) {
					atkNoLeak(t, "fields", ce.Code+ce.Description+ce.URI+ce.Op, secrets...)
					atkFormatAll(t, "*Error", ce, secrets...)
					atkFormatAll(t, "Error", *ce, secrets...)
				}
				var re *cryptofuse.RotateError
				if errors.As(err, &re) {
					atkFormatAll(t, "*RotateError", re, secrets...)
					atkFormatAll(t, "RotateError", *re, secrets...)
				}
			}
		})
	}
}

// Promise: the Basic credential (base64 of id:secret) is a credential; an
// error echoing the Authorization header must not show it.
func TestAttackEchoedBasicCredentialInDescription(t *testing.T) {
	srv := atkNewServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_request","error_description":"bad header %s"}`, r.Header.Get("Authorization"))
	})
	cl := atkClient(t, srv.URL)
	_, err := cl.Introspect(context.Background(), atkToken)
	if err == nil {
		t.Fatal("nil")
	}
	if strings.Contains(err.Error(), atkBasic()) {
		t.Errorf("error holds the Basic credential %q: %v", atkBasic(), err)
	}
}

// Promise (i16): a 1-char secret/token never mangles "connection refused";
// errors.Is still sees syscall causes; the dial failure is retried.
func TestAttackShortSecretsConnectionRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	for _, sec := range []string{"s", "e", "c", "n", "ref", "use", "con"} { // "o", "tcp": see attack_fail_test.go
		c, err := cryptofuse.NewClient("id", sec, cryptofuse.WithBaseURL("http://"+addr), atkFastRetry())
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{"x", "d", "u", "nn"} { // "refused": see attack_fail_test.go
			_, err := c.Introspect(context.Background(), tok)
			if err == nil {
				t.Fatal("nil")
			}
			if !strings.Contains(err.Error(), "connection refused") {
				t.Errorf("secret %q token %q: text %q lost 'connection refused'", sec, tok, err)
			}
			var op *net.OpError
			if !errors.As(err, &op) {
				t.Errorf("secret %q token %q: not As *net.OpError: %v", sec, tok, err)
			}
		}
	}
}

// Promise: a TLS certificate failure is not retried and errors.As finds the
// x509 error, even with token "x" and secret "509".
func TestAttackTLSNotRetriedShortValues(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	var handshakes atomic.Int64
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			handshakes.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	for _, sec := range []string{"509", "x", "y"} { // "tls", "cert": see attack_fail_test.go
		for _, tok := range []string{"x", "y", "509", "ce"} { // "certificate", "x509": see attack_fail_test.go
			handshakes.Store(0)
			// https on loopback: the client's default transport does not trust httptest's CA.
			c, err := cryptofuse.NewClient("id", sec, cryptofuse.WithBaseURL(srv.URL), atkFastRetry(),
				cryptofuse.WithHTTPClient(&http.Client{Transport: cryptofuse.NewTransport()}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Introspect(context.Background(), tok)
			var ua x509.UnknownAuthorityError
			var cv *tls.CertificateVerificationError
			if !errors.As(err, &ua) && !errors.As(err, &cv) {
				t.Errorf("sec %q tok %q: %v does not As the x509 error", sec, tok, err)
			}
			if !strings.Contains(err.Error(), "x509") {
				t.Errorf("sec %q tok %q: text lost x509: %v", sec, tok, err)
			}
			// Wait for server-side accounting: bounded liveness only.
			deadline := time.Now().Add(5 * time.Second)
			for handshakes.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if h := handshakes.Load(); h != 1 {
				t.Errorf("sec %q tok %q: %d connections, want 1 (TLS failure retried?)", sec, tok, h)
			}
			err2 := c.RevokeAndVerify(context.Background(), tok, "")
			if !errors.As(err2, &ua) && !errors.As(err2, &cv) {
				t.Errorf("RevokeAndVerify: %v does not As x509", err2)
			}
		}
	}
	if n.Load() != 0 {
		t.Errorf("handler reached %d times", n.Load())
	}
}

// Promise: TLS failure counted in Attempt hook: exactly one attempt, GaveUp "not retryable".
func TestAttackTLSAttemptEvent(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var evs []cryptofuse.AttemptEvent
	c, _ := cryptofuse.NewClient("id", "x", cryptofuse.WithBaseURL(srv.URL), atkFastRetry(),
		cryptofuse.WithHTTPClient(&http.Client{Transport: cryptofuse.NewTransport()}),
		cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: func(e cryptofuse.AttemptEvent) { evs = append(evs, e) }}))
	_, err := c.Introspect(context.Background(), "x")
	if err == nil {
		t.Fatal("nil")
	}
	if len(evs) != 1 || evs[0].GaveUp != "not retryable" || evs[0].Retry || evs[0].StatusCode != 0 || evs[0].Op != "introspect" {
		t.Errorf("events = %+v", evs)
	}
}

// Promise: scrubbing changes text only; retry decisions and errors.Is see the cause.
func TestAttackScrubKeepsContextIdentity(t *testing.T) {
	srv := cryptofusetest.NewServer("id", "d")
	defer srv.Close()
	srv.InjectFault(-1, cryptofusetest.Fault{Delay: time.Hour})
	c, _ := cryptofuse.NewClient("id", "d", cryptofuse.WithBaseURL(srv.URL), atkFastRetry())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Introspect(ctx, "e")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v is not DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("text mangled: %v", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	err = c.RevokeAndVerify(ctx2, "e", "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
}

// Promise: every fmt verb on every exported type shows no token or secret.
func TestAttackFormatEverything(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	var mu sync.Mutex // the hooks run on the TokenSource's goroutines too
	obtained := make(chan struct{}, 1)
	var attempts []cryptofuse.AttemptEvent
	var tokEvs []cryptofuse.TokenEvent
	hooks := cryptofuse.Hooks{
		Attempt: func(e cryptofuse.AttemptEvent) {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, e)
		},
		TokenObtained: func(e cryptofuse.TokenEvent) {
			mu.Lock()
			defer mu.Unlock()
			tokEvs = append(tokEvs, e)
			select {
			case obtained <- struct{}{}:
			default:
			}
		},
	}
	cl := atkClient(t, srv.URL, cryptofuse.WithHooks(hooks))
	ts, err := cl.TokenSource(cryptofuse.TokenPolicy{RevokeOnClose: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	access := tok.AccessToken
	secrets := []string{atkSecret, access}
	select { // TokenObtained runs on the refresh goroutine, after Token may return
	case <-obtained:
	case <-time.After(10 * time.Second):
		t.Fatal("no TokenObtained event within 10 s")
	}
	atkFormatAll(t, "Client", *cl, secrets...)
	atkFormatAll(t, "*Client", cl, secrets...)
	atkFormatAll(t, "Token", *tok, secrets...)
	atkFormatAll(t, "*Token", tok, secrets...)
	// *TokenSource: see attack_fail_test.go
	atkFormatAll(t, "TokenPolicy", cryptofuse.TokenPolicy{RevokeOnClose: true}, secrets...)
	atkFormatAll(t, "Hooks", hooks, secrets...)
	atkFormatAll(t, "&Hooks", &hooks, secrets...)
	mu.Lock()
	seenAttempts, seenTokens := append([]cryptofuse.AttemptEvent(nil), attempts...), append([]cryptofuse.TokenEvent(nil), tokEvs...)
	mu.Unlock()
	for _, e := range seenAttempts {
		atkFormatAll(t, "AttemptEvent", e, secrets...)
		atkFormatAll(t, "*AttemptEvent", &e, secrets...)
	}
	for _, e := range seenTokens {
		atkFormatAll(t, "TokenEvent", e, secrets...)
	}
	in, _ := cl.Introspect(context.Background(), access)
	atkFormatAll(t, "*Introspection", in, secrets...)
	opt := cryptofuse.WithBaseURL(srv.URL)
	atkFormatAll(t, "Option", opt, secrets...)
	if len(seenAttempts) == 0 || len(seenTokens) == 0 {
		t.Errorf("attempts %d, token events %d: want some of each", len(seenAttempts), len(seenTokens))
	}
	if err := ts.Close(context.Background()); err != nil {
		t.Error(err)
	}
}
