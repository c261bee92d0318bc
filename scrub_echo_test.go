package cryptofuse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cryptofuse/cryptofuse-go/internal/scrub/scrubtest"
)

// A server, a gateway or net/http itself may echo the
// client secret or the token, in any encoding, into what becomes an error or
// a log line. Every echo form, on every error path, in every rendering of
// the error, must come out scrubbed.

const echoID = "cf-echo-client"

// echoPairs are the secrets under test. Each secret and token holds a
// marker (Zq9X, Tk7W) that survives every echo form but base64, so that a
// leak in a form nobody listed still shows; the base64 forms are checked by
// their text.
var echoPairs = []struct{ name, secret, token string }{
	{"special characters", `Zq9X-s3cr&t/é<>+:%😀"\'=`, `Tk7W-tok/é&<>+😀"\=.~`},
	{"invalid UTF-8", "Zq9X-s3cr\xffet\xfe\xfd", "Tk7W-tok\xfe\xffen"},
}

// echoPath is one way an echo reaches an error: a server that answers
// every request with it.
type echoPath struct {
	name string
	// raw: the answer is written by hand on a TCP connection (a
	// malformed one); otherwise handler answers through net/http.
	raw     func(echo string) string
	handler func(echo string) http.HandlerFunc
	// attempts is how many requests the call makes, retries included:
	// revoke's, token's.
	attempts [2]int
	// inText: the echo reaches the error's text (as [redacted]); the HTML
	// pages do not reach it at all.
	inText bool
	// tokenOnly: the path exists only for the token call (a 2xx is a
	// revoke's success).
	tokenOnly bool
}

func jsonAnswer(status int, code, echo string, header map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"error":             code,
			"error_description": `the request was {"token":"` + echo + `"}`,
			"error_uri":         "https://errors.example/e?req=" + echo,
		})
	}
}

func htmlAnswer(status int, echo string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Echo", echo)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<html><pre>"+echo+"</pre></html>")
	}
}

var echoPaths = []echoPath{
	{name: "400 JSON", attempts: [2]int{1, 1}, inText: true, handler: func(echo string) http.HandlerFunc {
		return jsonAnswer(http.StatusBadRequest, "invalid_request", echo, nil)
	}},
	{name: "401 JSON", attempts: [2]int{1, 1}, inText: true, handler: func(echo string) http.HandlerFunc {
		return jsonAnswer(http.StatusUnauthorized, "invalid_client", echo,
			map[string]string{"WWW-Authenticate": `Bearer error="invalid_client", error_description="` + echo + `"`})
	}},
	{name: "500 HTML", attempts: [2]int{3, 1}, handler: func(echo string) http.HandlerFunc { return htmlAnswer(500, echo) }},
	{name: "502 HTML", attempts: [2]int{3, 1}, handler: func(echo string) http.HandlerFunc { return htmlAnswer(502, echo) }},
	{name: "503 JSON retried", attempts: [2]int{3, 3}, inText: true, handler: func(echo string) http.HandlerFunc {
		return jsonAnswer(http.StatusServiceUnavailable, "temporarily_unavailable", echo, map[string]string{"Retry-After": "0"})
	}},
	{name: "200 with an error member", attempts: [2]int{1, 1}, inText: true, tokenOnly: true, handler: func(echo string) http.HandlerFunc {
		return jsonAnswer(http.StatusOK, "server_error", echo, nil)
	}},
	{name: "malformed status line", attempts: [2]int{3, 1}, inText: true, raw: func(echo string) string {
		return "HTTP/1.1" + echo + "\r\n\r\n"
	}},
	{name: "malformed header", attempts: [2]int{3, 1}, inText: true, raw: func(echo string) string {
		return "HTTP/1.1 200 OK\r\nX-Echo token=" + echo + "\r\nContent-Length: 0\r\n\r\n"
	}},
	{name: "bad Content-Length", attempts: [2]int{3, 1}, inText: true, raw: func(echo string) string {
		return "HTTP/1.1 400 Bad Request\r\nContent-Length: " + echo + "\r\n\r\n"
	}},
}

