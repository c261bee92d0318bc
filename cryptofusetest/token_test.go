package cryptofusetest

import (
	"net/url"
	"strings"
	"testing"
)

// TestTokenEndpoint sends each case of dot-behaviour.md's /o/token/ table,
// and the other cases checked against a real DOT 1.7.0 server, as raw HTTP,
// under WithDOT170. TestDOT341 checks where the default, 3.4.1, differs.
func TestTokenEndpoint(t *testing.T) {
	const cc = "grant_type=client_credentials"
	auth := encodedBasic(testID, testSecret)
	multipartBody := "--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"scope\"\r\n\r\nwrite\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"scope\"; filename=\"a.txt\"\r\n\r\nadmin\r\n--XyZ--\r\n"

	tests := []struct {
		name string
		call call
		want want
	}{
		// Scopes.
		{"no scope gets the default scopes", call{auth: auth, body: cc}, tokenOK("read")},
		{"read write", call{auth: auth, body: cc + "&scope=read+write"}, tokenOK("read write")},
		{"the requested order is kept", call{auth: auth, body: cc + "&scope=write%20read"}, tokenOK("write read")},
		{"a repeated scope is kept", call{auth: auth, body: cc + "&scope=read+read"}, tokenOK("read read")},
		{"the scope is stripped", call{auth: auth, body: cc + "&scope=+read%1F"}, tokenOK("read")},
		{"unknown scope", call{auth: auth, body: cc + "&scope=admin"}, oauthErr(`{"error": "invalid_scope"}`)},
		{"a known and an unknown scope", call{auth: auth, body: cc + "&scope=read+admin"}, oauthErr(`{"error": "invalid_scope"}`)},
		{"empty scope", call{auth: auth, body: cc + "&scope="}, oauthErr(`{"error": "invalid_scope"}`)},
		{"two spaces make an empty scope", call{auth: auth, body: cc + "&scope=read++write"}, oauthErr(`{"error": "invalid_scope"}`)},
		{"a tab is no separator", call{auth: auth, body: cc + "&scope=read%09write"}, oauthErr(`{"error": "invalid_scope"}`)},
		{"the last of repeated scopes counts", call{auth: auth, body: cc + "&scope=admin&scope=write"}, tokenOK("write")},

		// Client authentication.
		{"wrong secret", call{auth: encodedBasic(testID, "nope"), body: cc}, invalidClient},
		{"the secret and more", call{auth: encodedBasic(testID, testSecret+"x"), body: cc}, invalidClient},
		{"a prefix of the secret", call{auth: encodedBasic(testID, testSecret[:len(testSecret)-1]), body: cc}, invalidClient},
		{"empty secret", call{auth: encodedBasic(testID, ""), body: cc}, invalidClient},
		{"unknown client", call{auth: encodedBasic("nobody", testSecret), body: cc}, invalidClient},
		{"no auth at all", call{body: cc}, invalidClient},
		{"lower-case basic scheme", call{auth: "basic " + strings.TrimPrefix(auth, "Basic "), body: cc}, invalidClient},
		{"a tab after the scheme", call{auth: "Basic\t" + strings.TrimPrefix(auth, "Basic "), body: cc}, invalidClient},
		{"two spaces after the scheme", call{auth: "Basic  " + strings.TrimPrefix(auth, "Basic "), body: cc}, tokenOK("read")},
		{"a bearer token as client auth", call{auth: "Bearer abc", body: cc}, invalidClient},
		{"no colon", call{auth: basicRaw(testID + testSecret), body: cc}, invalidClient},
		{"missing base64 padding", call{auth: strings.TrimRight(encodedBasic(specialID, specialSecret), "="), body: cc}, invalidClient},
		{"junk characters in the base64 are skipped", call{auth: "Basic YXBw*MTpz ZWNy-ZXQx", body: cc}, tokenOK("read")},
		{"two Authorization headers", call{auth: auth + "," + auth, body: cc}, invalidClient},
		{"special characters, form-encoded", call{auth: encodedBasic(specialID, specialSecret), body: cc}, tokenOK("read")},
		{"special characters, raw", call{auth: basicAuth(specialID, specialSecret), body: cc}, invalidClient},
		{"special characters, id encoded and secret raw", call{auth: basicAuth(url.QueryEscape(specialID), specialSecret), body: cc}, invalidClient},
		{"special characters, PathEscape", call{auth: basicAuth(url.PathEscape(specialID), url.PathEscape(specialSecret)), body: cc}, invalidClient},
		{"wrong Basic secret, right body credentials", call{auth: encodedBasic(testID, "wrong"), body: cc + "&client_id=app1&client_secret=secret1"}, tokenOK("read")},
		{"body credentials only", call{body: cc + "&client_id=app1&client_secret=secret1"}, tokenOK("read")},
		{"body credentials with special characters", call{body: cc + "&client_id=" + url.QueryEscape(specialID) + "&client_secret=" + url.QueryEscape(specialSecret)}, tokenOK("read")},
		{"body secret without id", call{body: cc + "&client_secret=secret1"}, invalidClient},
		{"body id without secret", call{body: cc + "&client_id=app1"}, invalidClient},
		{"a Basic client with a wrong secret stays loaded", call{auth: encodedBasic(testID, "wrong"), body: cc + "&client_id=app2&client_secret=secret2"}, invalidClient},
		{"... and its secret is compared with the body's", call{auth: encodedBasic(testID, "wrong"), body: cc + "&client_id=app2&client_secret=secret1"}, tokenOK("read")},
		{"an unknown Basic client loads nothing", call{auth: encodedBasic("nobody", "x"), body: cc + "&client_id=app2&client_secret=secret2"}, tokenOK("read")},
		{"a non-ASCII byte in Basic credentials crashes the server", call{auth: auth + "\xe9", body: cc}, serverError},
		{"a client parameter crashes the server", call{auth: auth, body: cc + "&client=x"}, serverError},

		// Methods, query strings, bodies.
		{"GET", call{method: "GET"}, want{status: 405, header: allowHeaders("POST, OPTIONS")}},
		{"PUT", call{method: "PUT", auth: auth, body: cc}, want{status: 405, header: allowHeaders("POST, OPTIONS")}},
		{"HEAD", call{method: "HEAD"}, want{status: 405, header: allowHeaders("POST, OPTIONS")}},
		{"OPTIONS", call{method: "OPTIONS"}, want{status: 200, header: allowHeaders("POST, OPTIONS")}},
		{"the method in lower case is POST", call{method: "post", auth: auth, body: cc}, tokenOK("read")},
		{"JSON body", call{auth: auth, contentType: "application/json", body: `{"grant_type": "client_credentials"}`}, oauthErr(`{"error": "unsupported_grant_type"}`)},
		{"form content type in other case", call{auth: auth, contentType: "Application/x-www-form-urlencoded", body: cc}, oauthErr(`{"error": "unsupported_grant_type"}`)},
		{"form content type with a charset", call{auth: auth, contentType: formType + "; charset=utf-8", body: cc}, tokenOK("read")},
		{"multipart form", call{auth: auth, contentType: "multipart/form-data; boundary=XyZ", body: multipartBody}, tokenOK("write")},
		{"multipart without boundary", call{auth: auth, contentType: "multipart/form-data", body: multipartBody}, want{status: 400, body: page400, header: pageHeaders}},
		{"a query string crashes the server", call{path: "?x=1", auth: auth, body: cc}, serverError},
		{"a bare question mark is no query string", call{path: "?", auth: auth, body: cc}, tokenOK("read")},
		{"more than 1000 fields", call{auth: auth, body: cc + strings.Repeat("&a=1", 1000)}, want{status: 400, body: page400, header: pageHeaders}},
		{"1000 fields", call{auth: auth, body: cc + strings.Repeat("&a=1", 999)}, tokenOK("read")},
		{"a body over 2.5 MiB", call{auth: auth, body: cc + "&pad=" + strings.Repeat("a", maxBodyBytes)}, want{status: 400, body: page400, header: pageHeaders}},

		// Grant types.
		{"no grant type", call{auth: auth, body: "scope=read"}, oauthErr(`{"error": "unsupported_grant_type"}`)},
		{"empty grant type", call{auth: auth, body: "grant_type="}, oauthErr(`{"error": "unsupported_grant_type"}`)},
		{"unknown grant type, before authentication", call{auth: encodedBasic(testID, "x"), body: "grant_type=foo"}, oauthErr(`{"error": "unsupported_grant_type"}`)},
		{"the last of repeated grant types counts", call{auth: auth, body: "grant_type=password&" + cc}, tokenOK("read")},
		{"password", call{auth: auth, body: "grant_type=password&username=u&password=p"}, oauthErr(`{"error": "invalid_grant", "error_description": "Invalid credentials given."}`)},
		{"password without username", call{auth: auth, body: "grant_type=password"}, oauthErr(`{"error": "invalid_request", "error_description": "Request is missing username parameter."}`)},
		{"password without password", call{auth: auth, body: "grant_type=password&username=u"}, oauthErr(`{"error": "invalid_request", "error_description": "Request is missing password parameter."}`)},
		{"password, wrong client", call{auth: encodedBasic(testID, "x"), body: "grant_type=password"}, invalidClient},
		{"authorization_code", call{auth: auth, body: "grant_type=authorization_code&code=abc"}, oauthErr(`{"error": "unauthorized_client"}`)},
		{"authorization_code without code, before authentication", call{body: "grant_type=authorization_code"}, oauthErr(`{"error": "invalid_request", "error_description": "Missing code parameter."}`)},
		{"authorization_code, wrong client", call{auth: encodedBasic(testID, "x"), body: "grant_type=authorization_code&code="}, invalidClient},
		{"openid with a code crashes the server", call{auth: auth, body: "grant_type=openid&code=abc"}, serverError},
		{"refresh_token", call{auth: auth, body: "grant_type=refresh_token&refresh_token=abc"}, oauthErr(`{"error": "invalid_grant"}`)},
		{"refresh_token without one, before authentication", call{body: "grant_type=refresh_token"}, oauthErr(`{"error": "invalid_request", "error_description": "Missing refresh token parameter."}`)},
		{"refresh_token, wrong client", call{auth: encodedBasic(testID, "x"), body: "grant_type=refresh_token&refresh_token="}, invalidClient},

		// An error echoes the state parameter, escaped as Python's json.dumps does.
		{"state in an error", call{auth: auth, body: "grant_type=foo&state=abc"}, oauthErr(`{"error": "unsupported_grant_type", "state": "abc"}`)},
		{"state in a 401", call{auth: encodedBasic(testID, "x"), body: cc + "&state=%C3%A9%22"}, want{status: 401, body: `{"error": "invalid_client", "state": "\u00e9\""}`, header: json401}},
		{"state in an error with a description", call{auth: auth, body: "grant_type=password&state=s"}, oauthErr(`{"error": "invalid_request", "error_description": "Request is missing username parameter.", "state": "s"}`)},
		{"no state on success", call{auth: auth, body: cc + "&state=abc"}, tokenOK("read")},
	}
	srv := newTestServer(t, WithDOT170())
	srv.AddClient("app2", "secret2")
	srv.AddClient(specialID, specialSecret)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.call
			c.path = tokenPath + c.path
			check(t, send(t, srv, c), tt.want)
		})
	}
}

