package cryptofuse_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// Promise: the package doc's synctest example: a day of rotations, 144 tokens, 143 revocations.
func TestAttackSynctestDayOfRotations(t *testing.T) {
	start := time.Now()
	synctest.Test(t, func(t *testing.T) {
		srv := cryptofusetest.NewServer("id", "secret", cryptofusetest.WithoutListener())
		defer srv.Close()
		c, err := cryptofuse.NewClient("id", "secret", cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		ts, _ := c.TokenSource(cryptofuse.TokenPolicy{MaxAge: 10 * time.Minute, RevokeAfter: time.Minute})
		for range 24 * 60 {
			if _, err := ts.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Minute)
			synctest.Wait()
		}
		// MaxAge is jittered down by up to a quarter: a token lives 7.5 to
		// 10 minutes, so a day takes 144 to 192 tokens, each but the last
		// revoked.
		if c := srv.Counts(); c.Token < 144 || c.Token > 193 || c.Revoke != c.Token-1 || c.Connections != 0 {
			t.Errorf("counts %+v, want 144 to 193 tokens, one fewer revoked, connections 0", c)
		}
		ts.Close(context.Background())
	})
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("a fake day took %v real", d)
	}
}

// Promise: retries with Retry-After, and a Fault's Delay, wait on the bubble's clock.
func TestAttackSynctestRetryAndDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
		defer srv.Close()
		c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()))
		tok := srv.IssueToken(atkID, "")
		srv.InjectFault(2, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 503, RetryAfter: "7"})
		t0 := time.Now()
		in, err := c.Introspect(context.Background(), tok)
		if err != nil || !in.Active {
			t.Fatalf("%+v %v", in, err)
		}
		if d := time.Since(t0); d != 14*time.Second {
			t.Errorf("fake time elapsed %v, want 14s (two Retry-After 7)", d)
		}
		// Delay 1h vs ctx 30m.
		srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Delay: time.Hour})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		t0 = time.Now()
		err = c.RevokeAndVerify(ctx, tok, "")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want DeadlineExceeded", err)
		}
		if d := time.Since(t0); d != 30*time.Minute {
			t.Errorf("fake time %v, want 30m", d)
		}
		if !srv.Active(tok) {
			t.Error("token revoked although the delayed request was abandoned")
		}
		// Expiry on the fake clock.
		srv2 := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener(), cryptofusetest.WithExpiresIn(time.Minute))
		defer srv2.Close()
		c2, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv2.URL), cryptofuse.WithHTTPClient(srv2.Client()))
		tk, err := c2.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Now().Add(time.Minute); !tk.Expiry.Equal(want) {
			t.Errorf("Expiry %v, want %v", tk.Expiry, want)
		}
		in, _ = c2.Introspect(context.Background(), tk.AccessToken)
		if in == nil || !in.Active || !in.Expiry.Equal(time.Now().Add(time.Minute).Truncate(time.Second)) && in.Expiry.Unix() != time.Now().Add(time.Minute).Unix() {
			t.Errorf("introspection %+v", in)
		}
		time.Sleep(61 * time.Second)
		if srv2.Active(tk.AccessToken) {
			t.Error("token active after its fake expiry")
		}
		in, err = c2.Introspect(context.Background(), tk.AccessToken)
		if err != nil || in.Active {
			t.Errorf("expired introspection %+v %v", in, err)
		}
	})
}

// Promise: a TokenSource's backoff after failures runs on fake time.
func TestAttackSynctestTokenSourceBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
		defer srv.Close()
		c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()),
			cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}))
		ts, _ := c.TokenSource(cryptofuse.TokenPolicy{})
		defer ts.Close(context.Background())
		srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Status: 503})
		if _, err := ts.Token(context.Background()); err == nil {
			t.Fatal("first Token succeeded through a 503")
		}
		time.Sleep(2 * time.Minute)
		if _, err := ts.Token(context.Background()); err != nil {
			t.Errorf("after backoff: %v", err)
		}
		if n := srv.Counts().Token; n != 2 {
			t.Errorf("token requests %d, want 2", n)
		}
	})
}

