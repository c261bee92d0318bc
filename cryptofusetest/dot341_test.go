package cryptofusetest

import (
	"regexp"
	"strings"
	"testing"
)

// TestDOT341 sends, to a server in its default mode, each request whose
// answer differs between django-oauth-toolkit 1.7.0 (WithDOT170) and 3.4.1,
// and checks both modes' answers, as the real servers gave them.
func TestDOT341(t *testing.T) {
	const cc = "grant_type=client_credentials"
	auth := encodedBasic(testID, testSecret)
	wrong := basicAuth(testID, "wrong")
	tokenRE := regexp.MustCompile(`^\{"access_token": "[A-Za-z0-9]{30}", "expires_in": 36000, "token_type": "Bearer", "scope": "read"\}$`)
	issued := want{status: 200, bodyRE: tokenRE, header: jsonHeaders}
	page := func(status int, body, contentType string) want {
		return want{status: status, body: body, header: map[string]string{"Content-Type": contentType}}
	}
	tests := []struct {
		name     string
		call     call
		want341  want
		want170  want
		active   string // for a revocation: whether the other client's token (OTHER) is live afterwards, "341,170"
		otherTok bool
	}{
		{
			name:    "a query string on the token endpoint",
			call:    call{path: tokenPath + "?x=1&state=s", auth: auth, body: cc},
			want341: want{status: 400, body: `{"error": "invalid_request", "error_description": "URL query parameters are not allowed", "state": "s"}`, header: emptyHTML},
			want170: page(500, page500, "text/html"),
		},
		{
			name:    "an invalid escape in the token endpoint's query",
			call:    call{path: tokenPath + "?x=%zz", auth: auth, body: cc},
			want341: page(500, page500, "text/html; charset=utf-8"),
			want170: page(500, page500, "text/html"),
		},
		{
			name:    "wrong Basic secret, body names another client with its secret",
			call:    call{path: tokenPath, auth: wrong, body: cc + "&client_id=app2&client_secret=secret2"},
			want341: issued,
			want170: invalidClient,
		},
		{
			name:    "wrong Basic secret, body names another client with the Basic client's secret",
			call:    call{path: tokenPath, auth: wrong, body: cc + "&client_id=app2&client_secret=" + testSecret},
			want341: invalidClient,
			want170: issued,
		},
		{
			name:    "a client parameter",
			call:    call{path: tokenPath, auth: auth, body: cc + "&client=x"},
			want341: issued,
			want170: page(500, page500, "text/html"),
		},
		{
			name:    "form content type in other case",
			call:    call{path: tokenPath, auth: auth, contentType: "Application/X-WWW-Form-Urlencoded", body: cc},
			want341: issued,
			want170: want{status: 400, body: `{"error": "unsupported_grant_type"}`, header: jsonHeaders},
		},
		{
			name:    "introspection without a token",
			call:    call{path: introspectPath, auth: auth, body: "x=1"},
			want341: want{status: 400, body: `{"error": "invalid_request", "error_description": "Token parameter is missing."}`, header: plainJSON},
			want170: want{status: 200, body: `{"active": false}`, header: plainJSON},
		},
		{
			name:    "an unknown path",
			call:    call{method: "GET", path: "/nowhere/"},
			want341: page(404, page404, "text/html; charset=utf-8"),
			want170: page(404, page404, "text/html"),
		},
		{
			name: "RFC 8414 metadata",
			call: call{method: "GET", path: MetadataPath},
			want341: want{status: 200, bodyRE: regexp.MustCompile(`^\{"issuer": "http://127\.0\.0\.1:\d+/o", .*"scopes_supported": \["read", "write"\], .*"revocation_endpoint": "http://127\.0\.0\.1:\d+/o/revoke_token/", "introspection_endpoint": "http://127\.0\.0\.1:\d+/o/introspect/", .*\}$`),
				header: map[string]string{"Content-Type": "application/json"}},
			want170: page(404, page404, "text/html"),
		},
		{
			name:     "revoke another client's token",
			call:     call{path: revokePath, auth: auth, body: "token=OTHER"},
			want341:  want{status: 200, header: emptyHTML},
			want170:  want{status: 200, header: emptyHTML},
			active:   "true,false",
			otherTok: true,
		},
	}
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"3.4.1", nil}, {"1.7.0", []Option{WithDOT170()}}} {
		t.Run(mode.name, func(t *testing.T) {
			srv := newTestServer(t, mode.opts...)
			srv.AddClient("app2", "secret2")
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					other := srv.IssueToken("app2", "")
					c := tt.call
					c.body = strings.ReplaceAll(c.body, "OTHER", other)
					w, wantActive := tt.want341, "true"
					if mode.name == "1.7.0" {
						w = tt.want170
					}
					if tt.active != "" {
						a341, a170, _ := strings.Cut(tt.active, ",")
						wantActive = map[string]string{"3.4.1": a341, "1.7.0": a170}[mode.name]
					}
					check(t, send(t, srv, c), w)
					if tt.otherTok {
						if got := srv.Active(other); got != (wantActive == "true") {
							t.Errorf("the other client's token active: got %v, want %s", got, wantActive)
						}
					}
				})
			}
		})
	}
}

