package cryptofuse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

const introspectPath = "/o/introspect/"

// TestIntrospect_Wire checks the request Introspect sends: POST to
// /o/introspect/ with the client's Basic credentials and the form
// token=… alone (RFC 7662 §2.1).
func TestIntrospect_Wire(t *testing.T) {
	t.Parallel()
	var got struct {
		method, path, auth, contentType, body string
	}
	c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.method, got.path, got.body = r.Method, r.URL.Path, string(b)
		got.auth, got.contentType = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"active": false}`)
	})
	in, err := c.Introspect(context.Background(), "a+b/c=d&e f%")
	if err != nil {
		t.Fatalf("Introspect: got %v, want nil", err)
	}
	if in.Active {
		t.Errorf("Active: got %v, want false", in.Active)
	}
	for _, chk := range []struct{ name, got, want string }{
		{"method", got.method, http.MethodPost},
		{"path", got.path, introspectPath},
		{"body", got.body, "token=" + url.QueryEscape("a+b/c=d&e f%")},
		{"Content-Type", got.contentType, "application/x-www-form-urlencoded"},
		{"Authorization", got.auth, c.secret.authorization[0]},
	} {
		if chk.got != chk.want {
			t.Errorf("%s: got %q, want %q", chk.name, chk.got, chk.want)
		}
	}
}

// TestIntrospect_Answers maps 2xx and non-2xx answers to an Introspection
// or an error: "active" is required and must be a boolean, exp and iat are
// whole Unix seconds as numbers or strings, and no error text holds the
// token or the secret, even when the server echoes them.
func TestIntrospect_Answers(t *testing.T) {
	t.Parallel()
	const token = "AT-introspected-7c1d"
	exp := time.Unix(1764000000, 0)
	iat := time.Unix(1763990000, 0)
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        *Introspection // nil: an error is wanted
		wantStatus  int            // of the *Error
		wantText    string         // in the error's text
	}{
		{name: "inactive", status: 200, body: `{"active": false}`, want: &Introspection{}},
		{name: "DOT's active answer", status: 200,
			body: `{"active": true, "scope": "read write", "exp": 1764000000, "client_id": "svc-id"}`,
			want: &Introspection{Active: true, Scope: "read write", ClientID: "svc-id", Expiry: exp}},
		{name: "every member", status: 200,
			body: `{"active": true, "scope": "read", "client_id": "c", "username": "alice", "token_type": "Bearer", "exp": 1764000000, "iat": 1763990000}`,
			want: &Introspection{Active: true, Scope: "read", ClientID: "c", Username: "alice", TokenType: "Bearer", Expiry: exp, IssuedAt: iat}},
		{name: "exp and iat as strings", status: 200, body: `{"active": true, "exp": "1764000000", "iat": " 1763990000 "}`,
			want: &Introspection{Active: true, Expiry: exp, IssuedAt: iat}},
		{name: "fractional exp cut off", status: 200, body: `{"active": true, "exp": 1764000000.9}`,
			want: &Introspection{Active: true, Expiry: exp}},
		{name: "unusable exp and iat are zero", status: 200, body: `{"active": true, "exp": "soon", "iat": -5}`,
			want: &Introspection{Active: true}},
		{name: "null exp is zero", status: 200, body: `{"active": false, "exp": null}`, want: &Introspection{}},
		{name: "any 2xx", status: 203, body: `{"active": false}`, want: &Introspection{}},
		{name: "no active member", status: 200, body: `{"scope": "read", "client_id": "c"}`, wantStatus: 200, wantText: `no "active" member`},
		{name: "empty object", status: 200, body: `{}`, wantStatus: 200, wantText: `no "active" member`},
		{name: "null active", status: 200, body: `{"active": null}`, wantStatus: 200, wantText: `no "active" member`},
		{name: "active as a string", status: 200, body: `{"active": "true"}`, wantStatus: 200, wantText: "not a JSON introspection answer"},
		{name: "not JSON", status: 200, contentType: "text/html", body: "<html>active</html>", wantStatus: 200, wantText: "not a JSON introspection answer"},
		{name: "empty 200", status: 200, body: "", wantStatus: 200, wantText: "not a JSON introspection answer"},
		{name: "error in a 200", status: 200, body: `{"active": true, "error": "invalid_request", "error_description": "bad ` + token + `"}`,
			wantStatus: 200, wantText: "invalid_request"},
		{name: "no endpoint", status: 404, contentType: "text/html", body: "<h1>Not Found</h1>", wantStatus: 404, wantText: "introspect: 404 Not Found"},
		{name: "credentials refused, as DOT does", status: 403, body: "", wantStatus: 403, wantText: "introspect: 403 Forbidden"},
		{name: "400 echoing the token and secret", status: 400,
			body:       `{"error": "invalid_request", "error_description": "token ` + token + ` for secret ` + testSecret + `"}`,
			wantStatus: 400, wantText: "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
				ct := tc.contentType
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}, noRetry)
			in, err := c.Introspect(context.Background(), token)
			if tc.want != nil {
				if err != nil {
					t.Fatalf("Introspect: got %v, want nil", err)
				}
				if *in != *tc.want {
					t.Errorf("got %+v, want %+v", *in, *tc.want)
				}
				return
			}
			if in != nil {
				t.Errorf("got %+v and an error, want no Introspection", *in)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want an *Error", err, err)
			}
			if e.Op != opIntrospect || e.StatusCode != tc.wantStatus {
				t.Errorf("got Op %q, StatusCode %d, want %q, %d", e.Op, e.StatusCode, opIntrospect, tc.wantStatus)
			}
			text := err.Error()
			if !strings.HasPrefix(text, "cryptofuse: introspect: ") || !strings.Contains(text, tc.wantText) {
				t.Errorf("got %q, want it to start with %q and contain %q", text, "cryptofuse: introspect: ", tc.wantText)
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				assertNoSecret(t, fmt.Sprintf(verb, err), token, testSecret)
				assertNoSecret(t, fmt.Sprintf(verb, e), token, testSecret)
			}
		})
	}
}

// TestIntrospect_BadInput checks that Introspect and RevokeAndVerify refuse
// what Revoke refuses, before any request.
func TestIntrospect_BadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrEmptyToken},
		{"Bearer prefix", "Bearer abc", ErrMalformedToken},
		{"lower-case bearer prefix", "bearer abc", ErrMalformedToken},
		{"trailing newline", "abc\n", ErrMalformedToken},
		{"leading space", " abc", ErrMalformedToken},
		{"BOM", "\ufeffabc", ErrMalformedToken},
		{"control character", "ab\x00c", ErrMalformedToken},
	}
	srv := cryptofusetest.NewServer(testID, testSecret)
	t.Cleanup(srv.Close)
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL))
	if err != nil {
		t.Fatalf("NewClient: got %v, want nil", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := c.Introspect(context.Background(), tc.token)
			if in != nil || !errors.Is(err, tc.want) {
				t.Errorf("Introspect: got %v, %v, want nil, %v", in, err, tc.want)
			}
			if err := c.RevokeAndVerify(context.Background(), tc.token, AccessTokenHint); !errors.Is(err, tc.want) {
				t.Errorf("RevokeAndVerify: got %v, want %v", err, tc.want)
			}
		})
	}
	if got := srv.Counts(); got != (cryptofusetest.Counts{}) {
		t.Errorf("requests: got %+v, want none", got)
	}
}

// TestIntrospect_Fake asks the fake server about tokens: an active one of
// this client, with its scope, client and expiry; another client's, which
// any client may introspect; a revoked one, and an unknown one.
func TestIntrospect_Fake(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	srv := cryptofusetest.NewServer(testID, testSecret, cryptofusetest.WithClock(func() time.Time { return now }))
	t.Cleanup(srv.Close)
	srv.AddClient("other", "other-secret")
	c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL))
	if err != nil {
		t.Fatalf("NewClient: got %v, want nil", err)
	}
	own := srv.IssueToken(testID, "read write")
	other := srv.IssueToken("other", "")
	revoked := srv.IssueToken(testID, "")
	if err := c.Revoke(context.Background(), revoked, AccessTokenHint); err != nil {
		t.Fatalf("Revoke: got %v, want nil", err)
	}

	cases := []struct {
		name  string
		token string
		want  Introspection
	}{
		{"own", own, Introspection{Active: true, Scope: "read write", ClientID: testID, Expiry: now.Add(36000 * time.Second)}},
		{"another client's", other, Introspection{Active: true, Scope: "read", ClientID: "other", Expiry: now.Add(36000 * time.Second)}},
		{"revoked", revoked, Introspection{}},
		{"unknown", "never-issued", Introspection{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := c.Introspect(context.Background(), tc.token)
			if err != nil {
				t.Fatalf("Introspect: got %v, want nil", err)
			}
			if !in.Expiry.Equal(tc.want.Expiry) {
				t.Errorf("Expiry: got %v, want %v", in.Expiry, tc.want.Expiry)
			}
			in.Expiry, tc.want.Expiry = time.Time{}, time.Time{}
			if *in != tc.want {
				t.Errorf("got %+v, want %+v", *in, tc.want)
			}
		})
	}
}

// TestIntrospect_Retry checks that Introspect retries what Revoke retries
// (it changes nothing on the server): 503, 502 and a dropped connection,
// and that a 404 is final.
func TestIntrospect_Retry(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		fault        cryptofusetest.Fault
		wantRequests int
		wantStatus   int // of the *Error; 0: success
	}{
		{"503 with Retry-After", cryptofusetest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "1"}, 2, 0},
		{"502", cryptofusetest.Fault{Status: http.StatusBadGateway}, 2, 0},
		{"dropped connection", cryptofusetest.Fault{Drop: true}, 2, 0},
		{"404 not retried", cryptofusetest.Fault{Status: http.StatusNotFound}, 1, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := cryptofusetest.NewServer(testID, testSecret)
			t.Cleanup(srv.Close)
			sleep, waits := fakeSleep()
			c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), sleep)
			if err != nil {
				t.Fatalf("NewClient: got %v, want nil", err)
			}
			tok := srv.IssueToken(testID, "")
			tc.fault.Path = cryptofusetest.IntrospectPath
			srv.InjectFault(1, tc.fault)

			in, err := c.Introspect(context.Background(), tok)
			if got := srv.Counts().Introspect; got != tc.wantRequests {
				t.Errorf("introspection requests: got %d, want %d", got, tc.wantRequests)
			}
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Introspect: got %v, want nil", err)
				}
				if !in.Active {
					t.Errorf("Active: got false, want true")
				}
				if got := len(waits()); got != 1 {
					t.Errorf("waits: got %d, want 1", got)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.StatusCode != tc.wantStatus || e.Op != opIntrospect {
				t.Errorf("got %v, want an introspect *Error with status %d", err, tc.wantStatus)
			}
		})
	}
}

// TestRevokeAndVerify checks the verdicts: nil for a token the server
// reports inactive after the revocation, ErrStillActive for one it kept
// (another client's, on 3.4.1), the revocation's own error with nothing
// introspected, and a failed check wrapped so that its *Error shows.
func TestRevokeAndVerify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name           string
		opts           []cryptofusetest.Option
		tokenOf        string // the client the token is issued to
		fault          *cryptofusetest.Fault
		wantIs         error // nil: success
		wantStatus     int   // of the *Error, when one is wanted
		wantIntrospect int
	}{
		{name: "own token, 3.4.1", tokenOf: testID, wantIntrospect: 1},
		{name: "own token, 1.7.0", opts: []cryptofusetest.Option{cryptofusetest.WithDOT170()}, tokenOf: testID, wantIntrospect: 1},
		{name: "another client's token, 3.4.1", tokenOf: "other", wantIs: ErrStillActive, wantIntrospect: 1},
		{name: "another client's token, 1.7.0", opts: []cryptofusetest.Option{cryptofusetest.WithDOT170()}, tokenOf: "other", wantIntrospect: 1},
		{name: "revocation refused", tokenOf: testID,
			fault:  &cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusBadRequest, ContentType: "application/json", Body: `{"error": "invalid_request"}`},
			wantIs: ErrInvalidRequest, wantStatus: 400},
		{name: "no introspection endpoint", tokenOf: testID,
			fault:  &cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: http.StatusNotFound},
			wantIs: ErrNotVerified, wantStatus: 404, wantIntrospect: 1},
		{name: "check dropped", tokenOf: testID,
			fault:  &cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Drop: true},
			wantIs: ErrNotVerified, wantIntrospect: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := cryptofusetest.NewServer(testID, testSecret, tc.opts...)
			t.Cleanup(srv.Close)
			srv.AddClient("other", "other-secret")
			c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), noRetry)
			if err != nil {
				t.Fatalf("NewClient: got %v, want nil", err)
			}
			tok := srv.IssueToken(tc.tokenOf, "")
			if tc.fault != nil {
				srv.InjectFault(1, *tc.fault)
			}

			err = c.RevokeAndVerify(context.Background(), tok, AccessTokenHint)
			if got := srv.Counts().Introspect; got != tc.wantIntrospect {
				t.Errorf("introspection requests: got %d, want %d", got, tc.wantIntrospect)
			}
			if tc.wantIs == nil && tc.wantStatus == 0 {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				if srv.Active(tok) {
					t.Error("token active after a nil RevokeAndVerify")
				}
				return
			}
			if err == nil {
				t.Fatal("got nil, want an error")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("got %v, want errors.Is %v", err, tc.wantIs)
			}
			if tc.wantIs != ErrStillActive && errors.Is(err, ErrStillActive) {
				t.Errorf("got %v, want no ErrStillActive", err)
			}
			var e *Error
			if tc.wantStatus != 0 && (!errors.As(err, &e) || e.StatusCode != tc.wantStatus) {
				t.Errorf("got %v, want an *Error with status %d", err, tc.wantStatus)
			}
			if !strings.HasPrefix(err.Error(), "cryptofuse: ") || strings.Count(err.Error(), "cryptofuse: ") != 1 {
				t.Errorf("got %q, want one %q prefix", err.Error(), "cryptofuse: ")
			}
			if tc.wantIs == ErrStillActive && !strings.Contains(err.Error(), `issued to client "other"`) {
				t.Errorf("got %q, want it to name the token's client", err.Error())
			}
			assertNoSecret(t, fmt.Sprintf("%+v", err), tok, testSecret)
		})
	}
}

// TestRevokeAndVerify_Order checks that the introspection is sent only
// after the revocation's answer.
func TestRevokeAndVerify_Order(t *testing.T) {
	t.Parallel()
	var order []string
	var revoked atomic.Bool
	c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
		order = append(order, r.URL.Path)
		switch r.URL.Path {
		case revokePath:
			revoked.Store(true)
		case introspectPath:
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"active": %t}`, !revoked.Load())
		}
	})
	if err := c.RevokeAndVerify(context.Background(), testToken, RefreshTokenHint); err != nil {
		t.Fatalf("RevokeAndVerify: got %v, want nil", err)
	}
	if got, want := strings.Join(order, " "), revokePath+" "+introspectPath; got != want {
		t.Errorf("requests: got %q, want %q", got, want)
	}
}
