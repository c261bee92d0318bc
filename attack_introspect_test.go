package cryptofuse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// Promise: Introspect gives a verdict only for a 2xx JSON answer with a boolean
// "active"; anything else is an *Error (Op "introspect").
func TestAttackIntrospectHostileAnswers(t *testing.T) {
	type tc struct {
		name       string
		status     int
		ctype      string
		body       string
		wantErr    bool
		wantActive bool
		wantStatus int
	}
	cases := []tc{
		{"active string true", 200, "application/json", `{"active":"true"}`, true, false, 200},
		{"active number 1", 200, "application/json", `{"active":1}`, true, false, 200},
		{"active null", 200, "application/json", `{"active":null}`, true, false, 200},
		{"active nested", 200, "application/json", `{"active":{"active":true}}`, true, false, 200},
		{"active array", 200, "application/json", `{"active":[true]}`, true, false, 200},
		{"no active", 200, "application/json", `{"scope":"read"}`, true, false, 200},
		{"empty object", 200, "application/json", `{}`, true, false, 200},
		{"empty body", 200, "application/json", ``, true, false, 200},
		{"json null", 200, "application/json", `null`, true, false, 200},
		{"json array", 200, "application/json", `[{"active":true}]`, true, false, 200},
		{"json string", 200, "application/json", `"active"`, true, false, 200},
		{"not json", 200, "text/html", `<html>ok</html>`, true, false, 200},
		{"truncated", 200, "application/json", `{"active":true`, true, false, 200},
		{"trailing garbage", 200, "application/json", `{"active":false} {"active":true}`, true, false, 200},
		{"error member with active", 200, "application/json", `{"active":false,"error":"invalid_request"}`, true, false, 200},
		{"error member alone", 200, "application/json", `{"error":"invalid_client"}`, true, false, 200},
		{"302 redirect", 302, "text/html", ``, true, false, 302},
		{"401 www-auth", 401, "application/json", `{"error":"invalid_client"}`, true, false, 401},
		{"403 empty", 403, "text/html; charset=utf-8", ``, true, false, 403},
		{"404", 404, "text/html", `<h1>Not Found</h1>`, true, false, 404},
		{"400 with active true", 400, "application/json", `{"active":true}`, true, false, 400},
		{"active false ok", 200, "application/json", `{"active":false}`, false, false, 0},
		{"active true ok", 200, "application/json", `{"active":true,"scope":"read","exp":1900000000,"client_id":"x"}`, false, true, 0},
		{"exp float", 200, "application/json", `{"active":true,"exp":1900000000.5}`, false, true, 0},
		{"exp negative", 200, "application/json", `{"active":true,"exp":-5}`, false, true, 0},
		{"exp overflow", 200, "application/json", `{"active":true,"exp":1e400}`, false, true, 0},
		{"exp huge int", 200, "application/json", `{"active":true,"exp":99999999999999999999999}`, false, true, 0},
		{"exp string", 200, "application/json", `{"active":true,"exp":"soon"}`, false, true, 0},
		{"iat object", 200, "application/json", `{"active":true,"iat":{}}`, false, true, 0},
		{"wrong content type", 200, "text/plain", `{"active":false}`, false, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := atkNewServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.ctype)
				if c.status == 302 {
					w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
				}
				if c.status == 401 {
					w.Header().Set("WWW-Authenticate", `Bearer error="invalid_client"`)
				}
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			})
			cl := atkClient(t, srv.URL)
			in, err := cl.Introspect(context.Background(), atkToken)
			if c.wantErr {
				if err == nil {
					t.Fatalf("Introspect = %+v, nil; want an *Error", in)
				}
				var e *cryptofuse.Error
				if !errors.As(err, &e) {
					t.Fatalf("err %v (%T) is not an *Error", err, err)
				}
				if e.Op != "introspect" {
					t.Errorf("Op = %q, want introspect", e.Op)
				}
				if e.StatusCode != c.wantStatus {
					t.Errorf("StatusCode = %d, want %d", e.StatusCode, c.wantStatus)
				}
				if in != nil {
					t.Errorf("got a verdict %+v beside the error", in)
				}
				atkNoLeak(t, "error", err.Error(), atkSecret, atkToken)
				return
			}
			if err != nil {
				t.Fatalf("Introspect: %v; want a verdict", err)
			}
			if in.Active != c.wantActive {
				t.Errorf("Active = %v, want %v", in.Active, c.wantActive)
			}
			if c.status == 302 && srv.count("/elsewhere") != 0 {
				t.Errorf("redirect followed")
			}
		})
	}
}

