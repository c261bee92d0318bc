package cryptofusetest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// closeBound is a generous upper bound on how long a Server.Close, or a
// handler that must stop, may take. Only a hang exceeds it.
const closeBound = 10 * time.Second

// TestFaultAnswers checks the canned answers of faults with a Status.
func TestFaultAnswers(t *testing.T) {
	auth := encodedBasic(testID, testSecret)
	html := "text/html; charset=utf-8"
	tests := []struct {
		name  string
		fault Fault
		call  call
		want  want
	}{
		{
			name:  "503 with Retry-After and the default page",
			fault: Fault{Status: 503, RetryAfter: "1"},
			call:  call{path: revokePath, auth: auth, body: "token=x"},
			want: want{status: 503, body: faultPage(503),
				header: map[string]string{"Content-Type": html, "Retry-After": "1"}},
		},
		{
			name:  "429 with an HTTP date, verbatim",
			fault: Fault{Status: 429, RetryAfter: "Wed, 21 Oct 2015 07:28:00 GMT"},
			call:  call{path: tokenPath, auth: auth, body: "grant_type=client_credentials"},
			want: want{status: 429, body: faultPage(429),
				header: map[string]string{"Content-Type": html, "Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}},
		},
		{
			name:  "garbage Retry-After, verbatim",
			fault: Fault{Status: 503, RetryAfter: "-5 or so"},
			call:  call{path: revokePath, auth: auth, body: "token=x"},
			want: want{status: 503, body: faultPage(503),
				header: map[string]string{"Content-Type": html, "Retry-After": "-5 or so"}},
		},
		{
			name:  "200 with a body that is not JSON",
			fault: Fault{Status: 200, ContentType: "application/json", Body: `{"access_token": `},
			call:  call{path: tokenPath, auth: auth, body: "grant_type=client_credentials"},
			want: want{status: 200, body: `{"access_token": `,
				header: map[string]string{"Content-Type": "application/json"}},
		},
		{
			name:  "status without a text",
			fault: Fault{Status: 599},
			call:  call{path: "/anything"},
			want:  want{status: 599, body: faultPage(599), header: map[string]string{"Content-Type": html}},
		},
		{
			name:  "BodySize repeats the body and cuts the last copy",
			fault: Fault{Status: 502, ContentType: "text/plain", Body: "abc", BodySize: 8},
			call:  call{path: revokePath, auth: auth, body: "token=x"},
			want:  want{status: 502, body: "abcabcab", header: map[string]string{"Content-Type": "text/plain"}},
		},
		{
			name:  "BodySize below the body's length changes nothing",
			fault: Fault{Status: 500, Body: "abc", BodySize: 2},
			call:  call{path: revokePath, auth: auth, body: "token=x"},
			want:  want{status: 500, body: "abc", header: map[string]string{"Content-Type": html}},
		},
		{
			name:  "204 has no body",
			fault: Fault{Status: 204, Body: "ignored"},
			call:  call{path: revokePath, auth: auth, body: "token=x"},
			want:  want{status: 204, header: map[string]string{"Content-Type": html}},
		},
		{
			name:  "a large request body is read before the answer",
			fault: Fault{Status: 503},
			call:  call{path: revokePath, auth: auth, body: "token=" + strings.Repeat("x", 4<<20)},
			want:  want{status: 503, body: faultPage(503), header: map[string]string{"Content-Type": html}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t)
			srv.InjectFault(1, tt.fault)
			got := send(t, srv, tt.call)
			check(t, got, tt.want)
			if tt.want.status != 204 {
				if cl, want := got.header.Get("Content-Length"), strconv.Itoa(len(tt.want.body)); cl != want {
					t.Errorf("Content-Length: got %q, want %q", cl, want)
				}
			}
			if c := srv.Counts(); c.Faulted != 1 {
				t.Errorf("Counts.Faulted: got %d, want 1", c.Faulted)
			}
		})
	}
}

// step is one action of a fault sequence test: a request, or ClearFaults.
type step struct {
	path  string // revokePath, tokenPath or introspectPath
	token string // the token parameter sent to revokePath or introspectPath
	clear bool   // call ClearFaults instead of sending a request
	want  int    // the status expected
}

// TestFaultQueue checks which requests the queued faults take: n, n < 0,
// Path, Every, OncePerToken, the order of the queue and ClearFaults.
func TestFaultQueue(t *testing.T) {
	type injection struct {
		n int
		f Fault
	}
	revoke := func(token string, want int) step { return step{path: revokePath, token: token, want: want} }
	token := func(want int) step { return step{path: tokenPath, want: want} }
	introspect := func(tok string, want int) step { return step{path: introspectPath, token: tok, want: want} }
	clear := step{clear: true}
	tests := []struct {
		name        string
		inject      []injection
		steps       []step
		wantFaulted int
	}{
		{
			name:        "n requests, then real answers",
			inject:      []injection{{2, Fault{Status: 503}}},
			steps:       []step{revoke("a", 503), token(503), revoke("a", 200), token(200)},
			wantFaulted: 2,
		},
		{
			name:        "n < 0 until ClearFaults",
			inject:      []injection{{-1, Fault{Status: 502}}},
			steps:       []step{revoke("a", 502), revoke("a", 502), token(502), revoke("a", 502), clear, revoke("a", 200), token(200)},
			wantFaulted: 4,
		},
		{
			name:        "n == 0 injects nothing",
			inject:      []injection{{0, Fault{Status: 502}}},
			steps:       []step{revoke("a", 200)},
			wantFaulted: 0,
		},
		{
			name:        "Path filter",
			inject:      []injection{{2, Fault{Path: RevokePath, Status: 503}}},
			steps:       []step{token(200), introspect("a", 200), revoke("a", 503), token(200), revoke("a", 503), revoke("a", 200)},
			wantFaulted: 2,
		},
		{
			name:        "Every faults the Every-th, n counts faults",
			inject:      []injection{{2, Fault{Status: 503, Every: 3}}},
			steps:       []step{revoke("a", 200), revoke("a", 200), revoke("a", 503), revoke("a", 200), revoke("a", 200), revoke("a", 503), revoke("a", 200), revoke("a", 200), revoke("a", 200)},
			wantFaulted: 2,
		},
		{
			name:        "Every 1 is each one",
			inject:      []injection{{2, Fault{Status: 503, Every: 1}}},
			steps:       []step{revoke("a", 503), revoke("a", 503), revoke("a", 200)},
			wantFaulted: 2,
		},
		{
			name:        "Every with a Path counts only that path",
			inject:      []injection{{-1, Fault{Path: TokenPath, Status: 429, Every: 2}}},
			steps:       []step{token(200), revoke("a", 200), token(429), revoke("a", 200), token(200), token(429)},
			wantFaulted: 2,
		},
		{
			name:        "OncePerToken faults the first request of each token",
			inject:      []injection{{-1, Fault{Status: 503, OncePerToken: true}}},
			steps:       []step{revoke("a", 503), revoke("a", 200), revoke("b", 503), revoke("a", 200), revoke("b", 200), introspect("c", 503), revoke("c", 200)},
			wantFaulted: 3,
		},
		{
			name:        "OncePerToken skips requests without a token",
			inject:      []injection{{-1, Fault{Status: 503, OncePerToken: true}}},
			steps:       []step{token(200), revoke("", 400), revoke("a", 503), revoke("a", 200)},
			wantFaulted: 1,
		},
		{
			name:        "OncePerToken with n",
			inject:      []injection{{2, Fault{Path: RevokePath, Status: 503, OncePerToken: true}}},
			steps:       []step{revoke("a", 503), revoke("a", 200), revoke("b", 503), revoke("c", 200), revoke("b", 200)},
			wantFaulted: 2,
		},
		{
			name:        "OncePerToken with Every counts distinct tokens",
			inject:      []injection{{-1, Fault{Status: 503, OncePerToken: true, Every: 2}}},
			steps:       []step{revoke("a", 200), revoke("a", 200), revoke("b", 503), revoke("b", 200), revoke("c", 200), revoke("d", 503)},
			wantFaulted: 2,
		},
		{
			name: "the queue is taken in order",
			inject: []injection{
				{1, Fault{Status: 503}},
				{1, Fault{Status: 502}},
				{2, Fault{Status: 429}},
			},
			steps:       []step{revoke("a", 503), revoke("a", 502), token(429), revoke("a", 429), revoke("a", 200)},
			wantFaulted: 4,
		},
		{
			name: "a request takes the first fault whose Path matches",
			inject: []injection{
				{1, Fault{Path: TokenPath, Status: 503}},
				{1, Fault{Path: RevokePath, Status: 502}},
				{1, Fault{Status: 500}},
			},
			steps:       []step{revoke("a", 502), revoke("a", 500), token(503), token(200)},
			wantFaulted: 3,
		},
		{
			name: "a token already seen falls through to the next fault",
			inject: []injection{
				{-1, Fault{Status: 503, OncePerToken: true}},
				{1, Fault{Status: 502}},
			},
			steps:       []step{revoke("a", 503), revoke("a", 502), revoke("a", 200), revoke("b", 503)},
			wantFaulted: 3,
		},
		{
			name: "Every lets the others through untouched, not to later faults",
			inject: []injection{
				{1, Fault{Status: 503, Every: 2}},
				{1, Fault{Status: 502}},
			},
			steps:       []step{revoke("a", 200), revoke("a", 503), revoke("a", 502), revoke("a", 200)},
			wantFaulted: 2,
		},
		{
			name:        "ClearFaults empties the queue",
			inject:      []injection{{5, Fault{Status: 503}}, {5, Fault{Status: 502}}},
			steps:       []step{revoke("a", 503), clear, revoke("a", 200), token(200)},
			wantFaulted: 1,
		},
	}
	auth := encodedBasic(testID, testSecret)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t)
			for _, in := range tt.inject {
				srv.InjectFault(in.n, in.f)
			}
			requests := 0
			for i, s := range tt.steps {
				if s.clear {
					srv.ClearFaults()
					continue
				}
				c := call{path: s.path, auth: auth, body: "grant_type=client_credentials"}
				if s.path != tokenPath {
					c.body = ""
					if s.token != "" {
						c.body = "token=" + s.token
					}
				}
				requests++
				if got := send(t, srv, c); got.status != s.want {
					t.Errorf("step %d (%s %q): got status %d, want %d (body %q)", i, s.path, s.token, got.status, s.want, got.body)
				}
			}
			got := srv.Counts()
			if got.Faulted != tt.wantFaulted {
				t.Errorf("Counts.Faulted: got %d, want %d", got.Faulted, tt.wantFaulted)
			}
			if all := got.Token + got.Revoke + got.Introspect + got.Other; all != requests {
				t.Errorf("requests counted by path: got %d, want %d", all, requests)
			}
		})
	}
}

