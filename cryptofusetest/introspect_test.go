package cryptofusetest

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIntrospectEndpoint checks /o/introspect/ as DOT 1.7.0's
// IntrospectTokenView answers it, against a live token, a token with the
// introspection scope (INTRO) and a revoked one (GONE), under WithDOT170.
// TestDOT341 checks where the default, 3.4.1, differs.
func TestIntrospectEndpoint(t *testing.T) {
	clk := newClock()
	srv := newTestServer(t, WithDOT170(), WithScopes("read", "write", "introspection"), WithClock(clk.Now))
	srv.AddClient("app2", "secret2")
	srv.AddClient(specialID, specialSecret)
	live := srv.IssueToken(testID, "write read")
	intro := srv.IssueToken("app2", "introspection")
	gone := srv.IssueToken(testID, "")
	srv.st.revoke(gone, revocation{})

	exp := strconv.FormatInt(clk.Now().Add(36000*time.Second).Unix(), 10)
	active := want{status: 200, body: `{"active": true, "scope": "write read", "exp": ` + exp + `, "client_id": "app1"}`, header: plainJSON}
	inactive := want{status: 200, body: `{"active": false}`, header: plainJSON}
	forbidden := want{status: 403, header: emptyHTML}
	auth := encodedBasic("app2", "secret2")

	tests := []struct {
		name string
		call call
		want want
	}{
		{"live token, another client's credentials", call{auth: auth, body: "token=LIVE"}, active},
		{"special-character credentials", call{auth: encodedBasic(specialID, specialSecret), body: "token=LIVE"}, active},
		{"body credentials", call{body: "token=LIVE&client_id=app1&client_secret=secret1"}, active},
		{"credentials in the query string", call{path: "?client_id=app1&client_secret=secret1", body: "token=LIVE"}, active},
		{"revoked token", call{auth: auth, body: "token=GONE"}, inactive},
		{"unknown token", call{auth: auth, body: "token=nope"}, inactive},
		{"no token", call{auth: auth, body: "x=1"}, inactive},
		{"POST ignores a token in the query", call{path: "?token=LIVE", auth: auth}, inactive},
		{"JSON body", call{auth: auth, contentType: "application/json", body: `{"token": "LIVE"}`}, inactive},
		{"GET reads the query", call{method: "GET", path: "?token=LIVE", auth: auth}, active},
		{"HEAD", call{method: "HEAD", path: "?token=LIVE", auth: auth}, want{status: 200, header: plainJSON}},
		{"no auth", call{body: "token=LIVE"}, forbidden},
		{"GET without auth", call{method: "GET", path: "?token=LIVE"}, forbidden},
		{"wrong secret", call{auth: encodedBasic("app2", "x"), body: "token=LIVE"}, forbidden},
		{"lower-case basic scheme", call{auth: "basic " + strings.TrimPrefix(auth, "Basic "), body: "token=LIVE"}, forbidden},
		{"Bearer token with the introspection scope", call{auth: "Bearer INTRO", body: "token=LIVE"}, active},
		{"bearer scheme in lower case", call{auth: "bearer INTRO", body: "token=LIVE"}, active},
		{"Bearer token without that scope", call{auth: "Bearer LIVE", body: "token=LIVE"}, forbidden},
		{"access_token parameter", call{body: "token=LIVE&access_token=INTRO"}, active},
		{"access_token parameter beside another Authorization", call{auth: encodedBasic("app2", "x"), body: "token=LIVE&access_token=INTRO"}, forbidden},
		{"PUT", call{method: "PUT", auth: auth, body: "token=LIVE"}, want{status: 405, header: allowHeaders("GET, POST, HEAD, OPTIONS")}},
		{"PUT without auth", call{method: "PUT", body: "token=LIVE"}, forbidden},
		{"OPTIONS", call{method: "OPTIONS"}, want{status: 200, header: allowHeaders("GET, POST, HEAD, OPTIONS")}},
		{"an invalid percent escape in the query crashes the server", call{path: "?a=%zz", auth: auth, body: "token=LIVE"}, serverError},
	}
	replacer := strings.NewReplacer("LIVE", live, "INTRO", intro, "GONE", gone)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.call
			c.path = introspectPath + replacer.Replace(c.path)
			c.body = replacer.Replace(c.body)
			c.auth = replacer.Replace(c.auth)
			check(t, send(t, srv, c), tt.want)
		})
	}
}

// TestIntrospectEscapes checks that introspection escapes a client id and a
// scope as Python's json.dumps does.
func TestIntrospectEscapes(t *testing.T) {
	srv := newTestServer(t)
	srv.AddClient(specialID, specialSecret)
	tok := srv.IssueToken(specialID, `"q" é`)
	got := send(t, srv, call{path: introspectPath, auth: encodedBasic(testID, testSecret), body: "token=" + tok})
	wantRE := `^\{"active": true, "scope": "\\"q\\" \\u00e9", "exp": \d+, "client_id": ":\+%&/=\\u00e9-id"\}$`
	if got.status != 200 || !regexpMatch(wantRE, got.body) {
		t.Errorf("got %d %q, want 200 matching %s", got.status, got.body, wantRE)
	}
}
