package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

func TestRevokeFromFileAndStdin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		source string // "file", "stdin" or "-"
	}{
		{"file", "file"},
		{"stdin", "stdin"},
		{"dash", "-"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			toks := f.issue(50)
			args := []string{"revoke", "-concurrency", "4"}
			stdin := ""
			switch tt.source {
			case "file":
				args = append(args, writeFile(t, "tokens.txt", lines(toks...), 0o600))
			case "-":
				args = append(args, "-")
				stdin = lines(toks...)
			default:
				stdin = lines(toks...)
			}
			res := f.run(t, stdin, args...)
			wantCode(t, res, exitOK)
			if revoked, _, _ := accounted(t, res.stdout, 50); revoked != 50 {
				t.Errorf("revoked: got %d, want 50", revoked)
			}
			for i, tok := range toks {
				if f.srv.Active(tok) {
					t.Errorf("token %d still active", i)
				}
			}
			c := f.srv.Counts()
			if c.Revoke != 50 {
				t.Errorf("revoke requests: got %d, want 50", c.Revoke)
			}
			// One shared client: connections are reused, one per worker
			// at most.
			if c.Connections < 1 || c.Connections > 4 {
				t.Errorf("connections: got %d, want 1 to 4 (-concurrency 4)", c.Connections)
			}
			wantContains(t, "stderr", res.stderr, "progress: 50/50 done, 0 failed")
		})
	}
}

func TestRevokeSkipsCommentsBlanksAndDuplicates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	toks := f.issue(3)
	input := "# leaked in incident 42\n" +
		"\n" +
		"  " + toks[0] + "  \n" +
		"\t" + toks[1] + "\r\n" +
		"   # an indented comment\n" +
		toks[0] + "\n" +
		toks[2] + "\n" +
		toks[1] + "\n" +
		"\n"
	res := f.run(t, input, "revoke")
	wantCode(t, res, exitOK)
	accounted(t, res.stdout, 3)
	if got, want := summaryLine(t, res.stdout, "duplicates"), "2 skipped (each token is revoked once)"; got != want {
		t.Errorf("duplicates: got %q, want %q", got, want)
	}
	if got := f.srv.Counts().Revoke; got != 3 {
		t.Errorf("revoke requests: got %d, want 3 (one per distinct token)", got)
	}
	for i, tok := range toks {
		if f.srv.Active(tok) {
			t.Errorf("token %d still active", i)
		}
	}
}

// A failure names the token's input line (its first, for a duplicate) and
// its fingerprint, and the summary counts failures by reason.
func TestRevokeFailuresNameLineAndFingerprint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	toks := f.issue(4)
	busy, refused := toks[1], toks[3]
	base := f.front(t, func(w http.ResponseWriter, r *http.Request, token string) bool {
		switch token {
		case busy:
			w.Header().Set("Retry-After", "120") // past -timeout: never slept
			http.Error(w, "<html>busy</html>", http.StatusServiceUnavailable)
			return true
		case refused:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error": "unsupported_token_type"}`)
			return true
		}
		return false
	})
	input := "# header\n" + // line 1
		toks[0] + "\n" + // 2
		"\n" + // 3
		busy + "\n" + // 4
		toks[2] + "\n" + // 5
		busy + "\n" + // 6: duplicate, not tried again
		"# note\n" + // 7
		refused + "\n" // 8
	res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: base}), stdin: input}, "revoke", "-timeout", "5s")
	wantCode(t, res, exitFailed)
	revoked, failed, _ := accounted(t, res.stdout, 4)
	if revoked != 2 || failed != 2 {
		t.Errorf("revoked, failed: got %d, %d, want 2, 2", revoked, failed)
	}
	wantContains(t, "stderr", res.stderr,
		fmt.Sprintf("line 4 (fp %s): HTTP 503", fingerprint(busy)),
		fmt.Sprintf("line 8 (fp %s): unsupported_token_type", fingerprint(refused)),
	)
	if strings.Contains(res.stderr, "line 6 ") {
		t.Errorf("stderr names line 6, a duplicate of line 4:\n%s", res.stderr)
	}
	wantContains(t, "summary", res.stdout, "  HTTP 503: 1\n", "  unsupported_token_type: 1\n", "re-run with the same input")
	if !f.srv.Active(busy) || !f.srv.Active(refused) || f.srv.Active(toks[0]) || f.srv.Active(toks[2]) {
		t.Error("server state does not match the summary")
	}
}