// TestInjectFaultBadStatus checks that InjectFault refuses a status net/http
// cannot send as a final answer.
func TestInjectFaultBadStatus(t *testing.T) {
	srv := newTestServer(t)
	for _, status := range []int{-1, 99, 100, 199, 1000} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("InjectFault(Status: %d): got no panic, want one", status)
				}
			}()
			srv.InjectFault(1, Fault{Status: status})
		})
	}
}

// TestFaultedRequestsDoNotReachTheEndpoint checks that a revocation faulted
// with a Status or a Drop revoked nothing, and that a Delay-only fault
// answers for real.
func TestFaultedRequestsDoNotReachTheEndpoint(t *testing.T) {
	auth := encodedBasic(testID, testSecret)
	tests := []struct {
		name       string
		fault      Fault
		wantStatus int // 0: the request fails without an answer
		wantActive bool
	}{
		{"Status", Fault{Status: 503}, 503, true},
		{"Status 200", Fault{Status: 200}, 200, true},
		{"Drop", Fault{Drop: true}, 0, true},
		{"Delay then Status", Fault{Delay: time.Millisecond, Status: 500}, 500, true},
		{"Delay then Drop", Fault{Delay: time.Millisecond, Drop: true}, 0, true},
		{"Delay only", Fault{Delay: 20 * time.Millisecond}, 200, false},
		{"Delay only, OncePerToken", Fault{Delay: time.Millisecond, OncePerToken: true}, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t)
			tok := srv.IssueToken(testID, "")
			srv.InjectFault(1, tt.fault)
			start := time.Now()
			status, err := postStatus(srv.ts.Client(), srv.URL+revokePath, auth, "token="+tok)
			elapsed := time.Since(start)
			if tt.wantStatus == 0 && err == nil {
				t.Errorf("revoke: got status %d, want an error", status)
			}
			if tt.wantStatus != 0 && (err != nil || status != tt.wantStatus) {
				t.Errorf("revoke: got %d, %v; want %d", status, err, tt.wantStatus)
			}
			if elapsed < tt.fault.Delay {
				t.Errorf("revoke took %v, want at least the Delay %v", elapsed, tt.fault.Delay)
			}
			if got := srv.Active(tok); got != tt.wantActive {
				t.Errorf("Active after the faulted revoke: got %v, want %v", got, tt.wantActive)
			}
			if c := srv.Counts(); c.Faulted != 1 || c.Revoke != 1 {
				t.Errorf("Counts: got Faulted %d, Revoke %d; want 1, 1", c.Faulted, c.Revoke)
			}
		})
	}
}

