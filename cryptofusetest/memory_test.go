package cryptofusetest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestTransportMatchesSocket sends the same requests over the listener and
// through Transport, and wants the same answers: status, the checked
// headers and the body.
func TestTransportMatchesSocket(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	srv.AddClient("other", "other-secret")
	tok := srv.IssueToken(testID, "")
	creds := encodedBasic(testID, testSecret)
	calls := []struct {
		name string
		c    call
	}{
		{"revoke", call{path: revokePath, auth: creds, body: "token=unknown"}},
		{"revoke without auth", call{path: revokePath, body: "token=x"}},
		{"revoke with a query", call{path: revokePath + "?token=x", auth: creds}},
		{"introspect an unknown token", call{path: introspectPath, auth: creds, body: "token=unknown"}},
		{"introspect without a token", call{path: introspectPath, auth: creds}},
		{"introspect with a wrong secret", call{path: introspectPath, auth: encodedBasic(testID, "wrong"), body: "token=x"}},
		{"token with an unknown scope", call{path: tokenPath, auth: creds, body: "grant_type=client_credentials&scope=admin"}},
		{"token as GET", call{method: "GET", path: tokenPath, auth: creds}},
		{"token without a slash", call{path: "/o/token", auth: creds}},
		{"JSON body", call{path: revokePath, auth: creds, contentType: "application/json", body: `{"token": "x"}`}},
		{"resource with a token", call{method: "GET", path: ResourcePath, auth: "Bearer " + tok}},
		{"resource without one", call{method: "GET", path: ResourcePath}},
		{"unknown path", call{method: "GET", path: "/nowhere"}},
		{"metadata", call{method: "GET", path: MetadataPath}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			noFollow := *srv.ts.Client() // a copy: the server's is shared
			noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			overSocket := sendWith(t, &noFollow, srv, tc.c)
			inMemory := sendWith(t, srv.Client(), srv, tc.c)
			var hdr map[string]string
			for _, name := range checkedHeaders {
				if v := overSocket.header.Get(name); v != "" {
					if hdr == nil {
						hdr = map[string]string{}
					}
					hdr[name] = v
				}
			}
			check(t, inMemory, want{status: overSocket.status, body: overSocket.body, header: hdr})
		})
	}
}

// TestWithoutListener runs the token, revocation and introspection
// endpoints through Transport on a Server with no socket.
func TestWithoutListener(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithoutListener())
	if srv.URL != unlistenedURL || srv.ts != nil {
		t.Fatalf("got URL %q, listener %v, want %q and none", srv.URL, srv.ts != nil, unlistenedURL)
	}
	client := srv.Client()
	creds := encodedBasic(testID, testSecret)
	tok := srv.IssueToken(testID, "")
	if got := sendWith(t, client, srv, call{path: revokePath, auth: creds, body: "token=" + tok}); got.status != http.StatusOK {
		t.Errorf("revoke: got %d, want 200", got.status)
	}
	if srv.Active(tok) {
		t.Error("token active after its revocation")
	}
	got := sendWith(t, client, srv, call{path: introspectPath, auth: creds, body: "token=" + tok})
	check(t, got, want{status: http.StatusOK, body: `{"active": false}`, header: plainJSON})
	issued := sendWith(t, client, srv, call{path: tokenPath, auth: creds, body: "grant_type=client_credentials"})
	if issued.status != http.StatusOK || !strings.Contains(issued.body, `"access_token"`) {
		t.Errorf("token: got %d %q, want 200 and a token", issued.status, issued.body)
	}
	c := srv.Counts()
	if c.Revoke != 1 || c.Introspect != 1 || c.Token != 1 || c.Connections != 0 {
		t.Errorf("Counts: got %+v, want Revoke 1, Introspect 1, Token 1, Connections 0", c)
	}
	srv.Close()
	srv.Close() // twice is fine
}

// TestTransportFaults checks the faults through Transport: a Drop is an
// error wrapping io.EOF, a body past the memory cap ends with
// io.ErrUnexpectedEOF, and a Delay ends with the request's context, on the
// fake clock of a synctest bubble.
func TestTransportFaults(t *testing.T) {
	t.Parallel()
	const maxBody = 1 << 20 // instead of maxMemoryBody, for speed
	post := func(ctx context.Context, srv *Server) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+revokePath, strings.NewReader("token=x"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", formType)
		req.Header.Set("Authorization", encodedBasic(testID, testSecret))
		return memoryTransport{s: srv, maxBody: maxBody}.RoundTrip(req)
	}
	t.Run("drop", func(t *testing.T) {
		srv := newTestServer(t, WithoutListener())
		srv.InjectFault(1, Fault{Drop: true})
		resp, err := post(context.Background(), srv)
		if resp != nil || !errors.Is(err, io.EOF) {
			t.Errorf("got %v, %v, want nil and an error wrapping io.EOF", resp, err)
		}
		if c := srv.Counts(); c.Revoke != 1 || c.Faulted != 1 {
			t.Errorf("Counts: got %+v, want Revoke 1, Faulted 1", c)
		}
	})
	t.Run("body past the cap", func(t *testing.T) {
		srv := newTestServer(t, WithoutListener())
		srv.InjectFault(1, Fault{Status: http.StatusBadGateway, BodySize: maxBody + 1})
		resp, err := post(context.Background(), srv)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if n != maxBody || !errors.Is(err, io.ErrUnexpectedEOF) || resp.ContentLength != maxBody+1 {
			t.Errorf("got %d bytes of %d, %v, want %d and io.ErrUnexpectedEOF", n, resp.ContentLength, err, maxBody)
		}
	})
	t.Run("delay on the fake clock", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := NewServer(testID, testSecret, WithoutListener())
			defer srv.Close()
			srv.InjectFault(2, Fault{Delay: time.Hour})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			if _, err := post(ctx, srv); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want context.DeadlineExceeded", err)
			}
			if got := time.Since(start); got != time.Minute {
				t.Errorf("fake time waited: got %v, want %v", got, time.Minute)
			}
			resp, err := post(context.Background(), srv)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("got %v, %v, want 200 after the delay", resp, err)
			}
			if got := time.Since(start); got != time.Minute+time.Hour {
				t.Errorf("fake time waited: got %v, want %v", got, time.Minute+time.Hour)
			}
		})
	})
	t.Run("cancelled before", func(t *testing.T) {
		srv := newTestServer(t, WithoutListener())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := post(ctx, srv); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if c := srv.Counts(); c.Revoke != 0 {
			t.Errorf("Counts: got %+v, want no request", c)
		}
	})
}

// TestWithoutListenerExpiry checks that, in a synctest bubble, tokens
// expire on the bubble's fake clock.
func TestWithoutListenerExpiry(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := NewServer(testID, testSecret, WithoutListener(), WithExpiresIn(time.Hour))
		defer srv.Close()
		tok := srv.IssueToken(testID, "")
		time.Sleep(time.Hour - time.Second)
		if !srv.Active(tok) {
			t.Error("token inactive a second before its expiry")
		}
		time.Sleep(time.Second)
		if srv.Active(tok) {
			t.Error("token active at its expiry")
		}
	})
}