// echoServer starts a loopback server for p that echoes echo in every
// answer, and returns its URL and its request count.
func echoServer(t *testing.T, p echoPath, echo string) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	if p.handler != nil {
		h := p.handler(echo)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			h(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL, &n
	}
	answer := writeThen(p.raw(echo), false)
	srv := newRawServer(t, func(conn net.Conn, req []byte) {
		n.Add(1)
		answer(conn, req)
	})
	return srv.URL, &n
}

// noSleep is a clock sleep that returns at once, so retries cost no time.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func TestScrubEchoedSecrets(t *testing.T) {
	for _, pair := range echoPairs {
		// What must never show: each marker, and the tail of each base64
		// credential (its head encodes the public client id).
		leaks := []string{"Zq9X", "Tk7W"}
		for _, b := range scrubtest.BasicForms(echoID, pair.secret) {
			b = strings.TrimRight(b, "=")
			leaks = append(leaks, b[len(b)/2:])
		}
		// Each echo form of the secret and token, and the base64 ones of
		// the secret alone.
		echoes := map[string]string{}
		tokenForms := scrubtest.EchoForms(pair.token)
		for name, f := range scrubtest.EchoForms(pair.secret) {
			echoes[name] = "secret=" + f + "&token=" + tokenForms[name]
		}
		for name, f := range scrubtest.BasicForms(echoID, pair.secret) {
			echoes[name] = "Authorization=" + f
		}
		for _, p := range echoPaths {
			for _, op := range []string{opRevoke, opToken} {
				if p.tokenOnly && op != opToken {
					continue
				}
				for form, echo := range echoes {
					t.Run(pair.name+"/"+p.name+"/"+op+"/"+form, func(t *testing.T) {
						testEcho(t, pair.secret, pair.token, p, op, echo, leaks)
					})
				}
			}
		}
	}
}

func testEcho(t *testing.T, secret, token string, p echoPath, op, echo string, leaks []string) {
	baseURL, requests := echoServer(t, p, echo)
	var logs bytes.Buffer
	opts := []Option{
		WithBaseURL(baseURL),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		withClock(clock{sleep: noSleep}),
	}
	if op == opToken {
		// Issue first: the token request is the first, and knows the
		// old token, which it must scrub too.
		opts = append(opts, WithIssueFirst())
	}
	c, err := NewClient(echoID, secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if op == opRevoke {
		err = c.Revoke(ctx, token, AccessTokenHint)
	} else {
		_, err = c.RotateToken(ctx, token)
	}
	if err == nil {
		t.Fatal("got nil error, want one")
	}
	want := p.attempts[0]
	if op == opToken {
		want = p.attempts[1]
	}
	if got := int(requests.Load()); got != want {
		t.Errorf("got %d requests, want %d", got, want)
	}

	texts := map[string]string{"log": logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		texts[verb] = fmt.Sprintf(verb, err)
	}
	for i, e := 0, error(err); e != nil; i, e = i+1, errors.Unwrap(e) {
		texts[fmt.Sprintf("Error() of cause %d (%T)", i, e)] = e.Error()
	}
	// What errors.As hands out shows no secret either (the transport's
	// error keeps what it is, but not a text that holds a secret).
	var ue *url.Error
	if errors.As(err, &ue) {
		texts["errors.As *url.Error"] = ue.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) {
		texts["errors.As net.Error"] = ne.Error()
	}
	var e *Error
	if errors.As(err, &e) {
		texts["Code"], texts["Description"], texts["URI"] = e.Code, e.Description, e.URI
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if s, ok := rec["error"].(string); ok {
			texts["log error attribute"] = s
		}
	}
	for where, text := range texts {
		for _, leak := range leaks {
			if strings.Contains(text, leak) {
				t.Errorf("%s shows a secret (%q): %s", where, leak, abbrevEcho(text))
			}
		}
	}
	// The echo did reach the error, and was replaced: else the test
	// checks nothing.
	if p.inText && !strings.Contains(err.Error(), redacted) {
		t.Errorf("got %s, want the echo shown as %s", abbrevEcho(err.Error()), redacted)
	}
	if !utf8.ValidString(err.Error()) {
		t.Errorf("Error() is not valid UTF-8: %q", err.Error())
	}
}

func abbrevEcho(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}
