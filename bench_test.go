package cryptofuse_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/internal/benchserver"
)

// Benchmarks of Revoke and Token against a loopback server, each beside its
// floor: the same request written by hand with net/http, over a transport
// from cryptofuse.NewTransport, the SDK's default one. Run them with:
//
//	go test -run '^$' -bench . -benchmem -count 10 . | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -col /impl bench.txt
//
// The server runs in a child process (this test binary, re-executed by
// benchserver.Start), so that allocs/op and B/op count the client alone.
// conns/1000calls is the number of TCP connections the server accepted per
// 1000 calls: with a pool that works it is near 0.

// The client, the token and the server of the benchmarks, from
// internal/benchserver (shared with the oauth2adapt module's benchmarks).
const (
	benchID      = benchserver.ClientID
	benchSecret  = benchserver.Secret
	benchToken   = benchserver.Token
	benchCallers = benchserver.Callers
)

// floor is the least a hand-written client must do for the same calls: POST
// the form with a precomputed Basic header, read the body, close it, and for
// a token decode the JSON.
type floor struct {
	hc                  *http.Client
	revokeURL, tokenURL string
	authorization       []string
}

var (
	floorContentType = []string{"application/x-www-form-urlencoded"}
	floorUserAgent   = []string{"cryptofuse-go/" + cryptofuse.Version}
)

// floorClient is shared by every floor, as the SDK's default client is shared
// by every Client built without WithHTTPClient: both pools stay warm from one
// benchmark to the next. Its transport is the SDK's default one
// (cryptofuse.NewTransport), so that the floor pays for the same pooling,
// timeouts and dialer.
var floorClient = sync.OnceValue(func() *http.Client {
	return &http.Client{Transport: cryptofuse.NewTransport()}
})

// newFloor returns a floor that sends with hc to the server at baseURL.
func newFloor(hc *http.Client, baseURL string) *floor {
	creds := url.QueryEscape(benchID) + ":" + url.QueryEscape(benchSecret)
	return &floor{
		hc:            hc,
		revokeURL:     baseURL + "/o/revoke_token/",
		tokenURL:      baseURL + "/o/token/",
		authorization: []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(creds))},
	}
}

func (f *floor) post(ctx context.Context, endpoint, form string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header["Authorization"] = f.authorization
	req.Header["Content-Type"] = floorContentType
	req.Header["User-Agent"] = floorUserAgent
	return f.hc.Do(req)
}

func (f *floor) revoke(ctx context.Context, token string) error {
	resp, err := f.post(ctx, f.revokeURL, "token="+url.QueryEscape(token)+"&token_type_hint=access_token")
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revoke: status %d", resp.StatusCode)
	}
	return nil
}

type floorToken struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	ExpiresIn    int64  `json:"expires_in"`
}

func (f *floor) token(ctx context.Context) (*floorToken, error) {
	resp, err := f.post(ctx, f.tokenURL, "grant_type=client_credentials&scope=read+write")
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("token: status %d", resp.StatusCode)
	}
	var tok floorToken
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, err
	}
	return &tok, nil
}

// benchCall is one call under benchmark, built for a server's base URL.
type benchCall struct {
	impl string // "floor" or "sdk"
	make func(tb testing.TB, baseURL string) func(context.Context) error
}

// newBenchClient returns a Client with the SDK's defaults: its shared
// default *http.Client, pointed at baseURL.
func newBenchClient(tb testing.TB, baseURL string) *cryptofuse.Client {
	tb.Helper()
	c, err := cryptofuse.NewClient(benchID, benchSecret, cryptofuse.WithBaseURL(baseURL))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

var revokeCalls = []benchCall{
	{"floor", func(tb testing.TB, baseURL string) func(context.Context) error {
		f := newFloor(floorClient(), baseURL)
		return func(ctx context.Context) error { return f.revoke(ctx, benchToken) }
	}},
	{"sdk", func(tb testing.TB, baseURL string) func(context.Context) error {
		c := newBenchClient(tb, baseURL)
		return func(ctx context.Context) error { return c.Revoke(ctx, benchToken, cryptofuse.AccessTokenHint) }
	}},
}

var tokenCalls = []benchCall{
	{"floor", func(tb testing.TB, baseURL string) func(context.Context) error {
		f := newFloor(floorClient(), baseURL)
		return func(ctx context.Context) error {
			tok, err := f.token(ctx)
			if err == nil && tok.AccessToken == "" {
				err = fmt.Errorf("token: no access_token")
			}
			return err
		}
	}},
	{"sdk", func(tb testing.TB, baseURL string) func(context.Context) error {
		c := newBenchClient(tb, baseURL)
		return func(ctx context.Context) error {
			tok, err := c.Token(ctx)
			if err == nil && tok.AccessToken == "" {
				err = fmt.Errorf("token: no access_token")
			}
			return err
		}
	}},
}

func BenchmarkRevoke(b *testing.B) { runBenchCalls(b, revokeCalls) }

func BenchmarkToken(b *testing.B) { runBenchCalls(b, tokenCalls) }

// runBenchCalls benchmarks each call serially and from benchCallers
// goroutines, against one child server, with two contexts:
//
//   - ctx=background: context.Background(), as a caller without a deadline
//     passes. The SDK then bounds the call with DefaultTimeout (a
//     context.WithTimeout per call); the floor does not bound it at all.
//   - ctx=deadline: one context with a deadline, shared by every call, as a
//     caller that sets its own deadline passes. Both pay the same for it.
func runBenchCalls(b *testing.B, calls []benchCall) {
	sp := benchserver.Start(b)
	deadline, cancel := context.WithTimeout(context.Background(), time.Hour)
	b.Cleanup(cancel)
	contexts := []struct {
		name string
		ctx  context.Context
	}{
		{"background", context.Background()},
		{"deadline", deadline},
	}
	for _, cx := range contexts {
		for _, mode := range []string{"serial", "parallel"} {
			for _, bc := range calls {
				b.Run("ctx="+cx.name+"/mode="+mode+"/impl="+bc.impl, func(b *testing.B) {
					benchOne(b, sp, bc.make(b, sp.BaseURL), cx.ctx, mode == "parallel")
				})
			}
		}
	}
}

// benchOne runs call in a benchmark loop, serially or from benchCallers
// goroutines, and reports the connections the server accepted.
func benchOne(b *testing.B, sp *benchserver.Process, call func(context.Context) error, ctx context.Context, parallel bool) {
	before := sp.Connections(b)
	b.ReportAllocs()
	if parallel {
		b.SetParallelism(max(1, benchCallers/runtime.GOMAXPROCS(0)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := call(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
	} else {
		for b.Loop() {
			if err := call(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	after := sp.Connections(b)
	b.ReportMetric(float64(after-before)*1000/float64(b.N), "conns/1000calls")
}
