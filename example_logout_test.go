package cryptofuse_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// c is the client that the README's logout handler uses.
var c *cryptofuse.Client

// logout is the README's logout handler, word for word (README.md, "Logout:
// revoke the user's token"): keep the two in step.
func logout(w http.ResponseWriter, r *http.Request) {
	token, ok := cryptofuse.BearerToken(r) // from "Authorization: Bearer …" (RFC 6750 §2.1)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="logout"`)
		http.Error(w, "missing bearer token", http.StatusUnauthorized)
		return
	}

	// Detach from the request: a user who closes the tab must still be logged out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()

	if err := c.Revoke(ctx, token, cryptofuse.AccessTokenHint); err != nil {
		slog.Error("logout failed", "err", err) // safe: errors never contain the token
		http.Error(w, "logout failed", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func ExampleBearerToken() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	var err error
	c, err = cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	userToken := srv.IssueToken("my-service", "")

	for _, auth := range []string{"Bearer " + userToken, ""} {
		r := httptest.NewRequest(http.MethodPost, "/logout", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		logout(w, r)
		fmt.Println(w.Code, "active:", srv.Active(userToken))
	}
	// Output:
	// 204 active: false
	// 401 active: false
}

// TestLogout is the README's test of the logout handler, word for word: a
// test of your own code against cryptofusetest, with no server to run.
func TestLogout(t *testing.T) {
	srv := cryptofusetest.NewServer("svc", "svc-secret")
	t.Cleanup(srv.Close)
	var err error
	c, err = cryptofuse.NewClient("svc", "svc-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}

	token := srv.IssueToken("svc", "") // a token, as if a user had logged in
	r := httptest.NewRequest(http.MethodPost, "/logout", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	logout(w, r)

	if w.Code != http.StatusNoContent {
		t.Errorf("status: got %d, want %d", w.Code, http.StatusNoContent)
	}
	if srv.Active(token) {
		t.Error("token still active after logout")
	}
}