// A wrong secret fails with invalid_client: exit 1, a clear message, and the
// run stops rather than sending every token to a server that refuses them.
// The advice to check the credentials is printed however short the list.
func TestRevokeWrongSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		total       int
		concurrency int
	}{
		{"long list", 40, 4},
		{"fewer tokens than workers", 2, 8},
		{"one token", 1, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			toks := f.issue(tt.total)
			f.secret("not-the-secret")
			env := f.withEnv(map[string]string{envClientSecret: "not-the-secret"})
			res := f.runWith(t, invocation{env: env, stdin: "# leaked\n" + lines(toks...)}, "revoke", "-concurrency", fmt.Sprint(tt.concurrency))
			wantCode(t, res, exitFailed)
			revoked, failed, notAttempted := accounted(t, res.stdout, tt.total)
			if revoked != 0 || failed < 1 || failed > min(tt.concurrency, tt.total) {
				t.Errorf("revoked %d, failed %d: want 0 revoked and 1 to %d (the requests in flight) failed", revoked, failed, min(tt.concurrency, tt.total))
			}
			wantContains(t, "summary", res.stdout, fmt.Sprintf("  invalid_client: %d\n", failed))
			if notAttempted > 0 {
				wantContains(t, "summary", res.stdout, "stopped:        the server refused the client credentials (invalid_client)\n")
			}
			// The first token is on line 2 and is always among those tried.
			wantContains(t, "stderr", res.stderr,
				fmt.Sprintf("line 2 (fp %s): invalid_client", fingerprint(toks[0])),
				"check CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET (or -credentials)")
			if got := f.srv.Counts().Revoke; got != failed {
				t.Errorf("revoke requests: got %d, want %d (the failures)", got, failed)
			}
			for i, tok := range toks {
				if !f.srv.Active(tok) {
					t.Errorf("token %d revoked with a wrong secret", i)
				}
			}
		})
	}
}

// Ctrl-C: no new request starts, the ones in flight finish, and the summary
// accounts for every token.
func TestRevokeInterrupt(t *testing.T) {
	t.Parallel()
	const concurrency, total = 4, 30
	f := newFixture(t)
	toks := f.issue(total)
	var arrived atomic.Int32
	allIn, release := make(chan struct{}), make(chan struct{})
	base := f.front(t, func(w http.ResponseWriter, r *http.Request, token string) bool {
		if arrived.Add(1) == concurrency {
			close(allIn)
		}
		<-release // then on to the fake server, which revokes
		return false
	})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() {
		done <- f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: base}), stdin: lines(toks...), ctx: ctx},
			"revoke", "-concurrency", fmt.Sprint(concurrency))
	}()
	select {
	case <-allIn:
	case <-time.After(30 * time.Second):
		t.Fatal("the requests never arrived")
	}
	cancel() // the interrupt, while every worker has a request in flight
	once.Do(func() { close(release) })
	var res result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("revoke did not return after the interrupt")
	}

	wantCode(t, res, exitFailed)
	revoked, failed, notAttempted := accounted(t, res.stdout, total)
	if revoked != concurrency || failed != 0 || notAttempted != total-concurrency {
		t.Errorf("revoked, failed, not attempted: got %d, %d, %d; want %d, 0, %d", revoked, failed, notAttempted, concurrency, total-concurrency)
	}
	wantContains(t, "summary", res.stdout, fmt.Sprintf("(the first is on line %d)\nstopped:        interrupted\n", concurrency+1))
	wantContains(t, "stderr", res.stderr, "interrupted: starting no new requests")
	if got := arrived.Load(); got != concurrency {
		t.Errorf("requests sent: got %d, want %d", got, concurrency)
	}
	for i, tok := range toks {
		if want := i >= concurrency; f.srv.Active(tok) != want {
			t.Errorf("token %d: active %v, want %v", i, f.srv.Active(tok), want)
		}
	}
}

