package cryptofusetest

import (
	"net/http"
	"testing"
	"time"
)

// resourceOK expects the resource's answer for a token of client with scope.
func resourceOK(client, scope string) want {
	return want{
		status: http.StatusOK,
		body:   `{"client_id": "` + client + `", "scope": "` + scope + `"}`,
		header: plainJSON,
	}
}

// resourceRefused is the resource's answer to every request without an
// active bearer token.
var resourceRefused = want{
	status: http.StatusUnauthorized,
	body:   `{"error": "invalid_token"}`,
	header: map[string]string{"Content-Type": "application/json", "Www-Authenticate": `Bearer error="invalid_token"`},
}

func TestResource(t *testing.T) {
	t.Parallel()
	modes := []struct {
		name string
		opts []Option
	}{
		{"3.4.1", nil},
		{"1.7.0", []Option{WithDOT170()}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			srv := newTestServer(t, append([]Option{WithClock(clk.Now), WithExpiresIn(time.Hour)}, mode.opts...)...)
			srv.AddClient("other", "other-secret")
			read := srv.IssueToken(testID, "")
			readWrite := fetchToken(t, srv, testID, testSecret, "read write")
			other := srv.IssueToken("other", "write")
			user, _ := srv.IssueUserToken(testID, "alice", "read")
			revoked := srv.IssueToken(testID, "")
			srv.st.revoke(revoked, revocation{})

			tests := []struct {
				name string
				c    call
				want want
			}{
				{"GET with a token", call{method: "GET", auth: "Bearer " + read}, resourceOK(testID, "read")},
				{"POST with a token", call{auth: "Bearer " + read, body: "x=1"}, resourceOK(testID, "read")},
				{"DELETE with a token", call{method: "DELETE", auth: "Bearer " + read}, resourceOK(testID, "read")},
				{"token from the token endpoint", call{method: "GET", auth: "Bearer " + readWrite}, resourceOK(testID, "read write")},
				{"another client's token", call{method: "GET", auth: "Bearer " + other}, resourceOK("other", "write")},
				{"a user's token", call{method: "GET", auth: "Bearer " + user}, resourceOK(testID, "read")},
				{"scheme in lower case", call{method: "GET", auth: "bearer " + read}, resourceOK(testID, "read")},
				{"scheme in upper case", call{method: "GET", auth: "BEARER " + read}, resourceOK(testID, "read")},

				{"no Authorization", call{method: "GET"}, resourceRefused},
				{"Basic client credentials", call{method: "GET", auth: encodedBasic(testID, testSecret)}, resourceRefused},
				{"another scheme with the token", call{method: "GET", auth: "Token " + read}, resourceRefused},
				{"scheme alone", call{method: "GET", auth: "Bearer"}, resourceRefused},
				{"unknown token", call{method: "GET", auth: "Bearer " + newTokenValue()}, resourceRefused},
				{"revoked token", call{method: "GET", auth: "Bearer " + revoked}, resourceRefused},
				{"token with a suffix", call{method: "GET", auth: "Bearer " + read + "x"}, resourceRefused},
				{"two tokens", call{method: "GET", auth: "Bearer " + read + " " + read}, resourceRefused},
				{"token in the query only", call{method: "GET", path: ResourcePath + "?access_token=" + read}, resourceRefused},
				{"token in the form only", call{body: "access_token=" + read}, resourceRefused},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel() // no case changes the server's state
					if tt.c.path == "" {
						tt.c.path = ResourcePath
					}
					check(t, send(t, srv, tt.c), tt.want)
				})
			}
		})
	}
}

// A token is refused from its expiry instant on, on the server's clock.
func TestResourceExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newTestServer(t, WithClock(clk.Now), WithExpiresIn(10*time.Second))
	tok := srv.IssueToken(testID, "")
	steps := []struct {
		advance time.Duration
		want    want
	}{
		{0, resourceOK(testID, "read")},
		{10*time.Second - time.Nanosecond, resourceOK(testID, "read")},
		{time.Nanosecond, resourceRefused},
		{time.Hour, resourceRefused},
	}
	for _, step := range steps {
		clk.Advance(step.advance)
		t.Run(clk.Now().Format(time.RFC3339Nano), func(t *testing.T) {
			check(t, send(t, srv, call{method: "GET", path: ResourcePath, auth: "Bearer " + tok}), step.want)
		})
	}
}

