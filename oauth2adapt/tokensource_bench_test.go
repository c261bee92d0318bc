package oauth2adapt_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/internal/benchserver"
)

// Benchmarks of the managed TokenSource beside golang.org/x/oauth2's
// ReuseTokenSource over clientcredentials, measured side by side in one run
// against the same child server (internal/benchserver). Run
// them with:
//
//	go test -run '^$' -bench 'TokenSource' -benchmem -benchtime 500ms -count 5 . | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -col /impl bench.txt
//
//   - BenchmarkTokenSource_Token: Token on a fresh token, serially (par=1)
//     and from 64 goroutines (par=64), with two floors: one atomic pointer
//     load (impl=floor-atomic), and the same load followed by a clock read
//     and an expiry check (impl=floor-clock), what a hot path without the
//     TokenSource's expiry timer would pay.
//   - BenchmarkTokenSource_Transport: GET {base}/api/ through ts.Transport and
//     through oauth2.Transport, over one base transport from
//     cryptofuse.NewTransport.
//   - BenchmarkTokenSource_AcrossRefresh: 64 goroutines calling the API for
//     acrossWindow while the token endpoint takes acrossTokenDelay to answer,
//     with tokens short-lived enough to be refreshed in the window. It reports
//     latency percentiles, not ns/op (its B/op and allocs/op are per
//     window, and mean nothing), and takes about 8 s per count: with a
//     -benchtime under 3 s each side runs one window.

// newManagedSource returns a TokenSource of a client of the server at
// baseURL, sending its token requests with hc, closed when tb ends.
func newManagedSource(tb testing.TB, baseURL string, hc *http.Client, p cryptofuse.TokenPolicy) *cryptofuse.TokenSource {
	tb.Helper()
	c, err := cryptofuse.NewClient(benchserver.ClientID, benchserver.Secret, cryptofuse.WithBaseURL(baseURL), cryptofuse.WithHTTPClient(hc))
	if err != nil {
		tb.Fatal(err)
	}
	ts, err := c.TokenSource(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ts.Close(context.Background()) })
	return ts
}