// Promise: a 3xx is never followed and never retried; 4xx never retried.
func TestAttackIntrospectNoRetryOn4xx3xx(t *testing.T) {
	for _, st := range []int{301, 302, 307, 308, 400, 401, 403, 404, 405} {
		t.Run(fmt.Sprint(st), func(t *testing.T) {
			srv := atkNewServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/o/introspect/" {
					w.WriteHeader(200)
					io.WriteString(w, `{"active":true}`)
					return
				}
				w.Header().Set("Location", "/other/")
				w.WriteHeader(st)
			})
			cl := atkClient(t, srv.URL)
			_, err := cl.Introspect(context.Background(), atkToken)
			if err == nil {
				t.Fatal("nil error")
			}
			if n := int(srv.total.Load()); n != 1 {
				t.Errorf("%d requests, want 1 (no retry, no redirect)", n)
			}
		})
	}
}

// Promise: Introspect retries 429, 500, 502, 503, 504 and a dropped connection.
func TestAttackIntrospectRetries5xx(t *testing.T) {
	for _, st := range []int{429, 500, 502, 503, 504} {
		t.Run(fmt.Sprint(st), func(t *testing.T) {
			srv := atkNewServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(st)
			})
			cl := atkClient(t, srv.URL)
			_, err := cl.Introspect(context.Background(), atkToken)
			var e *cryptofuse.Error
			if !errors.As(err, &e) || e.StatusCode != st {
				t.Fatalf("err = %v, want *Error %d", err, st)
			}
			if n := srv.count("/o/introspect/"); n != 3 {
				t.Errorf("%d attempts, want 3", n)
			}
		})
	}
	t.Run("429 with error code", func(t *testing.T) {
		srv := atkNewServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":"invalid_client"}`)
		})
		cl := atkClient(t, srv.URL)
		_, err := cl.Introspect(context.Background(), atkToken)
		if !errors.Is(err, cryptofuse.ErrInvalidClient) {
			t.Errorf("err = %v, want ErrInvalidClient", err)
		}
		if n := srv.count("/o/introspect/"); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
	t.Run("drop", func(t *testing.T) {
		srv := atkNewServer(t, func(w http.ResponseWriter, r *http.Request) {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		})
		cl := atkClient(t, srv.URL)
		_, err := cl.Introspect(context.Background(), atkToken)
		if err == nil {
			t.Fatal("nil error")
		}
		if n := srv.count("/o/introspect/"); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
	})
}

// Promise: a huge introspection body does not exhaust memory and gives an error.
func TestAttackIntrospectHugeBody(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	tok := srv.IssueToken(atkID, "")
	srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: 200,
		ContentType: "application/json", Body: `{"active":true,"scope":"` + strings.Repeat("a", 1000), BodySize: 200 << 20})
	cl := atkClient(t, srv.URL)
	start := time.Now()
	in, err := cl.Introspect(context.Background(), tok)
	if err == nil {
		t.Fatalf("Introspect of a 200 MiB body = %+v, nil; want an error", in)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v reading a huge body", d)
	}
}

