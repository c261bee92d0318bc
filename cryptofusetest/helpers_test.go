package cryptofusetest

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testID     = "app1"
	testSecret = "secret1"
	// specialID and specialSecret hold every character that needs
	// form-encoding in Basic credentials.
	specialID     = ":+%&/=é-id"
	specialSecret = ":+%&/=é-secret"

	formType = "application/x-www-form-urlencoded"
)

// newTestServer starts a server with the client testID/testSecret and shuts
// it down when the test ends.
func newTestServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	srv := NewServer(testID, testSecret, opts...)
	t.Cleanup(srv.Close)
	return srv
}

// basicAuth is an Authorization header value with the credentials as given.
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// basicRaw is an Authorization header value that base64-encodes s.
func basicRaw(s string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(s))
}

// encodedBasic is basicAuth with each part form-encoded, as RFC 6749 §2.3.1
// requires.
func encodedBasic(id, secret string) string {
	return basicAuth(url.QueryEscape(id), url.QueryEscape(secret))
}

// call is one raw HTTP request to a test server.
type call struct {
	method      string // "" means POST
	path        string // with any query string
	auth        string // the Authorization header; "" sends none
	contentType string // "" sends the form content type with a body, none without
	body        string
}

// reply is what a test server answered.
type reply struct {
	status int
	header http.Header
	body   string
}

// send sends c to srv on a client of its own and reads the whole answer.
func send(t *testing.T, srv *Server, c call) reply {
	t.Helper()
	return sendWith(t, srv.ts.Client(), srv, c)
}

func sendWith(t *testing.T, client *http.Client, srv *Server, c call) reply {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	switch {
	case c.contentType != "":
		req.Header.Set("Content-Type", c.contentType)
	case c.body != "":
		req.Header.Set("Content-Type", formType)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, c.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// checkedHeaders are the headers every expectation states, present or absent.
var checkedHeaders = []string{"Content-Type", "Cache-Control", "Pragma", "Www-Authenticate", "Allow", "Location", "Retry-After"}

// want is an expected answer. body is the exact body, unless bodyRE is set.
// header lists the checkedHeaders that must be present with these exact
// values; the others must be absent.
type want struct {
	status int
	body   string
	bodyRE *regexp.Regexp
	header map[string]string
}

// check compares an answer with an expectation.
func check(t *testing.T, got reply, w want) {
	t.Helper()
	if got.status != w.status {
		t.Errorf("status: got %d, want %d (body %q)", got.status, w.status, got.body)
	}
	if w.bodyRE != nil {
		if !w.bodyRE.MatchString(got.body) {
			t.Errorf("body: got %q, want a match for %s", got.body, w.bodyRE)
		}
	} else if got.body != w.body {
		t.Errorf("body: got %q, want %q", got.body, w.body)
	}
	for _, name := range checkedHeaders {
		wantValue, wantPresent := w.header[name]
		gotValues, gotPresent := got.header[http.CanonicalHeaderKey(name)]
		switch {
		case wantPresent && !gotPresent:
			t.Errorf("header %s: missing, want %q", name, wantValue)
		case !wantPresent && gotPresent:
			t.Errorf("header %s: got %q, want none", name, gotValues)
		case wantPresent && (len(gotValues) != 1 || gotValues[0] != wantValue):
			t.Errorf("header %s: got %q, want %q", name, gotValues, wantValue)
		}
	}
}

// Header sets of the server's kinds of answers.
var (
	jsonHeaders = map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
	json401     = map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache",
		"Www-Authenticate": `Bearer error="invalid_client"`}
	plainJSON   = map[string]string{"Content-Type": "application/json"}
	emptyHTML   = map[string]string{"Content-Type": "text/html; charset=utf-8"}
	pageHeaders = map[string]string{"Content-Type": "text/html"}
)

func allowHeaders(allow string) map[string]string {
	return map[string]string{"Content-Type": "text/html; charset=utf-8", "Allow": allow}
}

// Expected answers that recur.
var (
	invalidClient = want{status: 401, body: `{"error": "invalid_client"}`, header: json401}
	serverError   = want{status: 500, body: page500, header: pageHeaders}
)

// tokenOK expects a successful token answer granting scope.
func tokenOK(scope string) want {
	return want{
		status: 200,
		bodyRE: regexp.MustCompile(`^\{"access_token": "[A-Za-z0-9]{30}", "expires_in": 36000, "token_type": "Bearer", "scope": "` + regexp.QuoteMeta(scope) + `"\}$`),
		header: jsonHeaders,
	}
}

// oauthErr expects an oauthlib JSON error with status 400.
func oauthErr(body string) want {
	return want{status: 400, body: body, header: jsonHeaders}
}

var accessTokenRE = regexp.MustCompile(`"access_token": "([A-Za-z0-9]{30})"`)

// fetchToken gets a token over HTTP with the client-credentials grant.
func fetchToken(t *testing.T, srv *Server, id, secret, scope string) string {
	t.Helper()
	body := "grant_type=client_credentials"
	if scope != "" {
		body += "&scope=" + url.QueryEscape(scope)
	}
	got := send(t, srv, call{path: tokenPath, auth: encodedBasic(id, secret), body: body})
	m := accessTokenRE.FindStringSubmatch(got.body)
	if got.status != http.StatusOK || m == nil {
		t.Fatalf("token request: got %d %q, want 200 with a token", got.status, got.body)
	}
	return m[1]
}

// clock is a settable time source for WithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func regexpMatch(re, s string) bool {
	return regexp.MustCompile(re).MatchString(s)
}

func regexpOf(re string) *regexp.Regexp {
	return regexp.MustCompile(re)
}

func b64(s string) string {
	return base64.StdEncoding.EncodeToString([]byte(s))
}