// TestUserTokenCascade revokes one of a user's token pair and checks which
// of the two stay usable, per version (RFC 7009 §2.1): revoking the refresh
// token takes the access token along on both; revoking the access token
// takes the refresh token along on 3.4.1 only. 1.7.0 leaves that refresh
// token unrevoked, but its refresh grant crashes the server (500).
func TestUserTokenCascade(t *testing.T) {
	tests := []struct {
		mode        string
		opts        []Option
		revoke      string // "access" or "refresh"
		hint        string
		wantAccess  bool
		wantRefresh bool
		wantGrant   int // the status of a refresh grant with the refresh token afterwards
	}{
		{"3.4.1", nil, "refresh", "refresh_token", false, false, 400},
		{"3.4.1", nil, "access", "access_token", false, false, 400},
		{"3.4.1", nil, "access", "", false, false, 400},
		{"1.7.0", []Option{WithDOT170()}, "refresh", "refresh_token", false, false, 400},
		{"1.7.0", []Option{WithDOT170()}, "refresh", "access_token", false, false, 400},
		{"1.7.0", []Option{WithDOT170()}, "access", "access_token", false, true, 500},
		{"1.7.0", []Option{WithDOT170()}, "access", "refresh_token", false, true, 500},
	}
	for _, tt := range tests {
		t.Run(tt.mode+"/revoke "+tt.revoke+" hint "+tt.hint, func(t *testing.T) {
			srv := newTestServer(t, tt.opts...)
			access, refresh := srv.IssueUserToken(testID, "alice", "read write")
			if !srv.Active(access) || !srv.ActiveRefresh(refresh) {
				t.Fatalf("fresh pair: got Active %v, ActiveRefresh %v, want both true", srv.Active(access), srv.ActiveRefresh(refresh))
			}
			tok := map[string]string{"access": access, "refresh": refresh}[tt.revoke]
			body := "token=" + tok
			if tt.hint != "" {
				body += "&token_type_hint=" + tt.hint
			}
			check(t, send(t, srv, call{path: revokePath, auth: encodedBasic(testID, testSecret), body: body}), want{status: 200, header: emptyHTML})
			if got := srv.Active(access); got != tt.wantAccess {
				t.Errorf("access token active: got %v, want %v", got, tt.wantAccess)
			}
			if got := srv.ActiveRefresh(refresh); got != tt.wantRefresh {
				t.Errorf("refresh token active: got %v, want %v", got, tt.wantRefresh)
			}
			grant := send(t, srv, call{path: tokenPath, auth: encodedBasic(testID, testSecret), body: "grant_type=refresh_token&refresh_token=" + refresh})
			if grant.status != tt.wantGrant {
				t.Errorf("refresh grant: got status %d (body %q), want %d", grant.status, grant.body, tt.wantGrant)
			}
		})
	}
}

// TestUserTokens checks what IssueUserToken issues: a live pair that
// introspection names with its user, and a refresh token that a refresh
// grant by its own client exchanges, once, for a new pair.
func TestUserTokens(t *testing.T) {
	srv := newTestServer(t, WithScopes("read", "write", "introspection"))
	srv.AddClient("app2", "secret2")
	access, refresh := srv.IssueUserToken(testID, "alice", "")
	if access == refresh || len(access) != 30 || len(refresh) != 30 {
		t.Fatalf("IssueUserToken: got lengths %d and %d (equal: %v), want two different 30-character tokens", len(access), len(refresh), access == refresh)
	}
	intro := send(t, srv, call{path: introspectPath, auth: encodedBasic("app2", "secret2"), body: "token=" + access})
	if !regexp.MustCompile(`^\{"active": true, "scope": "read", "exp": \d+, "client_id": "app1", "username": "alice"\}$`).MatchString(intro.body) {
		t.Errorf("introspection: got %q, want the user token's claims with its username", intro.body)
	}

	refreshGrant := func(auth string) reply {
		return send(t, srv, call{path: tokenPath, auth: auth, body: "grant_type=refresh_token&refresh_token=" + refresh})
	}
	check(t, refreshGrant(encodedBasic("app2", "secret2")), want{status: 400, body: `{"error": "invalid_grant"}`, header: jsonHeaders})
	if !srv.Active(access) || !srv.ActiveRefresh(refresh) {
		t.Fatal("another client's refresh grant revoked the pair")
	}
	pairRE := regexp.MustCompile(`^\{"access_token": "([A-Za-z0-9]{30})", "expires_in": 36000, "token_type": "Bearer", "scope": "read", "refresh_token": "([A-Za-z0-9]{30})"\}$`)
	got := refreshGrant(encodedBasic(testID, testSecret))
	check(t, got, want{status: 200, bodyRE: pairRE, header: jsonHeaders})
	m := pairRE.FindStringSubmatch(got.body)
	if m == nil {
		t.FailNow()
	}
	if srv.Active(access) || srv.ActiveRefresh(refresh) {
		t.Error("the used pair is still live after the refresh grant")
	}
	if !srv.Active(m[1]) || !srv.ActiveRefresh(m[2]) {
		t.Error("the new pair is not live")
	}
	check(t, refreshGrant(encodedBasic(testID, testSecret)), want{status: 400, body: `{"error": "invalid_grant"}`, header: jsonHeaders})
}
