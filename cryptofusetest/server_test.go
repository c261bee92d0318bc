package cryptofusetest

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNewServerURL(t *testing.T) {
	srv := newTestServer(t)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || strings.HasSuffix(srv.URL, "/") {
		t.Errorf("URL: got %q, want http://127.0.0.1:<port> with no trailing slash", srv.URL)
	}
	if _, err := strconv.Atoi(strings.TrimPrefix(srv.URL, "http://127.0.0.1:")); err != nil {
		t.Errorf("URL: got %q, want a port after the host", srv.URL)
	}
}

func TestClose(t *testing.T) {
	srv := NewServer(testID, testSecret)
	client := srv.ts.Client()
	srv.Close()
	srv.Close() // a second Close is harmless
	if resp, err := client.Post(srv.URL+tokenPath, formType, strings.NewReader("")); err == nil {
		resp.Body.Close()
		t.Errorf("request after Close: got %d, want a connection error", resp.StatusCode)
	}
}

func TestNewServerPanics(t *testing.T) {
	tests := []struct {
		name     string
		clientID string
		opts     []Option
		want     string
	}{
		{"empty client id", "", nil, "empty client id"},
		{"default scope not among the scopes", testID, []Option{WithScopes("read"), WithDefaultScopes("write")}, "default scopes"},
		{"no scopes at all", testID, []Option{WithScopes()}, "default scopes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := panicMessage(func() { NewServer(tt.clientID, testSecret, tt.opts...).Close() })
			if !strings.Contains(got, tt.want) {
				t.Errorf("panic: got %q, want one containing %q", got, tt.want)
			}
		})
	}
}

func TestServerMethodPanics(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"IssueToken for an unknown client", func() { srv.IssueToken("nobody", "") }, `unknown client id "nobody"`},
		{"IssueUserToken for an unknown client", func() { srv.IssueUserToken("nobody", "alice", "") }, `IssueUserToken: unknown client id "nobody"`},
		{"AddClient with an empty id", func() { srv.AddClient("", "x") }, "empty client id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := panicMessage(tt.f); !strings.Contains(got, tt.want) {
				t.Errorf("panic: got %q, want one containing %q", got, tt.want)
			}
		})
	}
}

// panicMessage runs f and returns what it panicked with, or "".
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestOptions(t *testing.T) {
	auth := encodedBasic(testID, testSecret)
	tests := []struct {
		name string
		opts []Option
		body string
		want want
	}{
		{"default scopes", []Option{WithScopes("a", "b", "c"), WithDefaultScopes("b", "c")}, "grant_type=client_credentials", tokenOK("b c")},
		{"no default scopes", []Option{WithDefaultScopes()}, "grant_type=client_credentials", tokenOK("")},
		{"a scope of WithScopes", []Option{WithScopes("read", "admin")}, "grant_type=client_credentials&scope=admin", tokenOK("admin")},
		{"a scope no longer known", []Option{WithScopes("read")}, "grant_type=client_credentials&scope=write", oauthErr(`{"error": "invalid_scope"}`)},
		{"expires_in", []Option{WithExpiresIn(90*time.Second + 900*time.Millisecond)}, "grant_type=client_credentials",
			want{status: 200, bodyRE: regexpOf(`^\{"access_token": "[A-Za-z0-9]{30}", "expires_in": 90, "token_type": "Bearer", "scope": "read"\}$`), header: jsonHeaders}},
		{"a later option wins", []Option{WithScopes("x"), WithScopes("read", "y")}, "grant_type=client_credentials&scope=y", tokenOK("y")},
		{"a nil option and a nil clock are ignored", []Option{nil, WithClock(nil)}, "grant_type=client_credentials", tokenOK("read")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.opts...)
			check(t, send(t, srv, call{path: tokenPath, auth: auth, body: tt.body}), tt.want)
		})
	}
}

// TestOptionsCopyArguments checks that an option keeps its own copy of the
// slice it was given.
func TestOptionsCopyArguments(t *testing.T) {
	scopes := []string{"read", "write"}
	opt := WithScopes(scopes...)
	scopes[1] = "changed"
	srv := newTestServer(t, opt)
	check(t, send(t, srv, call{path: tokenPath, auth: encodedBasic(testID, testSecret), body: "grant_type=client_credentials&scope=write"}), tokenOK("write"))
}

