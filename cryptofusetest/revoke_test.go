package cryptofusetest

import (
	"net/url"
	"strings"
	"testing"
)

// TestRevokeEndpoint sends each case of dot-behaviour.md's /o/revoke_token/
// table as raw HTTP, against a fresh token, and checks the answer and
// whether the token is still active afterwards, under WithDOT170.
// TestDOT341 checks where the default, 3.4.1, differs.
func TestRevokeEndpoint(t *testing.T) {
	auth := encodedBasic(testID, testSecret)
	revoked := want{status: 200, header: emptyHTML}
	missingToken := oauthErr(`{"error": "invalid_request", "error_description": "Missing token parameter."}`)
	queryRefused := oauthErr(`{"error": "invalid_request", "error_description": "URL query parameters are not allowed"}`)

	// In call.body and call.path, TOKEN stands for the fresh token.
	tests := []struct {
		name       string
		call       call
		want       want
		wantActive bool
	}{
		{"hint access_token", call{auth: auth, body: "token=TOKEN&token_type_hint=access_token"}, revoked, false},
		{"hint refresh_token", call{auth: auth, body: "token=TOKEN&token_type_hint=refresh_token"}, revoked, false},
		{"unknown hint", call{auth: auth, body: "token=TOKEN&token_type_hint=foo"}, revoked, false},
		{"no hint", call{auth: auth, body: "token=TOKEN"}, revoked, false},
		{"unknown token", call{auth: auth, body: "token=nope"}, revoked, true},
		{"an extra field", call{auth: auth, body: "token=TOKEN&foo=bar"}, revoked, false},
		{"another client's token", call{auth: encodedBasic("app2", "secret2"), body: "token=TOKEN"}, revoked, false},
		{"special characters, form-encoded", call{auth: encodedBasic(specialID, specialSecret), body: "token=TOKEN"}, revoked, false},
		{"body credentials", call{body: "token=TOKEN&client_id=app1&client_secret=secret1"}, revoked, false},
		{"missing token", call{auth: auth, body: "token_type_hint=access_token"}, missingToken, true},
		{"empty token", call{auth: auth, body: "token="}, missingToken, true},
		{"missing token, checked before authentication", call{body: "x=1"}, missingToken, true},
		{"state echoed", call{auth: auth, body: "state=s"}, oauthErr(`{"error": "invalid_request", "error_description": "Missing token parameter.", "state": "s"}`), true},
		{"wrong secret", call{auth: encodedBasic(testID, "nope"), body: "token=TOKEN"}, invalidClient, true},
		{"no auth", call{body: "token=TOKEN"}, invalidClient, true},
		{"lower-case basic scheme", call{auth: "basic " + strings.TrimPrefix(auth, "Basic "), body: "token=TOKEN"}, invalidClient, true},
		{"a Bearer token as client auth", call{auth: "Bearer TOKEN", body: "token=TOKEN"}, invalidClient, true},
		{"special characters, raw", call{auth: basicAuth(specialID, specialSecret), body: "token=TOKEN"}, invalidClient, true},
		{"special characters, PathEscape", call{auth: basicAuth(url.PathEscape(specialID), url.PathEscape(specialSecret)), body: "token=TOKEN"}, invalidClient, true},
		{"GET", call{method: "GET", auth: auth}, want{status: 405, header: allowHeaders("POST, OPTIONS")}, true},
		{"GET with a query", call{method: "GET", path: "?token=TOKEN", auth: auth}, want{status: 405, header: allowHeaders("POST, OPTIONS")}, true},
		{"OPTIONS", call{method: "OPTIONS"}, want{status: 200, header: allowHeaders("POST, OPTIONS")}, true},
		{"JSON body", call{auth: auth, contentType: "application/json", body: `{"token": "TOKEN"}`}, missingToken, true},
		{"token in the query string", call{path: "?token=TOKEN", auth: auth}, queryRefused, true},
		{"query string, checked before the token", call{path: "?x=1"}, queryRefused, true},
		{"query string with a state", call{path: "?state=q", auth: auth, body: "token=TOKEN"}, oauthErr(`{"error": "invalid_request", "error_description": "URL query parameters are not allowed", "state": "q"}`), true},
		{"a bare question mark is no query string", call{path: "?", auth: auth, body: "token=TOKEN"}, revoked, false},
		{"an invalid percent escape in the query crashes the server", call{path: "?a=%zz", auth: auth, body: "token=TOKEN"}, serverError, true},
		{"a client parameter crashes the server", call{auth: auth, body: "token=TOKEN&client=x"}, serverError, true},
	}
	srv := newTestServer(t, WithDOT170())
	srv.AddClient("app2", "secret2")
	srv.AddClient(specialID, specialSecret)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := srv.IssueToken(testID, "")
			c := tt.call
			c.path = revokePath + strings.ReplaceAll(c.path, "TOKEN", tok)
			c.body = strings.ReplaceAll(c.body, "TOKEN", tok)
			c.auth = strings.ReplaceAll(c.auth, "TOKEN", tok)
			check(t, send(t, srv, c), tt.want)
			if got := srv.Active(tok); got != tt.wantActive {
				t.Errorf("Active after the request: got %v, want %v", got, tt.wantActive)
			}
		})
	}
}

// TestRevokeIdempotent revokes one token twice, and checks it is rejected
// from then on.
func TestRevokeIdempotent(t *testing.T) {
	srv := newTestServer(t)
	tok := fetchToken(t, srv, testID, testSecret, "read write")
	if !srv.Active(tok) {
		t.Fatalf("Active before revoke: got false, want true")
	}
	for i := 1; i <= 2; i++ {
		got := send(t, srv, call{path: revokePath, auth: encodedBasic(testID, testSecret), body: "token=" + tok + "&token_type_hint=access_token"})
		check(t, got, want{status: 200, header: emptyHTML})
		if srv.Active(tok) {
			t.Errorf("Active after revoke %d: got true, want false", i)
		}
	}
	got := send(t, srv, call{path: introspectPath, auth: encodedBasic(testID, testSecret), body: "token=" + tok})
	check(t, got, want{status: 200, body: `{"active": false}`, header: plainJSON})
}

// TestRevokeLeavesOthers checks that revoking one token leaves the others.
func TestRevokeLeavesOthers(t *testing.T) {
	srv := newTestServer(t)
	a, b := srv.IssueToken(testID, ""), srv.IssueToken(testID, "")
	send(t, srv, call{path: revokePath, auth: encodedBasic(testID, testSecret), body: "token=" + a})
	if srv.Active(a) || !srv.Active(b) {
		t.Errorf("Active: got %v and %v, want false and true", srv.Active(a), srv.Active(b))
	}
}
