// Command logout serves an HTTP logout endpoint that revokes the caller's
// bearer token (RFC 7009) and checks that the revocation took (RFC 7662),
// with cryptofuse.Client.RevokeAndVerify.
//
// With no credentials in the environment it demonstrates itself against the
// SDK's built-in fake server and exits:
//
//	go run ./examples/logout
//
// With CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET set (and
// CRYPTOFUSE_BASE_URL if the API is elsewhere) it serves POST /logout on
// -addr until interrupted:
//
//	curl -X POST -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/logout
//
// What the 204 proves: the server reports the token inactive after the
// revocation. The handler revokes with this service's own client
// credentials; for another client's token the revocation endpoint still
// answers 200, but django-oauth-toolkit 3.x leaves that token valid
// (RFC 7009 §2.1), where 1.7.0 revokes it. Revoke alone would report that
// as a success; RevokeAndVerify asks the introspection endpoint afterwards
// (one more request) and returns cryptofuse.ErrStillActive, which the
// handler answers with 403. A logout
// whose session also holds a refresh token should revoke the refresh token
// (cryptofuse.RefreshTokenHint): that takes its access token along on every
// server version, whereas revoking only the access token leaves the refresh
// token unrevoked on 1.7.0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/examples/internal/setup"
	"github.com/cryptofuse/cryptofuse-go/internal/drain"
)

// revokeTimeout bounds one revocation. It is detached from the caller's
// request: a user who closes the tab mid-logout must still be logged out.
const revokeTimeout = 10 * time.Second

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen on this `address` (with real credentials)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "logout:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string, out io.Writer) error {
	env, err := setup.FromEnv()
	if err != nil {
		return err
	}
	defer env.Close()
	log := slog.New(slog.NewTextHandler(out, nil))
	mux := http.NewServeMux()
	mux.Handle("/logout", logoutHandler(env.Client, log))

	if env.Fake != nil {
		return demo(ctx, env, mux, out)
	}
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), revokeTimeout)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(out, "serving POST http://%s/logout against %s\n", addr, env.Describe())
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logoutHandler answers POST with "Authorization: Bearer <token>" (RFC 6750
// §2.1) by revoking the token and checking that the server reports it
// inactive: 204 when it is (revoked now, or invalid already: RFC 7009
// answers the same), 403 when the server kept it (a token issued to another
// client, on django-oauth-toolkit 3.x), 401 without a bearer token, 503
// with Retry-After when the token server cannot be reached or is busy, and
// 500 when this service's own credentials are refused. The token never
// reaches a log line: the SDK's errors do not contain it.
func logoutHandler(c *cryptofuse.Client, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		token, ok := cryptofuse.BearerToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="logout"`)
			http.Error(w, "missing bearer token", http.StatusUnauthorized)
			return
		}

		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), revokeTimeout)
		defer cancel()
		err := c.RevokeAndVerify(ctx, token, cryptofuse.AccessTokenHint)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}

		log.Error("logout: revoking the token failed", "err", err)
		var e *cryptofuse.Error
		switch {
		case errors.Is(err, cryptofuse.ErrStillActive):
			// The server kept the token: it was not issued to this
			// service. Say so rather than pretend the user is logged out.
			http.Error(w, "this token was not issued to this service and is still valid", http.StatusForbidden)
		case errors.Is(err, cryptofuse.ErrInvalidClient):
			// Our own client credentials are wrong: an operator must act.
			http.Error(w, "logout is misconfigured", http.StatusInternalServerError)
		case errors.As(err, &e) && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests:
			http.Error(w, "logout failed", http.StatusInternalServerError)
		default: // 5xx, 429, timeouts, connection failures: try again later
			retry := 5 * time.Second
			if e != nil && e.RetryAfter > 0 {
				retry = e.RetryAfter
			}
			w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
			http.Error(w, "logout is temporarily unavailable", http.StatusServiceUnavailable)
		}
	})
}

// demo serves the handler on loopback, logs a user in (issues a token on the
// fake server), logs them out through the handler, and shows, with
// introspection, that the token is gone; then it tries to log out a token
// of another client, which the fake (as django-oauth-toolkit 3.x) keeps.
func demo(ctx context.Context, env *setup.Env, h http.Handler, out io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	fmt.Fprintln(out, "logout handler demo against", env.Describe())
	env.Fake.AddClient(otherClientID, "other-secret")
	for _, user := range []struct {
		name, clientID string
		wantStatus     int
		wantActive     bool
	}{
		{"user token", env.ClientID, http.StatusNoContent, false},
		{"other client's", otherClientID, http.StatusForbidden, true},
	} {
		token := env.Fake.IssueToken(user.clientID, "")
		if err := show(ctx, env, out, user.name, token); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+ln.Addr().String()+"/logout", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		drain.Close(resp.Body)
		fmt.Fprintf(out, "POST /logout   %s\n", resp.Status)
		if err := show(ctx, env, out, user.name, token); err != nil {
			return err
		}
		if resp.StatusCode != user.wantStatus || env.Fake.Active(token) != user.wantActive {
			return fmt.Errorf("%s: got %s, active %t; want %d, active %t", user.name, resp.Status, env.Fake.Active(token), user.wantStatus, user.wantActive)
		}
	}
	return nil
}

// otherClientID is the demo's second client, whose token this service
// cannot revoke.
const otherClientID = "other-app"

// show prints whether the server reports token active, asking its
// introspection endpoint (Client.Introspect).
func show(ctx context.Context, env *setup.Env, out io.Writer, name, token string) error {
	in, err := env.Client.Introspect(ctx, token)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%-14s %s  active: %t\n", name, setup.Fingerprint(token), in.Active)
	return nil
}
