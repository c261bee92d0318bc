package cryptofuse_test

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/cryptofuse/cryptofuse-go/storetest"
)

func TestAttack2DirStoreConformance(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	storetest.TestSharedStore(t, func(t *testing.T) cryptofuse.SharedStore { return cryptofuse.DirStore(dir) })
}

// Introspect403: a 403 for an active token (a real denial) mints nothing and
// introspects at most once per token; a 403 for a revoked token is a 401.
func TestAttack2Introspect403(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, []cryptofusetest.Option{cryptofusetest.WithDOTResource(),
			cryptofusetest.WithScopes("read", "write", "admin"), cryptofusetest.WithResourceScopes("admin")})
		ts := e.ts(t, cryptofuse.TokenPolicy{Introspect403: true})
		defer ts.Close(bg)
		for range 100 {
			code, err := a2Get(ts, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath)
			if err != nil || code != 403 {
				t.Fatalf("GET = %d %v, want 403", code, err)
			}
		}
		if n := e.srv.Counts().Token; n != 1 {
			t.Errorf("100 real denials minted %d tokens, want 1", n)
		}
		if n := e.srv.Counts().Introspect; n > 1 {
			t.Errorf("100 real denials: %d introspections, want <= 1", n)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, []cryptofusetest.Option{cryptofusetest.WithDOTResource()})
		ts := e.ts(t, cryptofuse.TokenPolicy{Introspect403: true})
		defer ts.Close(bg)
		tok := mustTok(t, ts)
		if err := e.c.Revoke(bg, tok.AccessToken, cryptofuse.AccessTokenHint); err != nil {
			t.Fatal(err)
		}
		code, err := a2Get(ts, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath)
		if err != nil || code != 200 {
			t.Errorf("GET with a revoked token behind DOT's 403 = %d %v, want 200 after replay", code, err)
		}
		if n := e.srv.Counts().Token; n != 2 {
			t.Errorf("token requests = %d, want 2", n)
		}
		_ = http.StatusOK
	})
}

// Events of a failing refresh whose error body echoes the secret and a token:
// no fmt verb of any event shows them.
func TestAttack2EventsFmt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var evs []any
		var mu sync.Mutex
		add := func(v any) { mu.Lock(); evs = append(evs, v); mu.Unlock() }
		e := a2New(t, nil, cryptofuse.WithHooks(cryptofuse.Hooks{
			Attempt:       func(ev cryptofuse.AttemptEvent) { ev.Context = nil; add(ev) },
			TokenObtained: func(ev cryptofuse.TokenEvent) { add(ev) },
			RefreshFailed: func(ev cryptofuse.RefreshFailedEvent) { add(ev) },
			Store:         func(ev cryptofuse.StoreEvent) { add(ev) },
			Invalidated:   func(ev cryptofuse.InvalidateEvent) { add(ev) },
			Revoked:       func(ev cryptofuse.RevokeEvent) { add(ev) },
		}), cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}))
		ts := e.ts(t, cryptofuse.TokenPolicy{RevokeAfter: time.Second, RevokeOnClose: true, Store: &a2MapStore{putErr: errors.New("put failed")}})
		tok := mustTok(t, ts)
		e.srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Status: 400, ContentType: "application/json",
			Body: `{"error":"invalid_request","error_description":"bad ` + a2Secret + `"}`})
		ts.Invalidate(tok.AccessToken)
		_, _ = ts.Token(bg)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		tok2, _ := ts.Token(bg)
		ts.Close(bg)
		secrets := []string{a2Secret, tok.AccessToken}
		if tok2 != nil {
			secrets = append(secrets, tok2.AccessToken)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(evs) < 5 {
			t.Fatalf("only %d events", len(evs))
		}
		for _, ev := range evs {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
				for _, v := range []any{ev} {
					out := fmt.Sprintf(verb, v)
					for _, s := range secrets {
						if strings.Contains(out, s) {
							t.Errorf("%T with %s leaks %.8s…", ev, verb, s)
						}
					}
				}
			}
		}
	})
}
