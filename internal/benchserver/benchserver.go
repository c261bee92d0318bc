// Package benchserver is the loopback server of the SDK's benchmarks and
// connection tests, in a child process, so that allocs/op and B/op count
// the client alone: the test binary re-executes itself (Start), and its
// TestMain serves instead of running tests (Child, Serve). It answers like
// django-oauth-toolkit's token and revoke endpoints and like an API, and
// counts the TCP connections it accepts. It is shared by the root module's
// benchmarks and the oauth2adapt module's comparisons with x/oauth2.
package benchserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The client and the token the benchmarks use.
const (
	ClientID = "svc-id"
	Secret   = "s3cr3t-value"
	Token    = "Gx3mPq9ZkR2vT7wYb1nC5dF8hJ0lAs"
)

const (
	// childEnv makes a test binary's TestMain serve instead of running
	// tests (see Child).
	childEnv = "CRYPTOFUSE_BENCH_SERVER"

	// TokenDelayEnv (a time.Duration) makes the child server wait that
	// long before answering a token request, and then answer with a new
	// access token each time, expiring in ExpiresInEnv seconds (default
	// 36000). The across-refresh benchmark (oauth2adapt's
	// tokensource_bench_test.go) sets both.
	TokenDelayEnv = "CRYPTOFUSE_BENCH_TOKEN_DELAY"
	ExpiresInEnv  = "CRYPTOFUSE_BENCH_EXPIRES_IN"

	// Callers is how many goroutines the parallel benchmarks call from:
	// RunParallel runs parallelism × GOMAXPROCS of them.
	Callers = 64
)

// TokenAnswer is the child server's answer to every token request: a small
// DOT-like token.
const TokenAnswer = `{"access_token": "kR2vT7wYb1nC5dF8hJ0lAsGx3mPq9Z", "expires_in": 36000, "token_type": "Bearer", "scope": "read write"}`

// Child reports whether this process is a child server that Start
// started: its TestMain then calls Serve instead of running tests.
//
//	func TestMain(m *testing.M) {
//		if benchserver.Child() {
//			os.Exit(benchserver.Serve())
//		}
//		os.Exit(m.Run())
//	}
func Child() bool { return os.Getenv(childEnv) == "1" }

// Serve is the child's main: a minimal HTTP server answering like
// DOT's two endpoints (its token endpoint slowly when TokenDelayEnv is set)
// and like an API at GET /api/ (200 for any Bearer token, 401 without one),
// and a second listener whose GET /connections tells how many TCP
// connections the first one accepted. It prints "addr ctrl-addr" on
// stdout, then serves until its stdin closes (the parent exited or is done).
func Serve() int {
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
	tokenBody := []byte(TokenAnswer)
	if v := os.Getenv(TokenDelayEnv); v == "" {
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
		expiresIn := os.Getenv(ExpiresInEnv)
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

// Process is a running child server.
type Process struct {
	BaseURL string // "http://127.0.0.1:port"
	ctrlURL string
	ctrl    *http.Client
}

// Start re-executes the test binary as a server (see Child and Serve) and
// stops it when tb ends. env ("NAME=value") is added to the child's
// environment.
func Start(tb testing.TB, env ...string) *Process {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
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
	sp := &Process{
		BaseURL: "http://" + api,
		ctrlURL: "http://" + ctrl + "/connections",
		ctrl:    &http.Client{Transport: &http.Transport{}},
	}
	tb.Cleanup(sp.ctrl.CloseIdleConnections)
	return sp
}

// Connections returns how many TCP connections the server has accepted.
func (sp *Process) Connections(tb testing.TB) int64 {
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