// A request that outlives -timeout fails as "timeout"; the others go on.
func TestRevokeTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	toks := f.issue(3)
	base := f.front(t, func(w http.ResponseWriter, r *http.Request, token string) bool {
		if token != toks[1] {
			return false
		}
		<-r.Context().Done() // hang until the client gives up
		return true
	})
	res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: base}), stdin: lines(toks...)}, "revoke", "-timeout", "200ms")
	wantCode(t, res, exitFailed)
	if revoked, failed, _ := accounted(t, res.stdout, 3); revoked != 2 || failed != 1 {
		t.Errorf("revoked, failed: got %d, %d, want 2, 1", revoked, failed)
	}
	wantContains(t, "stderr", res.stderr, fmt.Sprintf("line 2 (fp %s): timeout", fingerprint(toks[1])))
	wantContains(t, "summary", res.stdout, "  timeout: 1\n")
}

// On a terminal the progress line is redrawn in place; in a log it is a
// plain line. Either way failures get lines of their own.
func TestRevokeProgress(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{true, false} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			toks := f.issue(20)
			f.secret("bad-client")
			// From a file: revoke refuses a terminal on stdin.
			file := writeFile(t, "tokens.txt", lines(toks...), 0o600)
			res := f.runWith(t, invocation{env: f.env, tty: tty}, "revoke", file)
			wantCode(t, res, exitOK)
			wantContains(t, "stderr", res.stderr, "progress: 20/20 done, 0 failed, ")
			if got := strings.Contains(res.stderr, "\r"); got != tty {
				t.Errorf("stderr has \\r: got %v, want %v:\n%q", got, tty, res.stderr)
			}
			if !strings.HasSuffix(res.stderr, "\n") {
				t.Errorf("stderr does not end with a newline: %q", res.stderr)
			}
		})
	}
}

// A line that is not one bearer token stops the run before anything is
// sent, and is named by its number only. The server answers 200 for any
// string, so each of these lines would otherwise be reported revoked while
// its token stays active.
func TestRevokeRefusesMalformedLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string // T0, T1 and T2 are replaced by active tokens
		want  string
	}{
		{"words around tokens", "T0\nBearer T1\nT2 trailing words\n", "2 lines hold something other than one token (lines 2, 3)"},
		{"no-break space inside", "T0\nT1\u00a0T2\n", "1 line holds something other than one token (line 2)"},
		{"quoted, with a comma", "# from a JSON array\n\"T0\",\nT1\n", "1 line holds something other than one token (line 2)"},
		{"zero-width space after", "T0\u200b\nT1\n", "1 line holds something other than one token (line 1)"},
		{"byte order mark inside", "T0\n\ufeffT1\n", "1 line holds something other than one token (line 2)"},
		{"padding inside", "T0=x\n", "1 line holds something other than one token (line 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			toks := f.issue(3)
			input := strings.NewReplacer("T0", toks[0], "T1", toks[1], "T2", toks[2]).Replace(tt.input)
			res := f.run(t, input, "revoke")
			wantCode(t, res, exitUsage)
			wantContains(t, "stderr", res.stderr, tt.want, "RFC 6750", "nothing was sent")
			if res.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", res.stdout)
			}
			if got := f.srv.Counts().Revoke; got != 0 {
				t.Errorf("revoke requests: got %d, want 0", got)
			}
		})
	}
}

