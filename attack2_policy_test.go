package cryptofuse_test

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// How MaxAge and RefreshBefore combine, counted over 10 hours.
func TestAttack2MaxAgeRefreshBefore(t *testing.T) {
	cases := []struct {
		name     string
		life     time.Duration
		p        cryptofuse.TokenPolicy
		min, max int
	}{
		// lifetime 10 h > MaxAge 1 h: MaxAge decides, 3/4..1 h → 10..14 tokens
		{"maxage wins", 10 * time.Hour, cryptofuse.TokenPolicy{MaxAge: time.Hour}, 10, 15},
		// lifetime 30 min < MaxAge 1 h: default window (5 min, jittered) → a token every ~25-26 min
		{"default window", 30 * time.Minute, cryptofuse.TokenPolicy{MaxAge: time.Hour}, 22, 26},
		// explicit RefreshBefore 50 min capped at half of 2 h... lifetime 2 h: refresh at 1h..1h15 → earlier of MaxAge 90 min
		{"explicit earlier wins", 2 * time.Hour, cryptofuse.TokenPolicy{MaxAge: 90 * time.Minute, RefreshBefore: 50 * time.Minute}, 8, 11},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := a2New(t, []cryptofusetest.Option{cryptofusetest.WithExpiresIn(c.life)})
				ts := e.ts(t, c.p)
				defer ts.Close(bg)
				for range 600 {
					tok := mustTok(t, ts)
					if !e.srv.Active(tok.AccessToken) {
						t.Fatalf("handed out an expired token")
					}
					time.Sleep(time.Minute)
					synctest.Wait()
				}
				if n := len(e.rt.Issued()); n < c.min || n > c.max {
					t.Errorf("%s: %d tokens in 10 h, want %d..%d", c.name, n, c.min, c.max)
				}
			})
		})
	}
}

// A token endpoint that always fails: requests follow the backoff.
func TestAttack2RefreshBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := a2New(t, nil, cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 1}))
		e.srv.InjectFault(1000000, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Status: 400, ContentType: "application/json", Body: `{"error":"invalid_client"}`})
		ts := e.ts(t, cryptofuse.TokenPolicy{})
		defer ts.Close(bg)
		for range 6000 {
			if _, err := ts.Token(bg); err == nil {
				t.Fatal("Token succeeded against a failing server")
			}
			time.Sleep(100 * time.Millisecond)
		}
		n := e.srv.Counts().Token
		// 600 s: steps 1,2,4,...,60 s, each jittered to >= half: at most ~6 + 540/30 = 24
		if n < 10 || n > 30 {
			t.Errorf("600 s of Token every 100 ms against a failing server: %d requests, want 10..30", n)
		}
	})
}

// Reasons reported by TokenObtained.
func TestAttack2Reasons(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var rs []cryptofuse.TokenReason
		srv := cryptofusetest.NewServer(a2ID, a2Secret, cryptofusetest.WithoutListener())
		defer srv.Close()
		c, _ := cryptofuse.NewClient(a2ID, a2Secret, cryptofuse.WithBaseURL(srv.URL), cryptofuse.WithHTTPClient(&http.Client{Transport: srv.Transport()}),
			cryptofuse.WithHooks(cryptofuse.Hooks{TokenObtained: func(ev cryptofuse.TokenEvent) {
				mu.Lock()
				rs = append(rs, ev.Reason)
				mu.Unlock()
			}}))
		st := &a2MapStore{}
		ts1, _ := c.TokenSource(cryptofuse.TokenPolicy{Store: st})
		mustTok(t, ts1)
		synctest.Wait()
		ts1.Close(bg)
		ts, _ := c.TokenSource(cryptofuse.TokenPolicy{Store: st, MaxAge: time.Hour})
		defer ts.Close(bg)
		tok := mustTok(t, ts)
		synctest.Wait() // hooks run on the goroutine that did the work, maybe after Token returned
		ts.Invalidate(tok.AccessToken)
		mustTok(t, ts)
		synctest.Wait()
		ts.Rotate(bg)
		synctest.Wait()
		time.Sleep(61 * time.Minute)
		mustTok(t, ts)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		want := []cryptofuse.TokenReason{cryptofuse.ReasonFirst, cryptofuse.ReasonStore, cryptofuse.ReasonRejected, cryptofuse.ReasonRotate, cryptofuse.ReasonMaxAge}
		if len(rs) != len(want) {
			t.Fatalf("reasons = %v, want %v", rs, want)
		}
		for i := range want {
			if rs[i] != want[i] {
				t.Errorf("reasons = %v, want %v", rs, want)
				break
			}
		}
	})
}