// postStatus posts a form and returns the status, having read the body.
func postStatus(client *http.Client, url, auth, body string) (int, error) {
	return postStatusContext(context.Background(), client, url, auth, body)
}

func postStatusContext(ctx context.Context, client *http.Client, url, auth, body string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", formType)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// TestDropFault checks that an http.Client with keep-alive sees a dropped
// connection as an error, and that the next request gets a new connection.
func TestDropFault(t *testing.T) {
	srv := newTestServer(t)
	client := srv.ts.Client()
	auth := encodedBasic(testID, testSecret)
	url := srv.URL + revokePath

	if status, err := postStatus(client, url, auth, "token=a"); err != nil || status != 200 {
		t.Fatalf("first revoke: got %d, %v; want 200", status, err)
	}
	srv.InjectFault(1, Fault{Drop: true})
	status, err := postStatus(client, url, auth, "token=a")
	if err == nil {
		t.Fatalf("dropped revoke: got status %d, want an error", status)
	}
	t.Logf("the client saw: %v", err)
	if status, err := postStatus(client, url, auth, "token=a"); err != nil || status != 200 {
		t.Fatalf("revoke after the drop: got %d, %v; want 200", status, err)
	}
	// The POST is not retried by the transport: 3 requests, and the
	// dropped connection is not reused.
	if got, want := srv.Counts(), (Counts{Revoke: 3, Connections: 2, Faulted: 1}); got != want {
		t.Errorf("Counts: got %+v, want %+v", got, want)
	}
}

// waitFaulted waits until the server has faulted n requests.
func waitFaulted(t *testing.T, srv *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(closeBound)
	for srv.Counts().Faulted < n {
		if time.Now().After(deadline) {
			t.Fatalf("Counts.Faulted: still %d after %v, want %d", srv.Counts().Faulted, closeBound, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// closeWithin closes srv and fails the test if that takes longer than
// closeBound, that is if a fault holds a handler up.
func closeWithin(t *testing.T, srv *Server) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		srv.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeBound):
		t.Fatalf("Server.Close still blocked after %v", closeBound)
	}
}

// TestDelayCutShort checks that a long Delay stops when the client gives up
// or the server closes, and that the request then goes no further.
func TestDelayCutShort(t *testing.T) {
	auth := encodedBasic(testID, testSecret)
	tests := []struct {
		name  string
		fault Fault
		cut   func(srv *Server, cancel context.CancelFunc)
	}{
		{"client cancels, Delay only", Fault{Delay: time.Hour}, func(_ *Server, cancel context.CancelFunc) { cancel() }},
		{"client cancels, Delay and Status", Fault{Delay: time.Hour, Status: 503}, func(_ *Server, cancel context.CancelFunc) { cancel() }},
		{"server closes, Delay only", Fault{Delay: time.Hour}, func(srv *Server, _ context.CancelFunc) { srv.Close() }},
		{"server closes, Delay and Drop", Fault{Delay: time.Hour, Drop: true}, func(srv *Server, _ context.CancelFunc) { srv.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t)
			tok := srv.IssueToken(testID, "")
			srv.InjectFault(1, tt.fault)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type result struct {
				status int
				err    error
			}
			done := make(chan result, 1)
			go func() {
				status, err := postStatusContext(ctx, srv.ts.Client(), srv.URL+revokePath, auth, "token="+tok)
				done <- result{status, err}
			}()
			waitFaulted(t, srv, 1)
			tt.cut(srv, cancel)
			select {
			case got := <-done:
				if got.err == nil {
					t.Errorf("revoke: got status %d, want an error", got.status)
				}
			case <-time.After(closeBound):
				t.Fatalf("revoke still waiting %v after the cut", closeBound)
			}
			closeWithin(t, srv) // every handler has returned
			if !srv.Active(tok) {
				t.Error("the token was revoked by a request whose Delay was cut short")
			}
		})
	}
}

// patternWriter checks that what is written is body repeated, and counts it.
type patternWriter struct {
	body string
	ref  string // body repeated, to compare long stretches at once
	n    int64
	bad  bool
}

func newPatternWriter(body string) *patternWriter {
	return &patternWriter{body: body, ref: strings.Repeat(body, 1+(64<<10)/len(body))}
}

func (p *patternWriter) Write(b []byte) (int, error) {
	written := len(b)
	for len(b) > 0 {
		off := int(p.n % int64(len(p.body)))
		k := min(len(b), len(p.ref)-off)
		if string(b[:k]) != p.ref[off:off+k] {
			p.bad = true
		}
		b = b[k:]
		p.n += int64(k)
	}
	return written, nil
}

// TestHugeBody checks that a 100 MiB body is streamed whole without being
// held in memory.
func TestHugeBody(t *testing.T) {
	srv := newTestServer(t)
	const size = 100 << 20
	body := `{"error": "server_error", "pad": "` // not JSON once repeated
	srv.InjectFault(1, Fault{Path: TokenPath, Status: 500, ContentType: "application/json", Body: body, BodySize: size})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, err := srv.ts.Client().Post(srv.URL+tokenPath, formType, strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 500 || resp.ContentLength != size {
		t.Errorf("got status %d, Content-Length %d; want 500, %d", resp.StatusCode, resp.ContentLength, size)
	}
	w := newPatternWriter(body)
	if _, err := io.Copy(w, resp.Body); err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	runtime.ReadMemStats(&after)
	if w.n != size || w.bad {
		t.Errorf("body: got %d bytes (wrong ones: %v); want %d bytes of the body repeated", w.n, w.bad, size)
	}
	// Client and server together allocate far less than the body.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Errorf("allocated %d bytes to stream a %d-byte body, want under %d", alloc, size, size/4)
	}
}

// TestHugeBodyAborted checks that an endless body stops being streamed
// when the client goes away, and when the server closes under a client that
// stopped reading.
func TestHugeBodyAborted(t *testing.T) {
	const endless = 1 << 62
	tests := []struct {
		name string
		stop func(t *testing.T, srv *Server, resp *http.Response)
	}{
		{"client closes the body", func(t *testing.T, srv *Server, resp *http.Response) {
			resp.Body.Close()
			closeWithin(t, srv)
		}},
		{"server closes", func(t *testing.T, srv *Server, resp *http.Response) {
			closeWithin(t, srv)
			if _, err := io.Copy(io.Discard, resp.Body); err == nil {
				t.Error("reading the rest of the cut-off body: got no error")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t)
			srv.InjectFault(1, Fault{Status: 503, BodySize: endless})
			resp, err := srv.ts.Client().Post(srv.URL+revokePath, formType, strings.NewReader("token=a"))
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			defer resp.Body.Close()
			if n, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
				t.Fatalf("reading the first MiB: got %d bytes, %v", n, err)
			}
			tt.stop(t, srv, resp)
			srv.faults.mu.Lock()
			streams := len(srv.faults.d.streams)
			srv.faults.mu.Unlock()
			if streams != 0 {
				t.Errorf("streams in progress after Close: got %d, want 0", streams)
			}
		})
	}
}

