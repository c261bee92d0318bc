package cryptofuse_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
)

// Benchmarks of Revoke and Token against a loopback server, each beside its
// floor: the same request written by hand with net/http, over a transport
// from cryptofuse.NewTransport, the SDK's default one. Run them with:
//
//	go test -run '^$' -bench . -benchmem -count 10 . | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -col /impl bench.txt
//
// The server runs in a child process (this test binary, re-executed by
// startServerProcess), so that allocs/op and B/op count the client alone.
// conns/1000calls is the number of TCP connections the server accepted per
// 1000 calls: with a pool that works it is near 0.

const (
	benchID     = "svc-id"
	benchSecret = "s3cr3t-value"
	benchToken  = "Gx3mPq9ZkR2vT7wYb1nC5dF8hJ0lAs"

	// serverProcessEnv makes TestMain serve instead of running tests.
	serverProcessEnv = "CRYPTOFUSE_BENCH_SERVER"

	// tokenDelayEnv (a time.Duration) makes the child server wait that
	// long before answering a token request, and then answer with a new
	// access token each time, expiring in expiresInEnv seconds (default
	// 36000). The across-refresh benchmark (tokensource_bench_test.go)
	// sets both.
	tokenDelayEnv = "CRYPTOFUSE_BENCH_TOKEN_DELAY"
	expiresInEnv  = "CRYPTOFUSE_BENCH_EXPIRES_IN"

	// benchCallers is how many goroutines the parallel benchmarks call
	// from: RunParallel runs parallelism × GOMAXPROCS of them.
	benchCallers = 64
)

// tokenAnswer is the child server's answer to every token request: a small
// DOT-like token.
const tokenAnswer = `{"access_token": "kR2vT7wYb1nC5dF8hJ0lAsGx3mPq9Z", "expires_in": 36000, "token_type": "Bearer", "scope": "read write"}`

// serveProcess is the child's main: a minimal HTTP server answering like
// DOT's two endpoints (its token endpoint slowly when tokenDelayEnv is set)
// and like an API at GET /api/ (200 for any Bearer token, 401 without one),
// and a second listener whose GET /connections tells how many TCP
// connections the first one accepted. It prints "addr ctrl-addr" on
// stdout, then serves until its stdin closes (the parent exited or is done).
func serveProcess() int {
	api, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctrl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var conns atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /o/revoke_token/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = []string{"text/html; charset=utf-8"}
		w.WriteHeader(http.StatusOK)
	})
	tokenBody := []byte(tokenAnswer)
	if v := os.Getenv(tokenDelayEnv); v == "" {
		mux.HandleFunc("POST /o/token/", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header()["Content-Type"] = []string{"application/json"}
			_, _ = w.Write(tokenBody)
		})
	} else {
		delay, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		expiresIn := os.Getenv(expiresInEnv)
		if expiresIn == "" {
			expiresIn = "36000"
		}
		var issued atomic.Int64
		mux.HandleFunc("POST /o/token/", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
			w.Header()["Content-Type"] = []string{"application/json"}
			_, _ = fmt.Fprintf(w, `{"access_token": "kR2vT7wYb1nC5dF8hJ0l%010d", "expires_in": %s, "token_type": "Bearer", "scope": "read write"}`, issued.Add(1), expiresIn)
		})
	}
	apiBody := []byte(`{"ok": true}`)
	mux.HandleFunc("GET /api/", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.Header()["WWW-Authenticate"] = []string{"Bearer"}
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header()["Content-Type"] = []string{"application/json"}
		_, _ = w.Write(apiBody)
	})
	apiSrv := &http.Server{
		Handler: mux,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		},
	}
	ctrlSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strconv.FormatInt(conns.Load(), 10))
	})}
	go func() { _ = apiSrv.Serve(api) }()
	go func() { _ = ctrlSrv.Serve(ctrl) }()
	fmt.Printf("%s %s\n", api.Addr(), ctrl.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// serverProcess is a running child server.
type serverProcess struct {
	baseURL string // "http://127.0.0.1:port"
	ctrlURL string
	ctrl    *http.Client
}

// startServerProcess re-executes the test binary as a server (see
// serveProcess) and stops it when tb ends. env ("NAME=value") is added to
// the child's environment.
func startServerProcess(tb testing.TB, env ...string) *serverProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), serverProcessEnv+"=1"), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close() // the child exits when its stdin closes
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("server process: reading its address: %v", err)
	}
	var api, ctrl string
	if _, err := fmt.Sscan(line, &api, &ctrl); err != nil {
		tb.Fatalf("server process: got %q, want two addresses: %v", line, err)
	}
	sp := &serverProcess{
		baseURL: "http://" + api,
		ctrlURL: "http://" + ctrl + "/connections",
		ctrl:    &http.Client{Transport: &http.Transport{}},
	}
	tb.Cleanup(sp.ctrl.CloseIdleConnections)
	return sp
}

// connections returns how many TCP connections the server has accepted.
func (sp *serverProcess) connections(tb testing.TB) int64 {
	tb.Helper()
	resp, err := sp.ctrl.Get(sp.ctrlURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

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
	sp := startServerProcess(b)
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
					benchOne(b, sp, bc.make(b, sp.baseURL), cx.ctx, mode == "parallel")
				})
			}
		}
	}
}

// benchOne runs call in a benchmark loop, serially or from benchCallers
// goroutines, and reports the connections the server accepted.
func benchOne(b *testing.B, sp *serverProcess, call func(context.Context) error, ctx context.Context, parallel bool) {
	before := sp.connections(b)
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
	after := sp.connections(b)
	b.ReportMetric(float64(after-before)*1000/float64(b.N), "conns/1000calls")
}