func TestIssueTokenAndActive(t *testing.T) {
	srv := newTestServer(t)
	srv.AddClient("app2", "secret2")
	tests := []struct {
		name      string
		clientID  string
		scope     string
		wantScope string
	}{
		{"default scope", testID, "", "read"},
		{"given scope", "app2", "read write", "read write"},
		{"scope stored as given", testID, "anything at all", "anything at all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Counts()
			tok := srv.IssueToken(tt.clientID, tt.scope)
			if len(tok) != 30 {
				t.Errorf("token %q: got %d characters, want 30", tok, len(tok))
			}
			if !srv.Active(tok) {
				t.Errorf("Active: got false, want true")
			}
			got := send(t, srv, call{path: introspectPath, auth: encodedBasic(testID, testSecret), body: "token=" + tok})
			wantRE := `^\{"active": true, "scope": "` + tt.wantScope + `", "exp": \d+, "client_id": "` + tt.clientID + `"\}$`
			if !regexpMatch(wantRE, got.body) {
				t.Errorf("introspection: got %q, want a match for %s", got.body, wantRE)
			}
			if after := srv.Counts(); after.Token != before.Token {
				t.Errorf("Counts.Token: got %d, want %d: IssueToken sends no request", after.Token, before.Token)
			}
		})
	}
	for _, tok := range []string{"", "nope", "a" + srv.IssueToken(testID, "")} {
		if srv.Active(tok) {
			t.Errorf("Active(%q): got true, want false", tok)
		}
	}
}

// TestAddClientReplacesSecret checks that registering an id again replaces
// its secret and keeps its tokens.
func TestAddClientReplacesSecret(t *testing.T) {
	srv := newTestServer(t)
	tok := srv.IssueToken(testID, "")
	srv.AddClient(testID, "new secret")
	tests := []struct {
		secret string
		want   want
	}{
		{testSecret, invalidClient},
		{"new secret", tokenOK("read")},
	}
	for _, tt := range tests {
		got := send(t, srv, call{path: tokenPath, auth: encodedBasic(testID, tt.secret), body: "grant_type=client_credentials"})
		check(t, got, tt.want)
	}
	if !srv.Active(tok) {
		t.Errorf("Active: got false, want true")
	}
}

// TestExpiry moves a fake clock past a token's expiry.
func TestExpiry(t *testing.T) {
	clk := newClock()
	srv := newTestServer(t, WithClock(clk.Now), WithExpiresIn(time.Hour))
	issued := clk.Now()
	viaHTTP := fetchToken(t, srv, testID, testSecret, "")
	direct := srv.IssueToken(testID, "")
	auth := encodedBasic(testID, testSecret)

	tests := []struct {
		name      string
		at        time.Duration // since issue
		wantAlive bool
	}{
		{"just issued", 0, true},
		{"one nanosecond before expiry", time.Hour - time.Nanosecond, true},
		{"at expiry", time.Hour, false},
		{"long after", 48 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(issued.Add(tt.at).Sub(clk.Now()))
			for _, tok := range []string{viaHTTP, direct} {
				if got := srv.Active(tok); got != tt.wantAlive {
					t.Errorf("Active: got %v, want %v", got, tt.wantAlive)
				}
				w := want{status: 200, body: `{"active": false}`, header: plainJSON}
				if tt.wantAlive {
					exp := issued.Add(time.Hour).Unix() // 05.6 rounds down
					w.body = fmt.Sprintf(`{"active": true, "scope": "read", "exp": %d, "client_id": "app1"}`, exp)
				}
				check(t, send(t, srv, call{path: introspectPath, auth: auth, body: "token=" + tok}), w)
			}
		})
	}
	// An expired token still revokes with 200.
	check(t, send(t, srv, call{path: revokePath, auth: auth, body: "token=" + direct}), want{status: 200, header: emptyHTML})
	if _, stored := srv.st.lookup(direct); stored {
		t.Errorf("an expired token is still stored after its revocation")
	}
}

// TestExpiresInRoundsDown checks that a lifetime is rounded down to whole
// seconds for expiry as well as for expires_in.
func TestExpiresInRoundsDown(t *testing.T) {
	clk := newClock()
	srv := newTestServer(t, WithClock(clk.Now), WithExpiresIn(90*time.Second+900*time.Millisecond))
	tok := srv.IssueToken(testID, "")
	tests := []struct {
		at   time.Duration
		want bool
	}{
		{90*time.Second - time.Nanosecond, true},
		{90 * time.Second, false},
	}
	start := clk.Now()
	for _, tt := range tests {
		clk.Advance(start.Add(tt.at).Sub(clk.Now()))
		if got := srv.Active(tok); got != tt.want {
			t.Errorf("Active %v after issue: got %v, want %v", tt.at, got, tt.want)
		}
	}
}

// TestOtherPaths checks the answers outside the three endpoints, under
// WithDOT170 (3.4.1 differs in the pages' Content-Type: TestDOT341).
func TestOtherPaths(t *testing.T) {
	auth := encodedBasic(testID, testSecret)
	notFound := want{status: 404, body: page404, header: pageHeaders}
	redirect := func(to string) want {
		return want{status: 301, header: map[string]string{"Content-Type": "text/html; charset=utf-8", "Location": to}}
	}
	tests := []struct {
		name string
		call call
		want want
	}{
		{"unknown path", call{path: "/o/nothing/", auth: auth, body: "grant_type=client_credentials"}, notFound},
		{"root", call{method: "GET", path: "/"}, notFound},
		{"token path without a slash", call{path: "/o/token", auth: auth, body: "grant_type=client_credentials"}, redirect("/o/token/")},
		{"with a query", call{method: "GET", path: "/o/revoke_token?x=1"}, redirect("/o/revoke_token/?x=1")},
		{"introspect path without a slash", call{method: "GET", path: "/o/introspect"}, redirect("/o/introspect/")},
		{"a percent-encoded path is decoded", call{path: "/o/%74oken/", auth: auth, body: "grant_type=client_credentials"}, tokenOK("read")},
		{"a double slash is another path", call{path: "//o/token/", auth: auth, body: "grant_type=client_credentials"}, notFound},
	}
	srv := newTestServer(t, WithDOT170())
	noRedirects := srv.ts.Client()
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, sendWith(t, noRedirects, srv, tt.call), tt.want)
		})
	}
}

