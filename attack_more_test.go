package cryptofuse_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// Promise: a status line echoing the token/secret is scrubbed.
func TestAttackStatusLineEcho(t *testing.T) {
	srv := atkNewServer(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		tok := r.PostForm.Get("token")
		hj, _ := w.(http.Hijacker)
		conn, buf, _ := hj.Hijack()
		defer conn.Close()
		body := `{"error":"x"}`
		fmt.Fprintf(buf, "HTTP/1.1 400 Bad %s %s %s\r\nContent-Type: application/json\r\nX-T: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			tok, atkSecret, url.QueryEscape(atkSecret), tok, len(body), body)
		buf.Flush()
	})
	var r atkRec
	cl := atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: r.hook}))
	_, err := cl.Introspect(context.Background(), atkToken)
	var e *cryptofuse.Error
	if !errors.As(err, &e) || e.StatusCode != 400 {
		t.Fatalf("err %v", err)
	}
	atkNoLeak(t, "err", fmt.Sprintf("%v %+v %#v", err, e, *e), atkSecret, atkToken)
	for _, s := range r.txt {
		atkNoLeak(t, "hook err", s, atkSecret, atkToken)
	}
	err = cl.RevokeAndVerify(context.Background(), atkToken, "")
	if err == nil {
		t.Fatal("nil")
	}
	atkNoLeak(t, "rav err", err.Error(), atkSecret, atkToken)
	_ = bufio.NewReader
}

// Promise: RevokeAndVerify: a 2xx revoke and an introspection still active
// gives ErrStillActive (here forced by a fault), not an *Error, without the token.
func TestAttackStillActiveForced(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	tok := srv.IssueToken(atkID, "")
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 200, ContentType: "application/json", Body: `{"active": true, "client_id": "` + tok + `"}`})
	cl := atkClient(t, srv.URL)
	err := cl.RevokeAndVerify(context.Background(), tok, cryptofuse.RefreshTokenHint)
	if !errors.Is(err, cryptofuse.ErrStillActive) {
		t.Fatalf("err = %v, want ErrStillActive", err)
	}
	atkNoLeak(t, "err", fmt.Sprintf("%v %+v %#v", err, err, err), tok, atkSecret)
	// Duplicate "active": the last one wins in Go; the fake's answer is checked as observed.
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 200, ContentType: "application/json", Body: `{"active": true, "active": false}`})
	tok2 := srv.IssueToken(atkID, "")
	err = cl.RevokeAndVerify(context.Background(), tok2, "")
	t.Logf("duplicate active keys {true,false}: RevokeAndVerify = %v", err)
}

// Promise: a Retry-After above MaxDelay is not slept: the call returns at once
// with Error.RetryAfter, and the event says "Retry-After exceeds MaxDelay".
func TestAttackIntrospectRetryAfterTooLong(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 503, RetryAfter: "3600"})
	var r atkRec
	cl := atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: r.hook}))
	start := time.Now()
	_, err := cl.Introspect(context.Background(), "tok-abcdef")
	var e *cryptofuse.Error
	if !errors.As(err, &e) || e.RetryAfter != time.Hour || e.StatusCode != 503 {
		t.Fatalf("err %v (%+v)", err, e)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("slept %v", d)
	}
	evs := r.get()
	if len(evs) != 1 || evs[0].GaveUp != "Retry-After exceeds MaxDelay" {
		t.Errorf("events %+v", evs)
	}
	if srv.Counts().Introspect != 1 {
		t.Errorf("counts %+v", srv.Counts())
	}
}

// Promise: RevokeAndVerify is safe for concurrent use on the same token.
func TestAttackRevokeAndVerifyConcurrentSameToken(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	cl := atkClient(t, srv.URL)
	tok := srv.IssueToken(atkID, "")
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cl.RevokeAndVerify(context.Background(), tok, ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if srv.Active(tok) {
		t.Error("still active")
	}
}

// Promise: a 1-char secret does not mangle a server's error text (word rule).
func TestAttackOneCharSecretErrorText(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, "e")
	defer srv.Close()
	cl, _ := cryptofuse.NewClient(atkID, "i", cryptofuse.WithBaseURL(srv.URL), atkFastRetry())
	_, err := cl.Token(context.Background())
	if !errors.Is(err, cryptofuse.ErrInvalidClient) {
		t.Fatalf("err %v", err)
	}
	if want := "invalid_client"; !strings.Contains(err.Error(), want) {
		t.Errorf("text %q lost %q", err, want)
	}
	_, err = cl.Introspect(context.Background(), "e")
	var ce *cryptofuse.Error
	if !errors.As(err, &ce) || ce.StatusCode != 403 {
		t.Errorf("introspect with wrong 1-char secret: %v", err)
	}
}