// TestTokenEndpointIssues checks that an issued token is live, belongs to
// the authenticated client, and has the granted scope (under WithDOT170).
func TestTokenEndpointIssues(t *testing.T) {
	tests := []struct {
		name       string
		auth, body string
		wantClient string
		wantScope  string
	}{
		{"Basic", encodedBasic(testID, testSecret), "grant_type=client_credentials&scope=write", testID, "write"},
		{"body credentials", "", "grant_type=client_credentials&client_id=app2&client_secret=secret2", "app2", "read"},
		{"the client loaded by a failed Basic", encodedBasic(testID, "wrong"), "grant_type=client_credentials&client_id=app2&client_secret=secret1", testID, "read"},
	}
	srv := newTestServer(t, WithDOT170())
	srv.AddClient("app2", "secret2")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := send(t, srv, call{path: tokenPath, auth: tt.auth, body: tt.body})
			m := accessTokenRE.FindStringSubmatch(got.body)
			if m == nil {
				t.Fatalf("got %d %q, want a token", got.status, got.body)
			}
			tok, ok := srv.st.lookup(m[1])
			if !ok || !srv.Active(m[1]) {
				t.Fatalf("token %q: stored %v, active %v; want both", m[1], ok, srv.Active(m[1]))
			}
			if tok.clientID != tt.wantClient || tok.scope != tt.wantScope {
				t.Errorf("token: got client %q scope %q, want %q %q", tok.clientID, tok.scope, tt.wantClient, tt.wantScope)
			}
		})
	}
}

// TestTokenValues checks that tokens are 30 characters of [A-Za-z0-9] and
// differ.
func TestTokenValues(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		v := newTokenValue()
		if len(v) != 30 || strings.Trim(v, tokenAlphabet) != "" {
			t.Fatalf("token %q: want 30 characters of [A-Za-z0-9]", v)
		}
		if seen[v] {
			t.Fatalf("token %q issued twice", v)
		}
		seen[v] = true
	}
	// Every character turns up about equally often: 60000 draws give each
	// about 968, with a standard deviation near 31. A modulo bias would
	// give the first 8 characters a quarter more than the others.
	counts := map[rune]int{}
	for v := range seen {
		for _, c := range v {
			counts[c]++
		}
	}
	mean := float64(2000*30) / float64(len(tokenAlphabet))
	for _, c := range tokenAlphabet {
		if n := float64(counts[c]); n < 0.85*mean || n > 1.15*mean {
			t.Errorf("character %q drawn %v times in 60000, want about %.0f", c, n, mean)
		}
	}
}