// TestCounts checks the request and connection counters.
func TestCounts(t *testing.T) {
	srv := newTestServer(t)
	auth := encodedBasic(testID, testSecret)
	keepAlive := srv.ts.Client()

	// Three requests on one kept-alive connection count one connection.
	for i := 0; i < 3; i++ {
		sendWith(t, keepAlive, srv, call{path: tokenPath, auth: auth, body: "grant_type=client_credentials"})
	}
	if got, want := srv.Counts(), (Counts{Token: 3, Connections: 1}); got != want {
		t.Errorf("after 3 token requests on one connection: got %+v, want %+v", got, want)
	}

	// Every request on a connection of its own.
	closing := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(closing.CloseIdleConnections)
	calls := []call{
		{path: revokePath, auth: auth, body: "token=x"},
		{path: revokePath, method: "GET"},
		{path: introspectPath, auth: auth, body: "token=x"},
		{path: "/o/nothing/"},
		{path: "/o/token"},
		{path: tokenPath + "?x=1"},
	}
	for _, c := range calls {
		sendWith(t, closing, srv, c)
	}
	srv.IssueToken(testID, "") // no request
	if got, want := srv.Counts(), (Counts{Token: 4, Revoke: 2, Introspect: 1, Other: 2, Connections: 7}); got != want {
		t.Errorf("after 6 more requests on 6 connections: got %+v, want %+v", got, want)
	}
}

// TestConcurrentUse exercises every method and endpoint from many goroutines
// at once; run it with -race.
func TestConcurrentUse(t *testing.T) {
	clk := newClock()
	srv := newTestServer(t, WithClock(clk.Now))
	auth := encodedBasic(testID, testSecret)
	const workers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan string, workers*rounds*4)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			client := srv.ts.Client()
			id := fmt.Sprintf("client-%d", w)
			srv.AddClient(id, "s")
			for r := 0; r < rounds; r++ {
				tok := srv.IssueToken(id, "")
				viaHTTP := fetchTokenQuietly(client, srv, auth)
				if viaHTTP == "" {
					errs <- "token request failed"
				}
				for _, c := range []call{
					{path: introspectPath, auth: auth, body: "token=" + tok},
					{path: revokePath, auth: encodedBasic(id, "s"), body: "token=" + tok},
					{path: revokePath, auth: auth, body: "token=" + viaHTTP},
				} {
					if status := statusOf(client, srv, c); status != 200 {
						errs <- fmt.Sprintf("%s: got %d, want 200", c.path, status)
					}
				}
				if srv.Active(tok) || srv.Active(viaHTTP) {
					errs <- "a revoked token is active"
				}
				clk.Advance(time.Second)
				_ = srv.Counts()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	got := srv.Counts()
	if want := (Counts{Token: workers * rounds, Revoke: 2 * workers * rounds, Introspect: workers * rounds}); got.Token != want.Token || got.Revoke != want.Revoke || got.Introspect != want.Introspect || got.Other != 0 {
		t.Errorf("Counts: got %+v, want %+v", got, want)
	}
	if got.Connections < 1 || got.Connections > workers*rounds*4 {
		t.Errorf("Counts.Connections: got %d, want between 1 and %d", got.Connections, workers*rounds*4)
	}
}

// fetchTokenQuietly is fetchToken for goroutines other than the test's:
// it reports failure with "".
func fetchTokenQuietly(client *http.Client, srv *Server, auth string) string {
	req, _ := http.NewRequest(http.MethodPost, srv.URL+tokenPath, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", formType)
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return ""
	}
	m := accessTokenRE.FindStringSubmatch(string(body))
	if m == nil {
		return ""
	}
	return m[1]
}

func statusOf(client *http.Client, srv *Server, c call) int {
	req, _ := http.NewRequest(http.MethodPost, srv.URL+c.path, strings.NewReader(c.body))
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", formType)
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0
	}
	return resp.StatusCode
}

// TestFormatHidesSecrets checks that formatting a Server prints neither a
// client secret nor a token.
func TestFormatHidesSecrets(t *testing.T) {
	srv := newTestServer(t)
	tok := srv.IssueToken(testID, "")
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{srv, *srv} {
			got := fmt.Sprintf(format, v)
			if strings.Contains(got, testSecret) || strings.Contains(got, tok) {
				t.Errorf("fmt.Sprintf(%q, %T) = %q: shows the secret or the token", format, v, got)
			}
		}
	}
}