// TestFaultsConcurrent has many goroutines consume the fault queue at once;
// run it with -race. Every count is exact.
func TestFaultsConcurrent(t *testing.T) {
	srv := newTestServer(t)
	auth := encodedBasic(testID, testSecret)
	const (
		workers       = 16
		revokes       = 20 // per worker
		tokens        = 9  // per worker
		introspected  = 3  // distinct tokens per worker, each sent twice
		revokeFaults  = 37
		tokenEvery    = 3
		wantIntroFlts = workers * introspected
	)
	srv.InjectFault(revokeFaults, Fault{Path: RevokePath, Status: 503, RetryAfter: "0"})
	srv.InjectFault(-1, Fault{Path: TokenPath, Status: 429, Every: tokenEvery})
	srv.InjectFault(-1, Fault{Path: IntrospectPath, Status: 502, OncePerToken: true})

	type tally struct{ revoke503, token429, intro502, other int }
	results := make(chan tally, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			client := srv.ts.Client()
			var got tally
			for i := 0; i < revokes; i++ {
				switch status, _ := postStatus(client, srv.URL+revokePath, auth, "token=x"); status {
				case 503:
					got.revoke503++
				case 200:
				default:
					got.other++
				}
				if i < tokens {
					switch status, _ := postStatus(client, srv.URL+tokenPath, auth, "grant_type=client_credentials"); status {
					case 429:
						got.token429++
					case 200:
					default:
						got.other++
					}
				}
				if i < 2*introspected {
					tok := fmt.Sprintf("w%d-t%d", w, i/2)
					switch status, _ := postStatus(client, srv.URL+introspectPath, auth, "token="+tok); status {
					case 502:
						got.intro502++
					case 200:
					default:
						got.other++
					}
				}
				_ = srv.Counts()
				srv.InjectFault(1, Fault{Path: "/never/", Status: 500})
			}
			results <- got
		}(w)
	}
	wg.Wait()
	close(results)
	var sum tally
	for r := range results {
		sum.revoke503 += r.revoke503
		sum.token429 += r.token429
		sum.intro502 += r.intro502
		sum.other += r.other
	}
	want := tally{revoke503: revokeFaults, token429: workers * tokens / tokenEvery, intro502: wantIntroFlts}
	if sum != want {
		t.Errorf("answers: got %+v, want %+v", sum, want)
	}
	got := srv.Counts()
	if wantFaulted := want.revoke503 + want.token429 + want.intro502; got.Faulted != wantFaulted {
		t.Errorf("Counts.Faulted: got %d, want %d", got.Faulted, wantFaulted)
	}
	if got.Revoke != workers*revokes || got.Token != workers*tokens || got.Introspect != workers*2*introspected {
		t.Errorf("Counts: got %+v, want Revoke %d, Token %d, Introspect %d", got, workers*revokes, workers*tokens, workers*2*introspected)
	}
}

// TestServerPrintsNoFaultToken checks that formatting a Server does not
// print a token a fault has recorded.
func TestServerPrintsNoFaultToken(t *testing.T) {
	srv := newTestServer(t)
	tok := srv.IssueToken(testID, "")
	srv.InjectFault(-1, Fault{Status: 503, OncePerToken: true})
	if status, err := postStatus(srv.ts.Client(), srv.URL+revokePath, encodedBasic(testID, testSecret), "token="+tok); err != nil || status != 503 {
		t.Fatalf("revoke: got %d, %v; want 503", status, err)
	}
	srv.faults.mu.Lock()
	_, recorded := srv.faults.d.entries[0].tokens[tok]
	srv.faults.mu.Unlock()
	if !recorded {
		t.Fatal("the fault did not record the token, so this test proves nothing")
	}
	// Printing the whole Server races with net/http's counters under -race
	// (TestFormatHidesSecrets prints one that served nothing); the tokens
	// live in the fault queue, so print that too, at several depths.
	srv.Close()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{srv.faults, []any{srv.faults}, []any{srv.faults.d}} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, tok) {
				t.Errorf("fmt.Sprintf(%q, %T) prints the token", verb, v)
			}
		}
	}
}
