package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// The operator's footguns: defaults and messages that must not mislead.

// 'cryptofuse token | cryptofuse rotate -scope admin' must leave the
// operator with a valid token: rotate issues first by default.
func TestRotateDefaultKeepsOldTokenWhenIssueFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.issue(1)[0]
	res := f.run(t, old+"\n", "rotate", "-scope", "admin")
	wantCode(t, res, exitFailed)
	wantContains(t, "stderr", res.stderr, "invalid_scope", "the old token was not revoked")
	if !f.srv.Active(old) {
		t.Error("the old token was revoked: the operator holds no valid token")
	}
	if got := f.srv.Counts().Revoke; got != 0 {
		t.Errorf("revoke requests: got %d, want 0", got)
	}

	// -revoke-first keeps the documented order.
	res = f.run(t, old+"\n", "rotate", "-revoke-first")
	wantCode(t, res, exitOK)
	if f.srv.Active(old) {
		t.Error("-revoke-first: the old token is still active")
	}
	res = f.run(t, old+"\n", "rotate", "-revoke-first", "-issue-first")
	wantCode(t, res, exitUsage)
}

// messages that tell the operator what to do.
func TestOperatorMessages(t *testing.T) {
	t.Parallel()
	t.Run("404 names the base URL and the appended paths", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		toks := f.issue(1)
		wrong := f.srv.URL + "/api/v2"
		for _, args := range [][]string{{"token"}, {"revoke"}} {
			res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: wrong}), stdin: lines(toks...)}, args...)
			wantCode(t, res, exitFailed)
			wantContains(t, args[0]+" stderr", res.stderr, "HTTP 404", envBaseURL, wrong, "/o/token/ and /o/revoke_token/ are appended")
		}
	})
	t.Run("a file name that cannot be a token is named", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		for _, name := range []string{"no such.txt", "leaked-tokens.txt", "tokens.LOG", "'quoted'"} {
			res := f.run(t, "", "revoke", name)
			wantCode(t, res, exitUsage)
			wantContains(t, "stderr", res.stderr, fmt.Sprintf("no such file: %q", name))
		}
		// A token given in the wrong place is still only fingerprinted
		// (and the fixture checks it is not printed).
		tok := f.issue(1)[0]
		res := f.run(t, "", "revoke", tok)
		wantContains(t, "stderr", res.stderr, "argument fingerprint "+fingerprint(tok))
	})
	t.Run("a Bearer line suggests dropping the prefix", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		toks := f.issue(2)
		res := f.run(t, toks[0]+"\nBearer "+toks[1]+"\n", "revoke")
		wantCode(t, res, exitUsage)
		wantContains(t, "stderr", res.stderr, "(line 2)", `drop the "Bearer " prefix`)
		if got := f.srv.Counts().Revoke; got != 0 {
			t.Errorf("revoke requests: got %d, want 0", got)
		}
	})
	t.Run("-credentials over the environment is said", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		file := writeFile(t, "creds.env", envClientID+"="+testClientID+"\n"+envClientSecret+"="+testClientSecret+"\n", 0o600)
		res := f.run(t, "", "token", "-credentials", file)
		wantCode(t, res, exitOK)
		wantContains(t, "stderr", res.stderr, "come from -credentials "+file, envClientID+" and "+envClientSecret+" in the environment are ignored")

		res = f.runWith(t, invocation{env: map[string]string{envBaseURL: f.srv.URL}}, "token", "-credentials", file)
		wantCode(t, res, exitOK)
		if strings.Contains(res.stderr, "ignored") {
			t.Errorf("stderr: got %q, want no note without credentials in the environment", res.stderr)
		}
	})
	t.Run("revoke refuses a terminal on stdin", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		toks := f.issue(1)
		res := f.runWith(t, invocation{env: f.env, stdin: lines(toks...), tty: true}, "revoke")
		wantCode(t, res, exitUsage)
		wantContains(t, "stderr", res.stderr, "stdin is a terminal")
		if got := f.srv.Counts().Revoke; got != 0 {
			t.Errorf("revoke requests: got %d, want 0", got)
		}
	})
	t.Run("the summary says which failures a re-run can fix", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		toks := f.issue(3)
		base := f.front(t, func(w http.ResponseWriter, r *http.Request, token string) bool {
			switch token {
			case toks[0]:
				http.Error(w, "<html>busy</html>", http.StatusServiceUnavailable)
			case toks[1]:
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":"unsupported_token_type"}`)
			default:
				return false
			}
			return true
		})
		res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: base}), stdin: lines(toks...)}, "revoke", "-attempts", "1", "-concurrency", "1")
		wantCode(t, res, exitFailed)
		wantContains(t, "summary", res.stdout,
			"A re-run with the same input can fix: HTTP 503 ",
			"A re-run will not fix unsupported_token_type:")
		if strings.Contains(res.stdout, "can fix: HTTP 503, unsupported_token_type") {
			t.Errorf("summary offers a re-run for a permanent failure:\n%s", res.stdout)
		}
	})
}

