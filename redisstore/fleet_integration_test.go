package redisstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/redisstore"
	"github.com/redis/go-redis/v9"
)

// The fleet against the real django-oauth-toolkit and a real Redis
// (i17, "Real parts"): 10 instances of a service in one process, each with
// a Client, a go-redis client and a TokenSource of its own over one
// redisstore prefix, keep one token of a client whose tokens live 5 s,
// rotated under MaxAge, while 32 goroutines call DOT's protected view
// through the instances' Transports. Part way through, Redis goes away (a
// proxy between the instances and Redis closes every connection and refuses
// new ones) and its records with it (a Redis restarted without
// persistence), and comes back.

// integrationEnv names the django-oauth-toolkit server (integration/).
const integrationEnv = "CRYPTOFUSE_INTEGRATION_URL"

// fleetClient is integration/'s "short" client, whose tokens live
// fleetTokenLife (SHORT_TOKEN_SECONDS in integration/dotserver/settings.py).
var fleetClient = struct{ id, secret string }{"cryptofuse-it-short", "cryptofuse-it-short-secret"}

const (
	fleetTokenLife   = 5 * time.Second
	fleetInstances   = 10
	fleetCallers     = 32
	fleetRun         = 20 * time.Second // the callers' run: four token lives
	fleetMaxAge      = 3 * time.Second  // rotation 2.25 to 3 s after issue, 2 s before expiry
	fleetRevokeAfter = 100 * time.Millisecond
	fleetOutageAfter = 7 * time.Second         // the outage begins at the first switch after this
	fleetOutage      = 1500 * time.Millisecond // less than a token's shortest service (3/4 MaxAge)
)

// fleetWire is every Client's http.RoundTripper: it counts what reaches
// the server, and keeps every access token the server issued, read from the
// token endpoint's answers.
type fleetWire struct {
	base http.RoundTripper

	mu     sync.Mutex
	issued []string // in order

	api, apiRejected, introspects, revokes atomic.Int64
}

func (w *fleetWire) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	switch req.URL.Path {
	case "/o/token/":
		if resp.StatusCode != http.StatusOK {
			break
		}
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var v struct {
			AccessToken string `json:"access_token"`
		}
		if rerr == nil && json.Unmarshal(body, &v) == nil && v.AccessToken != "" {
			w.mu.Lock()
			w.issued = append(w.issued, v.AccessToken)
			w.mu.Unlock()
		}
	case "/o/introspect/":
		w.introspects.Add(1)
	case "/o/revoke_token/":
		w.revokes.Add(1)
	default:
		w.api.Add(1)
		if resp.StatusCode != http.StatusOK {
			w.apiRejected.Add(1) // a token the fleet handed out, rejected (replayed or not)
		}
	}
	return resp, nil
}

func (w *fleetWire) tokens() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.issued)
}

// fleetLog is what the instances' hooks report.
type fleetLog struct {
	minted, storeErrors, invalidated atomic.Int64 // token 200s; failed store calls; 401s and dead 403s
	revokedAfter, revokedClose       atomic.Int64
	revokeErrors                     atomic.Int64

	mu     sync.Mutex
	latest [fleetInstances]string // each instance's current token, by fingerprint
	first  map[string]time.Time   // when a fingerprint was first installed by any instance
	last   map[string]time.Time   // when the last instance installed it
	count  map[string]int         // how many instances installed it
	reason map[string]cryptofuse.TokenReason
}

