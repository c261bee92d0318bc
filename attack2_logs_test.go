package cryptofuse_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

type a2SyncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *a2SyncBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
func (w *a2SyncBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// Logs over a whole life (store load, 401, rotate, revoke, close): no secret,
// no token; lines name tokens by fingerprint; a stored token is logged as
// loaded, not refreshed.
func TestAttack2Logs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf a2SyncBuf
		l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		e := a2New(t, nil, cryptofuse.WithLogger(l))
		st := &a2MapStore{}
		ts1 := e.ts(t, cryptofuse.TokenPolicy{Store: st, RevokeAfter: time.Second})
		a := mustTok(t, ts1)
		ts1.Close(bg)
		synctest.Wait()
		first := buf.String()
		ts2 := e.ts(t, cryptofuse.TokenPolicy{Store: st, RevokeAfter: time.Second, RevokeOnClose: true})
		b := mustTok(t, ts2)
		if b.AccessToken != a.AccessToken {
			t.Fatalf("setup: not loaded from the store")
		}
		synctest.Wait() // the load is logged by the goroutine that did it
		load := strings.TrimPrefix(buf.String(), first)
		e.srv.InjectFault(1, cryptofusetest.Fault{Path: cryptofusetest.ResourcePath, Status: 401})
		a2Get(ts2, e.srv.Transport(), e.srv.URL+cryptofusetest.ResourcePath)
		r, _ := ts2.Rotate(bg)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		ts2.Close(bg)
		out := buf.String()
		toks := append([]string{a2Secret}, e.rt.Issued()...)
		for _, s := range toks {
			if strings.Contains(out, s) {
				t.Errorf("log leaks %.8s…", s)
			}
		}
		if !strings.Contains(out, cryptofuse.Fingerprint(a.AccessToken)) || !strings.Contains(out, cryptofuse.Fingerprint(r.AccessToken)) {
			t.Errorf("log lines do not name tokens by fingerprint")
		}
		if strings.Contains(strings.ToLower(load), "refreshed") {
			t.Errorf("a stored token is logged as refreshed:\n%s", load)
		}
		if !strings.Contains(load, cryptofuse.Fingerprint(a.AccessToken)) {
			t.Errorf("the load is not logged with the token's fingerprint:\n%s", load)
		}
		t.Logf("load lines:\n%s", load)
	})
}