// credentials that are bad without being invalid_client (DOT answers
// invalid_request to a non-ASCII client id) stop the run after the first
// requests, instead of sending every token.
func TestRevokeStopsOnSameVerdict(t *testing.T) {
	t.Parallel()
	const total = 50
	f := newFixture(t)
	toks := f.issue(total)
	var seen atomic.Int32
	base := f.front(t, func(w http.ResponseWriter, r *http.Request, _ string) bool {
		seen.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_request","error_description":"Invalid client_id parameter value."}`)
		return true
	})
	res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: base}), stdin: lines(toks...)}, "revoke", "-concurrency", "1")
	wantCode(t, res, exitFailed)
	revoked, failed, notAttempted := accounted(t, res.stdout, total)
	if revoked != 0 || failed != verdictSample || notAttempted != total-verdictSample {
		t.Errorf("revoked %d, failed %d, not attempted %d; want 0, %d, %d", revoked, failed, notAttempted, verdictSample, total-verdictSample)
	}
	if got := int(seen.Load()); got != verdictSample {
		t.Errorf("requests: got %d, want %d", got, verdictSample)
	}
	wantContains(t, "summary", res.stdout, "stopped:        the first 3 requests all failed with invalid_request, which no token can change",
		"A re-run fixes invalid_request only after the cause is fixed")

	t.Run("not after a success", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		toks := f.issue(10)
		base := f.front(t, func(w http.ResponseWriter, r *http.Request, token string) bool {
			if token == toks[0] {
				return false // revoked
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_request"}`)
			return true
		})
		res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: base}), stdin: lines(toks...)}, "revoke", "-concurrency", "1")
		revoked, failed, notAttempted := accounted(t, res.stdout, 10)
		if revoked != 1 || failed != 9 || notAttempted != 0 {
			t.Errorf("revoked %d, failed %d, not attempted %d; want 1, 9, 0", revoked, failed, notAttempted)
		}
	})
}

// a server that is down stops the run after downRun failures in a
// row, with every token accounted for and none reported revoked.
func TestRevokeStopsWhenServerIsDown(t *testing.T) {
	t.Parallel()
	const total = 40
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		toks := f.issue(total)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		down := "http://" + ln.Addr().String()
		ln.Close() // nothing listens there now
		res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: down}), stdin: lines(toks...)}, "revoke", "-concurrency", "1")
		wantCode(t, res, exitFailed)
		revoked, failed, notAttempted := accounted(t, res.stdout, total)
		if revoked != 0 || failed != downRun || notAttempted != total-downRun {
			t.Errorf("revoked %d, failed %d, not attempted %d; want 0, %d, %d", revoked, failed, notAttempted, downRun, total-downRun)
		}
		wantContains(t, "summary", res.stdout, "stopped:        10 requests in a row failed", "the server or the network is down",
			"A re-run with the same input can fix: connection refused, the tokens not attempted")
	})
	t.Run("503", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		toks := f.issue(total)
		f.srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable})
		res := f.run(t, lines(toks...), "revoke", "-concurrency", "1", "-attempts", "2")
		wantCode(t, res, exitFailed)
		revoked, failed, notAttempted := accounted(t, res.stdout, total)
		if revoked != 0 || failed != downRun || notAttempted != total-downRun {
			t.Errorf("revoked %d, failed %d, not attempted %d; want 0, %d, %d", revoked, failed, notAttempted, downRun, total-downRun)
		}
		if got, want := f.srv.Counts().Revoke, 2*downRun; got != want {
			t.Errorf("revoke requests: got %d, want %d", got, want)
		}
		for i, tok := range toks {
			if !f.srv.Active(tok) {
				t.Errorf("token %d was revoked, though every request was answered 503", i)
			}
		}
	})
	t.Run("failures between successes do not stop it", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		toks := f.issue(total)
		f.srv.InjectFault(-1, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable, Every: 2})
		res := f.run(t, lines(toks...), "revoke", "-concurrency", "1", "-attempts", "1")
		revoked, failed, notAttempted := accounted(t, res.stdout, total)
		if revoked != total/2 || failed != total/2 || notAttempted != 0 {
			t.Errorf("revoked %d, failed %d, not attempted %d; want %d, %d, 0", revoked, failed, notAttempted, total/2, total/2)
		}
		for i, tok := range toks {
			// Every second request was faulted: the odd ones.
			if want := i%2 == 0; f.srv.Active(tok) == want {
				t.Errorf("token %d: active %v, want %v", i, f.srv.Active(tok), !want)
			}
		}
	})
}