func (l *fleetLog) hooks(i int) cryptofuse.Hooks {
	return cryptofuse.Hooks{
		Attempt: func(ev cryptofuse.AttemptEvent) {
			if ev.Op == "token" && ev.StatusCode == http.StatusOK {
				l.minted.Add(1)
			}
		},
		TokenObtained: func(ev cryptofuse.TokenEvent) {
			now := time.Now()
			l.mu.Lock()
			defer l.mu.Unlock()
			l.latest[i] = ev.Fingerprint
			if _, ok := l.first[ev.Fingerprint]; !ok {
				l.first[ev.Fingerprint] = now
				l.reason[ev.Fingerprint] = ev.Reason
			}
			l.last[ev.Fingerprint] = now
			l.count[ev.Fingerprint]++
		},
		Store: func(ev cryptofuse.StoreEvent) {
			if ev.Outcome == cryptofuse.StoreError {
				l.storeErrors.Add(1)
			}
		},
		Invalidated: func(cryptofuse.InvalidateEvent) { l.invalidated.Add(1) },
		Revoked: func(ev cryptofuse.RevokeEvent) {
			if ev.Err != nil {
				l.revokeErrors.Add(1)
			}
			if ev.When == "close" {
				l.revokedClose.Add(1)
			} else {
				l.revokedAfter.Add(1)
			}
		},
	}
}

// everyone returns the fingerprint all instances hold, or "".
func (l *fleetLog) everyone() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	fp := l.latest[0]
	for _, x := range l.latest {
		if x != fp {
			return ""
		}
	}
	return fp
}

// switches returns, for every token that all instances installed, how long
// after the first instance installed it the last one did.
func (l *fleetLog) switches() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var d []time.Duration
	for fp, n := range l.count {
		if n >= fleetInstances {
			d = append(d, l.last[fp].Sub(l.first[fp]))
		}
	}
	slices.Sort(d)
	return d
}

// fleetEnv returns the DOT server's base URL and the Redis address, or
// skips the test.
func fleetEnv(t *testing.T) (base, addr string) {
	t.Helper()
	base, addr = os.Getenv(integrationEnv), os.Getenv(addrEnv)
	if base == "" || addr == "" {
		t.Skipf("%s and %s must both be set: this test needs a django-oauth-toolkit server (integration/start.sh) and a Redis (integration/redis.sh); integration/ci.sh runs it", integrationEnv, addrEnv)
	}
	return strings.TrimRight(base, "/"), addr
}