// A UTF-8 byte order mark at the start of the input, as some editors write,
// is not part of the first token.
func TestRevokeByteOrderMark(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	toks := f.issue(2)
	res := f.run(t, "\ufeff"+lines(toks...), "revoke")
	wantCode(t, res, exitOK)
	if revoked, _, _ := accounted(t, res.stdout, 2); revoked != 2 {
		t.Errorf("revoked: got %d, want 2", revoked)
	}
	for i, tok := range toks {
		if f.srv.Active(tok) {
			t.Errorf("token %d still active", i)
		}
	}
}

// An input with no token (a grep that matched nothing) is an error, not a
// success.
func TestRevokeEmptyInput(t *testing.T) {
	t.Parallel()
	for _, input := range []string{"", "# nothing leaked after all\n\n", "\ufeff\n"} {
		t.Run(fmt.Sprintf("%q", input), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			res := f.run(t, input, "revoke")
			wantCode(t, res, exitUsage)
			wantContains(t, "stderr", res.stderr, "cryptofuse revoke: no tokens in stdin; nothing sent\n")
			if res.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", res.stdout)
			}
			if got := f.srv.Counts().Revoke; got != 0 {
				t.Errorf("revoke requests: got %d, want 0", got)
			}
		})
	}
}

// A transport failure reads once: the reason and the attempts, without the
// SDK's "cryptofuse:" prefix or the request's URL.
func TestRevokeConnectionClosedMessage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	toks := f.issue(1)
	base := f.front(t, func(w http.ResponseWriter, r *http.Request, token string) bool {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return true
		}
		conn.Close() // no response at all
		return true
	})
	res := f.runWith(t, invocation{env: f.withEnv(map[string]string{envBaseURL: base}), stdin: lines(toks...)}, "revoke")
	wantCode(t, res, exitFailed)
	want := fmt.Sprintf("\nline 1 (fp %s): connection closed\n", fingerprint(toks[0]))
	if !strings.Contains("\n"+res.stderr, want) {
		t.Errorf("stderr: got\n%s\nwant the line %q", res.stderr, strings.TrimSpace(want))
	}
	for _, bad := range []string{"cryptofuse: ", "Post "} {
		if strings.Contains(res.stderr, bad) {
			t.Errorf("stderr holds %q:\n%s", bad, res.stderr)
		}
	}
	wantContains(t, "summary", res.stdout, "  connection closed: 1\n")
}

// The fake server answers every token's first revoke with 503 and
// Retry-After: 0; the SDK's default policy (3 attempts) revokes them all.
func TestRevoke1000WithInjected503s(t *testing.T) {
	t.Parallel()
	const total = 1000
	f := newFixture(t)
	toks := f.issue(total)
	f.srv.InjectFault(-1, cryptofusetest.Fault{
		Path:         cryptofusetest.RevokePath,
		Status:       503,
		RetryAfter:   "0",
		OncePerToken: true,
	})
	res := f.run(t, "# leaked\n"+lines(toks...), "revoke")
	wantCode(t, res, exitOK)
	revoked, failed, notAttempted := accounted(t, res.stdout, total)
	if revoked != total || failed != 0 || notAttempted != 0 {
		t.Errorf("revoked, failed, not attempted: got %d, %d, %d; want %d, 0, 0", revoked, failed, notAttempted, total)
	}
	c := f.srv.Counts()
	if c.Faulted != total {
		t.Errorf("faulted requests: got %d, want %d", c.Faulted, total)
	}
	if c.Revoke != 2*total {
		t.Errorf("revoke requests: got %d, want %d (one 503 and one success per token)", c.Revoke, 2*total)
	}
	for i, tok := range toks {
		if f.srv.Active(tok) {
			t.Errorf("token %d still active", i)
		}
	}
	if strings.Contains(res.stderr, "line ") {
		t.Errorf("stderr reports failures:\n%s", res.stderr)
	}
}
