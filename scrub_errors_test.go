package cryptofuse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestScrubKeepsWhatAnErrorIs: scrubbing changes the text of an error,
// never what it is (issue 16, "Errors"). A TLS certificate failure is final
// for the retry policy, whatever the scrubber finds in its text, and still
// unwraps to its x509 error when its text holds no secret; a short secret
// does not cut words of the transport's text.
func TestScrubKeepsWhatAnErrorIs(t *testing.T) {
	t.Parallel()
	t.Run("certificate failure", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name, token string
			wantAs      bool // errors.As reaches the x509 error
			wantText    string
		}{
			// 0.2.0: the token "x" was found in "x509", the cause was
			// replaced, the failure retried 3 times.
			{"one-character token inside x509", "x", true, "x509: certificate signed by unknown authority"},
			// A real match in the certificate error's text: its text
			// is scrubbed and errors.As does not hand it out, but it
			// is still final.
			{"token found in the text", "x509", false, "[redacted]: certificate signed by unknown authority"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				var conns atomic.Int32
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
				srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
					if s == http.StateNew {
						conns.Add(1)
					}
				}
				srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors are the point
				srv.StartTLS()
				t.Cleanup(srv.Close)
				sleep, _ := fakeSleep()
				c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), sleep) // trusts not the test certificate
				if err != nil {
					t.Fatal(err)
				}

				err = c.Revoke(context.Background(), tc.token, AccessTokenHint)
				if err == nil {
					t.Fatal("got nil error, want a certificate failure")
				}
				if got := conns.Load(); got != 1 {
					t.Errorf("got %d connections, want 1 (a certificate failure is final)", got)
				}
				if !strings.Contains(err.Error(), tc.wantText) {
					t.Errorf("got %q, want it to contain %q", err.Error(), tc.wantText)
				}
				var ua x509.UnknownAuthorityError
				if got := errors.As(err, &ua); got != tc.wantAs {
					t.Errorf("errors.As(err, *x509.UnknownAuthorityError): got %v, want %v (%v)", got, tc.wantAs, err)
				}
				var cve *tls.CertificateVerificationError
				if got := errors.As(err, &cve); got != tc.wantAs {
					t.Errorf("errors.As(err, *tls.CertificateVerificationError): got %v, want %v", got, tc.wantAs)
				}
			})
		}
	})
	t.Run("one-character secret and connection refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		sleep, _ := fakeSleep()
		c, err := NewClient(testID, "s", WithBaseURL("http://"+addr), sleep)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Revoke(context.Background(), "tok-value", AccessTokenHint)
		if err == nil {
			t.Fatal("got nil error, want connection refused")
		}
		if !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("got %q, want it to contain %q", err.Error(), "connection refused")
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("errors.Is(err, ECONNREFUSED): got false, want true (%v)", err)
		}
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "dial" {
			t.Errorf("errors.As(err, *net.OpError): got %v, want the dial error", oe)
		}
	})
}