// Promise: bad input is refused before sending, with ErrEmptyToken / ErrMalformedToken.
func TestAttackBadInputSendsNothing(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	cl := atkClient(t, srv.URL)
	bad := map[string]error{
		"":                    cryptofuse.ErrEmptyToken,
		"Bearer x":            cryptofuse.ErrMalformedToken,
		"bearer abc":          cryptofuse.ErrMalformedToken,
		"BEARER\tabc":         cryptofuse.ErrMalformedToken,
		"Basic abc":           cryptofuse.ErrMalformedToken,
		"DPoP abc":            cryptofuse.ErrMalformedToken,
		" abc":                cryptofuse.ErrMalformedToken,
		"abc ":                cryptofuse.ErrMalformedToken,
		"abc\n":               cryptofuse.ErrMalformedToken,
		"\tabc":               cryptofuse.ErrMalformedToken,
		"a\x00bc":             cryptofuse.ErrMalformedToken,
		"a\x7fbc":             cryptofuse.ErrMalformedToken,
		"\ufeffabc":           cryptofuse.ErrMalformedToken,
		"abc\u200b":           cryptofuse.ErrMalformedToken,
		"\u00a0abc":           cryptofuse.ErrMalformedToken,
		"abc\u3000":           cryptofuse.ErrMalformedToken,
		"a\u0085bc":           cryptofuse.ErrMalformedToken,
		"a\rb":                cryptofuse.ErrMalformedToken,
		" ":                   cryptofuse.ErrMalformedToken,
		"\ufeff":              cryptofuse.ErrMalformedToken,
		"Bearer " + atkToken:  cryptofuse.ErrMalformedToken,
		atkToken + "\r\nX: y": cryptofuse.ErrMalformedToken,
	}
	for tok, want := range bad {
		ctx := context.Background()
		_, err := cl.Introspect(ctx, tok)
		if !errors.Is(err, want) {
			t.Errorf("Introspect(%q) = %v, want %v", tok, err, want)
		}
		err = cl.RevokeAndVerify(ctx, tok, cryptofuse.AccessTokenHint)
		if !errors.Is(err, want) {
			t.Errorf("RevokeAndVerify(%q) = %v, want %v", tok, err, want)
		}
		if err != nil {
			atkNoLeak(t, "error", err.Error(), atkToken)
			if strings.Contains(tok, "abc") && strings.Contains(err.Error(), "abc") {
				t.Errorf("error quotes the token: %v", err)
			}
		}
	}
	if c := srv.Counts(); c.Introspect+c.Revoke+c.Token+c.Other != 0 {
		t.Errorf("bad input sent requests: %+v", c)
	}
}

// Promise: RevokeAndVerify: own token -> nil, token inactive; another client's
// on 3.4.1 -> ErrStillActive; on 1.7.0 -> nil.
func TestAttackRevokeAndVerifyDOTVersions(t *testing.T) {
	for _, v := range []struct {
		name  string
		opts  []cryptofusetest.Option
		other error
	}{{"3.4.1", nil, cryptofuse.ErrStillActive}, {"1.7.0", []cryptofusetest.Option{cryptofusetest.WithDOT170()}, nil}} {
		t.Run(v.name, func(t *testing.T) {
			srv := cryptofusetest.NewServer(atkID, atkSecret, v.opts...)
			defer srv.Close()
			srv.AddClient("other", "other-secret-xyz")
			cl := atkClient(t, srv.URL)
			own := srv.IssueToken(atkID, "")
			if err := cl.RevokeAndVerify(context.Background(), own, cryptofuse.AccessTokenHint); err != nil {
				t.Errorf("own: %v, want nil", err)
			}
			if srv.Active(own) {
				t.Error("own token still active")
			}
			other := srv.IssueToken("other", "")
			err := cl.RevokeAndVerify(context.Background(), other, cryptofuse.AccessTokenHint)
			if v.other == nil && err != nil {
				t.Errorf("other: %v, want nil", err)
			}
			if v.other != nil {
				if !errors.Is(err, v.other) {
					t.Errorf("other: %v, want ErrStillActive", err)
				}
				var e *cryptofuse.Error
				if errors.As(err, &e) {
					t.Errorf("ErrStillActive also As *Error %+v; it is not a server error answer", e)
				}
				if err != nil {
					atkNoLeak(t, "err", err.Error(), other, atkSecret)
				}
			}
			// A second RevokeAndVerify of the own, now dead, token is still nil.
			if err := cl.RevokeAndVerify(context.Background(), own, ""); err != nil {
				t.Errorf("second: %v", err)
			}
		})
	}
}