// Promise: Server.Transport: a body larger than 32 MiB is cut off with io.ErrUnexpectedEOF.
func TestAttackTransportHugeBody(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
	defer srv.Close()
	srv.InjectFault(1, cryptofusetest.Fault{Path: "/big", Status: 200, Body: "x", BodySize: 100 << 20})
	resp, err := srv.Client().Get(srv.URL + "/big")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read %d bytes, err %v; want io.ErrUnexpectedEOF", n, err)
	}
	if n != 32<<20 {
		t.Errorf("read %d bytes, want 32 MiB", n)
	}
	// The SDK over it: an error, not a verdict.
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 200, ContentType: "application/json", Body: `{"active":true,"x":"`, BodySize: 100 << 20})
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()))
	if in, err := c.Introspect(context.Background(), "tok-abcdef"); err == nil {
		t.Errorf("huge introspection answer gave verdict %+v", in)
	}
}

type atkTrackBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *atkTrackBody) Close() error { b.closed.Store(true); return nil }

// Promise: Transport: Delay waits on ctx; Drop wraps io.EOF; the body is always closed;
// scheme and host are ignored; no connection is counted.
func TestAttackTransportSemantics(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
	defer srv.Close()
	rt := srv.Transport()
	// Cancelled ctx with Delay.
	srv.InjectFault(1, cryptofusetest.Fault{Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	body := &atkTrackBody{Reader: strings.NewReader("token=abc")}
	req, _ := http.NewRequestWithContext(ctx, "POST", "https://elsewhere.example:8443"+cryptofusetest.IntrospectPath, body)
	done := make(chan error, 1)
	go func() { _, err := rt.RoundTrip(req); done <- err }()
	for deadline := time.Now().Add(20 * time.Second); srv.Counts().Faulted == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // liveness only: wait until the request holds the Delay
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("cancelled delayed request succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Delay ignored the cancelled ctx")
	}
	if !body.closed.Load() {
		t.Error("request body not closed (delay)")
	}
	srv.ClearFaults()
	// Drop.
	srv.InjectFault(1, cryptofusetest.Fault{Drop: true})
	body = &atkTrackBody{Reader: strings.NewReader("token=abc")}
	req, _ = http.NewRequest("POST", "http://x"+cryptofusetest.RevokePath, body)
	if _, err := rt.RoundTrip(req); !errors.Is(err, io.EOF) {
		t.Errorf("Drop: err %v, want io.EOF", err)
	}
	if !body.closed.Load() {
		t.Error("request body not closed (drop)")
	}
	// Normal: scheme/host ignored.
	body = &atkTrackBody{Reader: strings.NewReader(url.Values{"token": {"nope"}}.Encode())}
	req, _ = http.NewRequest("POST", "ftp://other.host"+cryptofusetest.IntrospectPath, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(atkID, atkSecret)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"active": false`) && !strings.Contains(string(b), `"active":false`) {
		t.Errorf("answer %d %s", resp.StatusCode, b)
	}
	if !body.closed.Load() {
		t.Error("request body not closed")
	}
	if c := srv.Counts(); c.Connections != 0 || c.Introspect != 2 || c.Revoke != 1 || c.Faulted != 2 {
		t.Errorf("counts %+v", c)
	}
	// A cancelled ctx before the call, no fault.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()))
	if _, err := c.Introspect(ctx2, "tok-abcdef"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
}

// Promise: Transport is safe for concurrent use; counts exact.
func TestAttackTransportConcurrent(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
	defer srv.Close()
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()))
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				tok, err := c.Token(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if err := c.RevokeAndVerify(context.Background(), tok.AccessToken, ""); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if cn := srv.Counts(); cn.Token != 640 || cn.Revoke != 640 || cn.Introspect != 640 || cn.Connections != 0 {
		t.Errorf("counts %+v", cn)
	}
}

// Promise: a listening Server's Transport also works, and a WithoutListener
// server's URL is never dialled by other clients.
func TestAttackWithoutListenerNotDialled(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
	defer srv.Close()
	if srv.URL != "http://127.0.0.1:9" {
		t.Errorf("URL %q", srv.URL)
	}
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}))
	if _, err := c.Token(context.Background()); err == nil {
		t.Error("reached a WithoutListener server over the network")
	}
	if n := srv.Counts().Token; n != 0 {
		t.Errorf("counted %d", n)
	}
	lsrv := cryptofusetest.NewServer(atkID, atkSecret)
	defer lsrv.Close()
	c2, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(lsrv.URL), cryptofuse.WithHTTPClient(lsrv.Client()))
	if _, err := c2.Token(context.Background()); err != nil {
		t.Error(err)
	}
	if cn := lsrv.Counts(); cn.Token != 1 || cn.Connections != 0 {
		t.Errorf("listener server via Transport counts %+v", cn)
	}
}

// Promise: WithDOTResource: every refusal is 403, empty body, no WWW-Authenticate;
// WithResourceScopes: lacking scope -> 403 (insufficient_scope by default).
func TestAttackDOTResourceAndScopes(t *testing.T) {
	get := func(srv *cryptofusetest.Server, auth string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", srv.URL+cryptofusetest.ResourcePath, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	dot := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener(), cryptofusetest.WithDOTResource(), cryptofusetest.WithResourceScopes("write"))
	defer dot.Close()
	good := dot.IssueToken(atkID, "read write")
	readOnly := dot.IssueToken(atkID, "read")
	revoked := dot.IssueToken(atkID, "read write")
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(dot.URL), cryptofuse.WithHTTPClient(dot.Client()))
	if err := c.RevokeAndVerify(context.Background(), revoked, ""); err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"", "Bearer nope", "Bearer " + revoked, "Bearer " + readOnly, "Basic " + good, "bearer"} {
		st, body, h := get(dot, auth)
		if st != 403 || body != "" || h.Get("WWW-Authenticate") != "" {
			t.Errorf("DOT resource %q: %d %q %v", auth, st, body, h)
		}
	}
	if st, _, _ := get(dot, "BEARER "+good); st != 200 {
		t.Errorf("good token: %d", st)
	}
	def := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener(), cryptofusetest.WithResourceScopes("write"))
	defer def.Close()
	ro := def.IssueToken(atkID, "read")
	st, body, h := get(def, "Bearer "+ro)
	if st != 403 || !strings.Contains(body, "insufficient_scope") || !strings.Contains(h.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Errorf("scoped default: %d %q %v", st, body, h)
	}
	st, _, h = get(def, "Bearer unknown")
	if st != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("unknown default: %d %v", st, h)
	}
	if n := def.Counts().Resource; n != 2 {
		t.Errorf("Resource count %d", n)
	}
}

// Promise: OncePerToken lets a client's retry through; Every faults every n-th.
func TestAttackInjectFaultOncePerTokenEvery(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret, cryptofusetest.WithoutListener())
	defer srv.Close()
	c, _ := cryptofuse.NewClient(atkID, atkSecret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(srv.Client()), atkFastRetry())
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: 503, OncePerToken: true})
	for i := 0; i < 5; i++ {
		tok := srv.IssueToken(atkID, "")
		if err := c.RevokeAndVerify(context.Background(), tok, ""); err != nil {
			t.Errorf("OncePerToken: %v", err)
		}
	}
	if cn := srv.Counts(); cn.Revoke != 10 || cn.Faulted != 5 || cn.Introspect != 5 {
		t.Errorf("counts %+v", cn)
	}
	srv.ClearFaults()
	// Path is compared percent-decoded.
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 404})
	req, _ := http.NewRequest("POST", srv.URL+"/o/%69ntrospect/", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("percent-encoded path not faulted: %d", resp.StatusCode)
	}
}

func synctestRun(t *testing.T, f func(*testing.T)) { synctest.Test(t, f) }