// newOAuth2Source returns what a user of x/oauth2 writes for the same
// client: ReuseTokenSource over clientcredentials, with the Basic header
// (RFC 6749 §2.3.1) the SDK sends, so that x/oauth2 does not probe, and
// token requests sent with hc. earlyExpiry 0 keeps x/oauth2's default of
// 10 s.
func newOAuth2Source(baseURL string, hc *http.Client, earlyExpiry time.Duration) oauth2.TokenSource {
	cfg := clientcredentials.Config{
		ClientID:     benchserver.ClientID,
		ClientSecret: benchserver.Secret,
		TokenURL:     baseURL + "/o/token/",
		Scopes:       []string{"read", "write"},
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	if earlyExpiry == 0 {
		return oauth2.ReuseTokenSource(nil, cfg.TokenSource(ctx))
	}
	return oauth2.ReuseTokenSourceWithExpiry(nil, cfg.TokenSource(ctx), earlyExpiry)
}

// setParallelism makes b.RunParallel run benchserver.Callers goroutines.
func setParallelism(b *testing.B) {
	b.SetParallelism(max(1, benchserver.Callers/runtime.GOMAXPROCS(0)))
}

// floorEntry stands for the TokenSource's current entry in the floors.
type floorEntry struct {
	tok    *cryptofuse.Token
	expiry time.Time
}

// BenchmarkTokenSource_Token measures Token on a fresh token. Each loop is
// written out, without a function value per call, so that the floors measure
// the load alone.
func BenchmarkTokenSource_Token(b *testing.B) {
	sp := benchserver.Start(b)
	ctx := context.Background()
	hc := &http.Client{Transport: cryptofuse.NewTransport()}
	b.Cleanup(hc.CloseIdleConnections)
	ts := newManagedSource(b, sp.BaseURL, hc, cryptofuse.TokenPolicy{})
	xs := newOAuth2Source(sp.BaseURL, hc, 0)
	if _, err := ts.Token(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := xs.Token(); err != nil {
		b.Fatal(err)
	}
	var cur atomic.Pointer[floorEntry]
	cur.Store(&floorEntry{tok: &cryptofuse.Token{AccessToken: benchserver.Token}, expiry: time.Now().Add(time.Hour)})

	impls := []struct {
		name     string
		serial   func(b *testing.B)
		parallel func(pb *testing.PB) error
	}{
		{"cryptofuse", func(b *testing.B) {
			for b.Loop() {
				if _, err := ts.Token(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}, func(pb *testing.PB) error {
			for pb.Next() {
				if _, err := ts.Token(ctx); err != nil {
					return err
				}
			}
			return nil
		}},
		{"x-oauth2", func(b *testing.B) {
			for b.Loop() {
				if _, err := xs.Token(); err != nil {
					b.Fatal(err)
				}
			}
		}, func(pb *testing.PB) error {
			for pb.Next() {
				if _, err := xs.Token(); err != nil {
					return err
				}
			}
			return nil
		}},
		{"floor-atomic", func(b *testing.B) {
			for b.Loop() {
				if cur.Load().tok == nil {
					b.Fatal("no token")
				}
			}
		}, func(pb *testing.PB) error {
			for pb.Next() {
				if cur.Load().tok == nil {
					return fmt.Errorf("no token")
				}
			}
			return nil
		}},
		{"floor-clock", func(b *testing.B) {
			for b.Loop() {
				if e := cur.Load(); !time.Now().Before(e.expiry) {
					b.Fatal("expired")
				}
			}
		}, func(pb *testing.PB) error {
			for pb.Next() {
				if e := cur.Load(); !time.Now().Before(e.expiry) {
					return fmt.Errorf("expired")
				}
			}
			return nil
		}},
	}
	for _, par := range []int{1, benchserver.Callers} {
		for _, impl := range impls {
			b.Run(fmt.Sprintf("impl=%s/par=%d", impl.name, par), func(b *testing.B) {
				b.ReportAllocs()
				if par == 1 {
					impl.serial(b)
					return
				}
				setParallelism(b)
				b.RunParallel(func(pb *testing.PB) {
					if err := impl.parallel(pb); err != nil {
						b.Error(err)
					}
				})
			})
		}
	}
}

// apiCall sends GET url with hc and reads the answer, as a caller of the API
// does.
func apiCall(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// apiClients returns an *http.Client for the API through ts.Transport and
// one through oauth2.Transport, both over base; token requests go over base
// too.
func apiClients(tb testing.TB, baseURL string, base http.RoundTripper, p cryptofuse.TokenPolicy, earlyExpiry time.Duration) map[string]*http.Client {
	tb.Helper()
	tokens := &http.Client{Transport: base}
	ts := newManagedSource(tb, baseURL, tokens, p)
	xs := newOAuth2Source(baseURL, tokens, earlyExpiry)
	return map[string]*http.Client{
		"cryptofuse": {Transport: ts.Transport(base)},
		"x-oauth2":   {Transport: &oauth2.Transport{Source: xs, Base: base}},
	}
}

// BenchmarkTokenSource_Transport measures an API call through each
// RoundTripper, on a fresh token.
func BenchmarkTokenSource_Transport(b *testing.B) {
	sp := benchserver.Start(b)
	base := cryptofuse.NewTransport()
	b.Cleanup(base.CloseIdleConnections)
	clients := apiClients(b, sp.BaseURL, base, cryptofuse.TokenPolicy{}, 0)
	url := sp.BaseURL + "/api/"
	ctx := context.Background()
	for _, name := range []string{"cryptofuse", "x-oauth2"} {
		if err := apiCall(ctx, clients[name], url); err != nil { // the first token
			b.Fatal(err)
		}
	}
	for _, par := range []int{1, benchserver.Callers} {
		for _, name := range []string{"cryptofuse", "x-oauth2"} {
			hc := clients[name]
			b.Run(fmt.Sprintf("impl=%s/par=%d", name, par), func(b *testing.B) {
				b.ReportAllocs()
				if par == 1 {
					for b.Loop() {
						if err := apiCall(ctx, hc, url); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				setParallelism(b)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := apiCall(ctx, hc, url); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// The across-refresh measurement. Tokens live acrossExpiresIn seconds and
// both sides replace them acrossEarly before expiry: the TokenSource with
// RefreshBefore (which it jitters down by up to a quarter), x/oauth2 with
// ReuseTokenSourceWithExpiry (its default margin, 10 s, is longer than the
// token's life). The first token is taken before the window opens, so each
// side refreshes about 2 s into its 3 s window, once.
const (
	acrossTokenDelay = 300 * time.Millisecond
	acrossExpiresIn  = 3 // seconds
	acrossEarly      = time.Second
	acrossWindow     = 3 * time.Second
	acrossMaxCalls   = 4000 // per goroutine: a bound on the calls and their memory
	acrossSlow       = 100 * time.Millisecond
)

// span is a time interval, as offsets from a window's start.
type span struct{ from, to time.Duration }

func (s span) overlaps(o span) bool { return s.from < o.to && o.from < s.to }

// tokenSpans is a RoundTripper that records when each token request it
// sends is in flight.
type tokenSpans struct {
	base  http.RoundTripper
	mu    sync.Mutex
	start time.Time // the window's start
	spans []span
}

func (t *tokenSpans) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	start := t.start
	t.mu.Unlock()
	from := time.Since(start)
	resp, err := t.base.RoundTrip(req)
	t.mu.Lock()
	t.spans = append(t.spans, span{from, time.Since(start)})
	t.mu.Unlock()
	return resp, err
}

// reset starts a new window at start and returns the spans recorded since
// the last reset.
func (t *tokenSpans) reset(start time.Time) []span {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.spans
	t.start, t.spans = start, nil
	return old
}

// BenchmarkTokenSource_AcrossRefresh runs benchserver.Callers goroutines calling the
// API through each RoundTripper for acrossWindow, while the token endpoint
// takes acrossTokenDelay to answer, and reports the latency of the calls:
// p50, p99 and max of all of them, the max of those in flight during a
// token request (refresh-max-ms), how many took longer than acrossSlow, and
// how many token requests the window saw and how long the longest took. It asserts nothing about time:
// the machine may be shared.
func BenchmarkTokenSource_AcrossRefresh(b *testing.B) {
	sp := benchserver.Start(b, benchserver.TokenDelayEnv+"="+acrossTokenDelay.String(), fmt.Sprintf("%s=%d", benchserver.ExpiresInEnv, acrossExpiresIn))
	url := sp.BaseURL + "/api/"
	for _, name := range []string{"cryptofuse", "x-oauth2"} {
		b.Run("impl="+name, func(b *testing.B) {
			base := cryptofuse.NewTransport()
			b.Cleanup(base.CloseIdleConnections)
			spans := &tokenSpans{base: base, start: time.Now()}
			tokens := &http.Client{Transport: spans} // API calls go over base itself
			var hc *http.Client
			if name == "cryptofuse" {
				ts := newManagedSource(b, sp.BaseURL, tokens, cryptofuse.TokenPolicy{RefreshBefore: acrossEarly})
				hc = &http.Client{Transport: ts.Transport(base)}
			} else {
				xs := newOAuth2Source(sp.BaseURL, tokens, acrossEarly)
				hc = &http.Client{Transport: &oauth2.Transport{Source: xs, Base: base}}
			}
			var all, atRefresh []time.Duration
			refreshes := 0
			var tokenMax time.Duration // the longest token request
			for range b.N {
				calls, refs := acrossWindowRun(b, hc, url, spans)
				refreshes += len(refs)
				for _, r := range refs {
					tokenMax = max(tokenMax, r.to-r.from)
				}
				for _, c := range calls {
					d := c.to - c.from
					all = append(all, d)
					if slices.ContainsFunc(refs, c.overlaps) {
						atRefresh = append(atRefresh, d)
					}
				}
			}
			slices.Sort(all)
			slices.Sort(atRefresh)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			pct := func(p float64) float64 { return ms(all[min(len(all)-1, int(p*float64(len(all))))]) }
			var refreshMax time.Duration
			if len(atRefresh) > 0 {
				refreshMax = atRefresh[len(atRefresh)-1]
			}
			slow, slowAtRefresh := len(all)-atMost(all, acrossSlow), len(atRefresh)-atMost(atRefresh, acrossSlow)
			perRun := func(n int) float64 { return float64(n) / float64(b.N) }
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(ms(all[len(all)-1]), "max-ms")
			b.ReportMetric(ms(refreshMax), "refresh-max-ms")
			b.ReportMetric(perRun(slow), "over100ms-calls")
			b.ReportMetric(perRun(slowAtRefresh), "refresh-over100ms-calls")
			b.ReportMetric(perRun(len(all)), "calls")
			b.ReportMetric(perRun(refreshes), "refreshes")
			b.ReportMetric(ms(tokenMax), "token-max-ms")
			b.Logf("%s, per window of %v: %.0f calls from %d goroutines, %.0f token requests (at most %.0f ms; the server takes %v); p50 %.2f ms, p99 %.2f ms, max %.1f ms (%.0f over %v); during a token request: %.0f calls, max %.1f ms (%.0f over %v)",
				name, acrossWindow, perRun(len(all)), benchserver.Callers, perRun(refreshes), ms(tokenMax), acrossTokenDelay,
				pct(0.50), pct(0.99), ms(all[len(all)-1]), perRun(slow), acrossSlow,
				perRun(len(atRefresh)), ms(refreshMax), perRun(slowAtRefresh), acrossSlow)
			if refreshes < b.N {
				b.Logf("%s: a window saw no token request: the machine was too slow for this measurement to mean anything", name)
			}
		})
	}
}

// atMost is how many durations of sorted d are at most limit.
func atMost(d []time.Duration, limit time.Duration) int {
	n, _ := slices.BinarySearch(d, limit+1)
	return n
}

// acrossWindowRun takes the first token and warms the pool, then calls the
// API from benchserver.Callers goroutines for acrossWindow, and returns every
// call's span and those of the token requests sent meanwhile.
func acrossWindowRun(b *testing.B, hc *http.Client, url string, tokens *tokenSpans) (calls, refreshes []span) {
	b.StopTimer()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, benchserver.Callers)
	for range benchserver.Callers { // the first token, and one connection each
		wg.Go(func() {
			if err := apiCall(ctx, hc, url); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.StartTimer()
	start := time.Now()
	tokens.reset(start)
	perG := make([][]span, benchserver.Callers)
	for g := range perG {
		perG[g] = make([]span, 0, acrossMaxCalls)
		wg.Go(func() {
			for len(perG[g]) < acrossMaxCalls {
				from := time.Since(start)
				if from >= acrossWindow {
					return
				}
				if err := apiCall(ctx, hc, url); err != nil {
					errs <- err
					return
				}
				perG[g] = append(perG[g], span{from, time.Since(start)})
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	// Let the token request in flight, if any, land before the next window.
	time.Sleep(acrossTokenDelay + 100*time.Millisecond)
	return slices.Concat(perG...), tokens.reset(time.Now())
}