// TestFleetIntegration: 10 instances over one redisstore keep one token
// for the fleet against real django-oauth-toolkit, through a Redis outage.
//
// Bound: an ideal fleet mints one token per MaxAge rotation, and a token is
// replaced no sooner than 3/4 MaxAge after it was issued, so over a run of
// T it mints at most L = ceil(T / (3/4 MaxAge)) tokens ("lifetimes": the
// shortest life a token gets under the policy, first token included). The
// test asserts minted <= L + 2, where 10 instances with a store each would
// mint about 10 L. The outage lies between two rotations (it begins once
// every instance holds the newest token and lasts less than 3/4 MaxAge), so
// it may cost at most the +2; an outage across a rotation costs one token
// per instance that rotates during it, since each then gets one of its own
// (tokens of 5 s live far less than the 2 min an instance keeps its own
// token through an outage).
//
// Asserted as counts: tokens minted (the hooks' token 200s, equal to the
// token answers on the wire) <= L + 2; 0 non-200 answers to the callers and
// 0 on the wire (no request rejected for a token the fleet handed out); the
// fleet back on one token, stored anew, after Redis returned empty; no
// revocation failed; and after the last Close (RevokeOnClose) every token
// the server issued in the run introspects inactive.
func TestFleetIntegration(t *testing.T) {
	base, addr := fleetEnv(t)
	prefix := testPrefix(t)
	p := newProxy(t, addr)
	direct := newClient(t, addr)

	httpBase := cryptofuse.NewTransport()
	httpBase.MaxIdleConnsPerHost = 2 * fleetCallers
	t.Cleanup(httpBase.CloseIdleConnections)
	w := &fleetWire{base: httpBase}
	log := &fleetLog{first: map[string]time.Time{}, last: map[string]time.Time{}, count: map[string]int{}, reason: map[string]cryptofuse.TokenReason{}}
	policy := cryptofuse.TokenPolicy{MaxAge: fleetMaxAge, RevokeAfter: fleetRevokeAfter, RevokeOnClose: true, Introspect403: true}

	sources := make([]*cryptofuse.TokenSource, fleetInstances)
	for i := range sources {
		rdb := redis.NewClient(&redis.Options{Addr: p.addr(), ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = rdb.Close() })
		c, err := cryptofuse.NewClient(fleetClient.id, fleetClient.secret, cryptofuse.WithBaseURL(base),
			cryptofuse.WithHTTPClient(&http.Client{Transport: w}), cryptofuse.WithHooks(log.hooks(i)))
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		p := policy
		p.Store = redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithPollInterval(time.Second))
		if sources[i], err = c.TokenSource(p); err != nil {
			t.Fatalf("TokenSource: %v", err)
		}
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			closeAll(t, sources)
		}
	})

	// The callers: 32 goroutines, each on one instance's Transport.
	var (
		stop               atomic.Bool
		requests, failures atomic.Int64
		failMu             sync.Mutex
		failed             []string
		callers            sync.WaitGroup
	)
	start := time.Now()
	for g := range fleetCallers {
		hc := &http.Client{Transport: sources[g%fleetInstances].Transport(w)}
		callers.Go(func() {
			for !stop.Load() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				status, err := fleetCall(ctx, hc, base+"/api/me/")
				cancel()
				requests.Add(1)
				if err != nil || status != http.StatusOK {
					failures.Add(1)
					failMu.Lock()
					if len(failed) < 10 {
						failed = append(failed, fmt.Sprintf("caller %d: status %d, error %v", g, status, err))
					}
					failMu.Unlock()
				}
			}
		})
	}

	// The outage: right after the first rotation after fleetOutageAfter
	// has reached every instance, Redis goes away with its records.
	time.Sleep(fleetOutageAfter)
	held := log.everyone()
	var before string
	for deadline := time.Now().Add(10 * time.Second); before == "" || before == held; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no new token reached every instance within 10 s")
		}
		before = log.everyone()
	}
	down := time.Now()
	p.set(proxyDown)
	flushPrefix(t, direct, prefix)
	time.Sleep(fleetOutage)
	p.set(proxyUp)
	outage := time.Since(down)
	errorsBefore := log.storeErrors.Load()

	time.Sleep(fleetRun - time.Since(start))
	stop.Store(true)
	callers.Wait()
	elapsed := time.Since(start)

	// Back on one token, stored anew: the fleet's record exists again.
	var after string
	for deadline := time.Now().Add(10 * time.Second); after == "" || after == before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after the outage: the instances did not all hold one new token within 10 s")
		}
		after = log.everyone()
	}
	keys, err := direct.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatalf("KEYS after the outage: %v", err)
	}
	if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, "}") }) {
		t.Errorf("Redis keys under the prefix after the outage: got %q, want the fleet's record again", keys)
	}

	closeAll(t, sources)
	closed = true

	// No token of the run is still active.
	checker, err := cryptofuse.NewClient(fleetClient.id, fleetClient.secret, cryptofuse.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	issued := w.tokens()
	active := 0
	for i, tok := range issued {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		in, err := checker.Introspect(ctx, tok)
		cancel()
		switch {
		case err != nil:
			t.Errorf("Introspect of token #%d (%s): %v", i+1, cryptofuse.Fingerprint(tok), err)
		case in.Active:
			active++
			t.Errorf("token #%d (%s) of the run: active after the last Close with RevokeOnClose, want inactive", i+1, cryptofuse.Fingerprint(tok))
		}
	}

	lifetimes := int64(math.Ceil(float64(elapsed) / float64(fleetMaxAge*3/4)))
	minted := log.minted.Load()
	sw := log.switches()
	t.Logf("fleet: DOT at %s: %d instances, %d callers for %v: tokens minted %d (%d token answers on the wire; a store per instance: about %d), lifetimes L=%d (3/4 MaxAge %v each), bound L+2=%d",
		base, fleetInstances, fleetCallers, elapsed.Round(time.Millisecond), minted, len(issued), fleetInstances*lifetimes,
		lifetimes, fleetMaxAge*3/4, lifetimes+2)
	t.Logf("fleet: requests %d, non-200 to callers %d, rejected on the wire %d (dead-token 403s and 401s; invalidations %d, introspections %d)",
		requests.Load(), failures.Load(), w.apiRejected.Load(), log.invalidated.Load(), w.introspects.Load())
	t.Logf("fleet: Redis outage %v (records lost with it), store calls failed %d (%d during it), revocations %d after RevokeAfter + %d at Close (%d failed), still active after Close %d of %d",
		outage.Round(time.Millisecond), log.storeErrors.Load(), errorsBefore, log.revokedAfter.Load(), log.revokedClose.Load(),
		log.revokeErrors.Load(), active, len(issued))
	if len(sw) > 0 {
		t.Logf("fleet: switch (first to last instance on a new token) over %d tokens: p50 %v, max %v",
			len(sw), sw[len(sw)/2].Round(time.Microsecond), sw[len(sw)-1].Round(time.Microsecond))
	}

	if minted > lifetimes+2 {
		t.Errorf("tokens minted: got %d, want at most L+2 = %d (L = %d lifetimes of %v in %v)", minted, lifetimes+2, lifetimes, fleetMaxAge*3/4, elapsed.Round(time.Millisecond))
	}
	if minted < 3 {
		t.Errorf("tokens minted: got %d, want at least 3 (the first, and MaxAge rotations before and after the outage)", minted)
	}
	if int64(len(issued)) != minted {
		t.Errorf("token answers on the wire: got %d, want %d (the hooks' count)", len(issued), minted)
	}
	if got := failures.Load(); got != 0 {
		t.Errorf("requests that failed for the callers: got %d of %d, want 0; first: %q", got, requests.Load(), failed)
	}
	if got := w.apiRejected.Load(); got != 0 {
		t.Errorf("requests the server rejected (on the wire, replays included): got %d, want 0", got)
	}
	if got := log.revokeErrors.Load(); got != 0 {
		t.Errorf("failed revocations: got %d, want 0", got)
	}
	if t.Failed() { // every token of the run, in order, to tell what went wrong
		log.mu.Lock()
		fps := make([]string, 0, len(log.first))
		for fp := range log.first {
			fps = append(fps, fp)
		}
		slices.SortFunc(fps, func(a, b string) int { return log.first[a].Compare(log.first[b]) })
		for _, fp := range fps {
			t.Logf("fleet: token %s at %v (outage %v to %v): %s, installed by %d instances", fp, log.first[fp].Sub(start).Round(time.Millisecond),
				down.Sub(start).Round(time.Millisecond), (down.Add(outage)).Sub(start).Round(time.Millisecond), log.reason[fp], log.count[fp])
		}
		log.mu.Unlock()
	}
}

// fleetCall GETs url through hc and returns the status.
func fleetCall(ctx context.Context, hc *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// flushPrefix deletes every Redis key under prefix, as a Redis restarted
// without persistence has none.
func flushPrefix(t *testing.T, rdb *redis.Client, prefix string) {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatalf("KEYS: %v", err)
	}
	if len(keys) == 0 {
		t.Fatal("no Redis key under the fleet's prefix before the outage")
	}
	if err := rdb.Del(context.Background(), keys...).Err(); err != nil {
		t.Fatalf("DEL: %v", err)
	}
}

// closeAll closes every instance at once.
func closeAll(t *testing.T, sources []*cryptofuse.TokenSource) {
	t.Helper()
	var wg sync.WaitGroup
	for i, ts := range sources {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := ts.Close(ctx); err != nil {
				t.Errorf("Close of instance %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}
