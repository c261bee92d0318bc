package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// TestRevokeVerify revokes the fixture client's own tokens mixed with
// another client's, on the fake in each version's mode. On 3.4.1 the
// revocation endpoint answers 200 for the other client's tokens but keeps
// them: without -verify they are reported revoked; with it they are
// failures, named by line and fingerprint.
func TestRevokeVerify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		opts          []cryptofusetest.Option
		verify        bool
		wantCode      int
		wantRevoked   int
		wantStillLive int // the other client's tokens still active afterwards
	}{
		{"3.4.1, no -verify: a false success", nil, false, exitOK, 5, 2},
		{"3.4.1, -verify", nil, true, exitFailed, 3, 2},
		{"1.7.0, -verify", []cryptofusetest.Option{cryptofusetest.WithDOT170()}, true, exitOK, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureWith(t, tt.opts...)
			f.srv.AddClient("other-client", "other-secret")
			own := f.issue(3)
			other := []string{f.srv.IssueToken("other-client", ""), f.srv.IssueToken("other-client", "")}
			f.secret(other[0])
			f.secret(other[1])
			// Lines: own[0], other[0], own[1], other[1], own[2].
			args := []string{"revoke", "-concurrency", "2"}
			if tt.verify {
				args = append(args, "-verify")
			}
			res := f.run(t, lines(own[0], other[0], own[1], other[1], own[2]), args...)
			wantCode(t, res, tt.wantCode)
			revoked, failed, _ := accounted(t, res.stdout, 5)
			if revoked != tt.wantRevoked || failed != 5-tt.wantRevoked {
				t.Errorf("revoked, failed: got %d, %d, want %d, %d", revoked, failed, tt.wantRevoked, 5-tt.wantRevoked)
			}
			for i, tok := range own {
				if f.srv.Active(tok) {
					t.Errorf("own token %d still active", i)
				}
			}
			live := 0
			for _, tok := range other {
				if f.srv.Active(tok) {
					live++
				}
			}
			if live != tt.wantStillLive {
				t.Errorf("the other client's tokens still active: got %d, want %d", live, tt.wantStillLive)
			}
			c := f.srv.Counts()
			wantIntrospect := 0
			if tt.verify {
				wantIntrospect = 1 + 5 // the probe, then one per revoked token
			}
			if c.Introspect != wantIntrospect {
				t.Errorf("introspection requests: got %d, want %d", c.Introspect, wantIntrospect)
			}
			if tt.verify && tt.wantCode == exitFailed {
				wantContains(t, "stderr", res.stderr,
					fmt.Sprintf("line 2 (fp %s): %s", fingerprint(other[0]), reasonStillActive),
					fmt.Sprintf("line 4 (fp %s): %s", fingerprint(other[1]), reasonStillActive))
				wantContains(t, "stdout", res.stdout, "  "+reasonStillActive+": 2")
			}
		})
	}
}

// TestRevokeVerifyProbe checks that -verify probes the introspection
// endpoint before revoking anything, and exits 2 with nothing revoked when
// the server has none or refuses the credentials there.
func TestRevokeVerifyProbe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		want   string
	}{
		{"no endpoint", http.StatusNotFound, "the server has no introspection endpoint (/o/introspect/), so -verify cannot check anything"},
		{"credentials refused", http.StatusForbidden, "introspection: 403 Forbidden"},
		{"server error", http.StatusBadGateway, "introspection: 502 Bad Gateway"},
		{"not JSON", http.StatusOK, "introspection: 200 OK: the answer is not a usable introspection answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			toks := f.issue(2)
			base := f.frontAll(t, func(w http.ResponseWriter, r *http.Request, _ string) bool {
				if r.URL.Path == introspectPath {
					w.WriteHeader(tt.status)
					return true
				}
				return false
			})
			res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: base}), stdin: lines(toks...)}, "revoke", "-verify")
			wantCode(t, res, exitUsage)
			wantContains(t, "stderr", res.stderr, "-verify: ", tt.want, "nothing revoked")
			if c := f.srv.Counts(); c.Revoke != 0 {
				t.Errorf("revoke requests: got %d, want 0", c.Revoke)
			}
			for i, tok := range toks {
				if !f.srv.Active(tok) {
					t.Errorf("token %d was revoked", i)
				}
			}
		})
	}
}

// TestRevokeVerifyUnverified counts a token whose introspection fails after
// a successful revocation as "not verified", a failure.
func TestRevokeVerifyUnverified(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	toks := f.issue(2)
	base := f.frontAll(t, func(w http.ResponseWriter, r *http.Request, token string) bool {
		if r.URL.Path == introspectPath && token == toks[1] {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	})
	res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: base}), stdin: lines(toks...)}, "revoke", "-verify")
	wantCode(t, res, exitFailed)
	if revoked, failed, _ := accounted(t, res.stdout, 2); revoked != 1 || failed != 1 {
		t.Errorf("revoked, failed: got %d, %d, want 1, 1", revoked, failed)
	}
	wantContains(t, "stderr", res.stderr, fmt.Sprintf("line 2 (fp %s): %s: introspection: 502 Bad Gateway", fingerprint(toks[1]), reasonNotVerified))
	if !strings.Contains(res.stdout, "  "+reasonNotVerified+": 1") {
		t.Errorf("stdout: got\n%s\nwant a %q count of 1", res.stdout, reasonNotVerified)
	}
}