// Promise: RevokeAndVerify when introspection fails: error wraps the
// introspection *Error (Op "introspect"), never ErrStillActive, and never nil.
func TestAttackRevokeAndVerifyIntrospectFails(t *testing.T) {
	for _, st := range []int{404, 403, 503, 500, 401} {
		t.Run(fmt.Sprint(st), func(t *testing.T) {
			srv := cryptofusetest.NewServer(atkID, atkSecret)
			defer srv.Close()
			tok := srv.IssueToken(atkID, "")
			srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.IntrospectPath, Status: st, Body: " "})
			cl := atkClient(t, srv.URL)
			err := cl.RevokeAndVerify(context.Background(), tok, cryptofuse.AccessTokenHint)
			if err == nil {
				t.Fatal("nil error when introspection failed")
			}
			if errors.Is(err, cryptofuse.ErrStillActive) {
				t.Errorf("err %v is ErrStillActive; the check failed, it did not find the token active", err)
			}
			var e *cryptofuse.Error
			if !errors.As(err, &e) || e.Op != "introspect" || e.StatusCode != st {
				t.Errorf("err = %v; want *Error Op introspect status %d (got %+v)", err, st, e)
			}
			wantAttempts := 1
			if st >= 500 {
				wantAttempts = 3
			}
			c := srv.Counts()
			if c.Introspect != wantAttempts || c.Revoke != 1 {
				t.Errorf("counts %+v, want revoke 1, introspect %d", c, wantAttempts)
			}
			if srv.Active(tok) {
				t.Error("token not revoked")
			}
		})
	}
}

// Promise: a failed revocation returns the revocation's error; nothing is introspected.
func TestAttackRevokeAndVerifyRevokeFails(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	tok := srv.IssueToken(atkID, "")
	srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: 503})
	cl := atkClient(t, srv.URL)
	err := cl.RevokeAndVerify(context.Background(), tok, cryptofuse.AccessTokenHint)
	var e *cryptofuse.Error
	if !errors.As(err, &e) || e.Op != "revoke" || e.StatusCode != 503 {
		t.Errorf("err = %v, want revoke 503 *Error", err)
	}
	if c := srv.Counts(); c.Introspect != 0 || c.Revoke != 3 {
		t.Errorf("counts %+v, want revoke 3 introspect 0", c)
	}
	// wrong credentials
	cl2, _ := cryptofuse.NewClient(atkID, "wrong-secret-abcdef", cryptofuse.WithBaseURL(srv.URL), atkFastRetry())
	srv.ClearFaults()
	err = cl2.RevokeAndVerify(context.Background(), tok, "")
	if !errors.Is(err, cryptofuse.ErrInvalidClient) {
		t.Errorf("wrong secret: %v, want ErrInvalidClient", err)
	}
	if c := srv.Counts(); c.Introspect != 0 {
		t.Errorf("introspected after failed revoke: %+v", c)
	}
	if !srv.Active(tok) {
		t.Error("token revoked by failed calls")
	}
}

// Promise: introspect with wrong credentials: DOT answers 403 empty; *Error 403, not retried.
func TestAttackIntrospectWrongSecretFake(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	tok := srv.IssueToken(atkID, "")
	cl, _ := cryptofuse.NewClient(atkID, "wrong-secret-abcdef", cryptofuse.WithBaseURL(srv.URL), atkFastRetry())
	_, err := cl.Introspect(context.Background(), tok)
	var e *cryptofuse.Error
	if !errors.As(err, &e) || e.StatusCode != 403 {
		t.Fatalf("err = %v, want *Error 403", err)
	}
	if srv.Counts().Introspect != 1 {
		t.Errorf("retried: %+v", srv.Counts())
	}
	atkNoLeak(t, "err", err.Error(), tok, "wrong-secret-abcdef")
}

// Promise: Introspect fields of an active token from the fake.
func TestAttackIntrospectFields(t *testing.T) {
	srv := cryptofusetest.NewServer(atkID, atkSecret)
	defer srv.Close()
	tok := srv.IssueToken(atkID, "read write")
	cl := atkClient(t, srv.URL)
	in, err := cl.Introspect(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Active || in.Scope != "read write" || in.ClientID != atkID || in.Expiry.IsZero() || !in.IssuedAt.IsZero() || in.Username != "" {
		t.Errorf("introspection = %+v", in)
	}
	if in.Expiry.Before(time.Now()) || in.Expiry.After(time.Now().Add(11*time.Hour)) {
		t.Errorf("Expiry %v out of range", in.Expiry)
	}
	in2, err := cl.Introspect(context.Background(), "unknown-token-123456")
	if err != nil || in2.Active {
		t.Errorf("unknown: %+v %v", in2, err)
	}
	atkFormatAll(t, "Introspection", *in, tok, atkSecret)
	atkFormatAll(t, "*Introspection", in, tok, atkSecret)
}