// A token revoked at the revocation endpoint is refused at once.
func TestResourceAfterRevoke(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	tok := srv.IssueToken(testID, "")
	get := call{method: "GET", path: ResourcePath, auth: "Bearer " + tok}
	check(t, send(t, srv, get), resourceOK(testID, "read"))
	revoke := send(t, srv, call{path: revokePath, auth: encodedBasic(testID, testSecret), body: "token=" + tok})
	if revoke.status != http.StatusOK {
		t.Fatalf("revoke: got %d, want 200", revoke.status)
	}
	check(t, send(t, srv, get), resourceRefused)
}

// Requests for the resource are counted in Resource, whatever their answer,
// and a Fault can name the resource's path.
func TestResourceCountsAndFaults(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	tok := srv.IssueToken(testID, "")
	send(t, srv, call{method: "GET", path: ResourcePath, auth: "Bearer " + tok})
	send(t, srv, call{method: "GET", path: ResourcePath})
	srv.InjectFault(1, Fault{Path: ResourcePath, Status: http.StatusServiceUnavailable, RetryAfter: "3"})
	faulted := send(t, srv, call{method: "GET", path: ResourcePath, auth: "Bearer " + tok})
	if faulted.status != http.StatusServiceUnavailable {
		t.Errorf("faulted request: got %d, want 503", faulted.status)
	}
	c := srv.Counts()
	if c.Resource != 3 || c.Other != 0 || c.Faulted != 1 {
		t.Errorf("Counts: got %+v, want Resource 3, Other 0, Faulted 1", c)
	}
}

// dotForbidden is what django-oauth-toolkit's own protected views answer to
// every refusal: 403, an empty body, no WWW-Authenticate.
var dotForbidden = want{status: http.StatusForbidden, body: "", header: map[string]string{"Content-Type": "text/html; charset=utf-8"}}

// insufficientScope is the RFC 6750 §3.1 answer to an active token without
// the resource's scopes.
var insufficientScope = want{
	status: http.StatusForbidden,
	body:   `{"error": "insufficient_scope"}`,
	header: map[string]string{"Content-Type": "application/json", "Www-Authenticate": `Bearer error="insufficient_scope", scope="write"`},
}

// TestResourceModes checks WithDOTResource (DOT's empty 403 for every
// refusal) and WithResourceScopes (403 for a live token without the
// scopes), on both server versions and through both transports.
func TestResourceModes(t *testing.T) {
	t.Parallel()
	type mode struct {
		name string
		opts []Option
	}
	versions := []mode{{"3.4.1", nil}, {"1.7.0", []Option{WithDOT170()}}}
	resources := []struct {
		mode
		refused, noScope want
	}{
		{mode{"RFC 6750", nil}, resourceRefused, resourceOK(testID, "read")},
		{mode{"RFC 6750, write required", []Option{WithResourceScopes("write")}}, resourceRefused, insufficientScope},
		{mode{"DOT", []Option{WithDOTResource()}}, dotForbidden, resourceOK(testID, "read")},
		{mode{"DOT, write required", []Option{WithDOTResource(), WithResourceScopes("write")}}, dotForbidden, dotForbidden},
	}
	for _, v := range versions {
		for _, res := range resources {
			for _, listen := range []bool{true, false} {
				name := v.name + "/" + res.name + "/socket"
				opts := append(append([]Option{}, v.opts...), res.opts...)
				if !listen {
					name = v.name + "/" + res.name + "/in memory"
					opts = append(opts, WithoutListener())
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					srv := newTestServer(t, opts...)
					client := srv.Client()
					if listen {
						client = srv.ts.Client()
					}
					readWrite := srv.IssueToken(testID, "read write")
					read := srv.IssueToken(testID, "read")
					revoked := srv.IssueToken(testID, "read write")
					srv.st.revoke(revoked, revocation{})
					tests := []struct {
						name string
						auth string
						want want
					}{
						{"token with every scope", "Bearer " + readWrite, resourceOK(testID, "read write")},
						{"token without write", "Bearer " + read, res.noScope},
						{"revoked token", "Bearer " + revoked, res.refused},
						{"unknown token", "Bearer " + newTokenValue(), res.refused},
						{"no Authorization", "", res.refused},
					}
					for _, tt := range tests {
						t.Run(tt.name, func(t *testing.T) {
							check(t, sendWith(t, client, srv, call{method: "GET", path: ResourcePath, auth: tt.auth}), tt.want)
						})
					}
				})
			}
		}
	}
}
