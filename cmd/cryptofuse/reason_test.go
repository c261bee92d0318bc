package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// explain builds its text from the error's fields: a server description
// that happens to hold the SDK's own prefix is shown as it is, never edited.
func TestExplain(t *testing.T) {
	t.Parallel()
	_, configErr := cryptofuse.NewClient("", "secret")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"answer", &cryptofuse.Error{Op: "token", StatusCode: 400, Code: "invalid_scope"}, "400 Bad Request: invalid_scope"},
		{"description with the prefix", &cryptofuse.Error{Op: "revoke", StatusCode: 400, Code: "invalid_request", Description: "upstream said: cryptofuse: token: no"},
			"400 Bad Request: invalid_request: upstream said: cryptofuse: token: no"},
		{"retry after", &cryptofuse.Error{Op: "token", StatusCode: 503, RetryAfter: 5 * time.Second}, "503 Service Unavailable (retry after 5s)"},
		{"redirect", &cryptofuse.Error{Op: "token", StatusCode: 302}, "302 Found: redirect not followed"},
		{"unusable 2xx", &cryptofuse.Error{Op: "token", StatusCode: 200}, "200 OK: the answer is not a usable token"},
		{"wrapped answer", fmt.Errorf("outer: %w", &cryptofuse.Error{Op: "token", StatusCode: 401, Code: "invalid_client"}), "401 Unauthorized: invalid_client"},
		{"rotate", &cryptofuse.RotateError{Revoked: true, Err: &cryptofuse.Error{Op: "token", StatusCode: 503}},
			"the old token was revoked, but issuing a new one failed: 503 Service Unavailable"},
		{"transport", &url.Error{Op: "Post", URL: "http://127.0.0.1:1/o/token/", Err: errors.New("dial tcp: connection refused")}, "dial tcp: connection refused"},
		{"config", configErr, "invalid configuration: empty client id"},
		{"other", context.Canceled, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := explain(tt.err); got != tt.want {
				t.Errorf("explain: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRotateState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        cryptofuse.RotateError
		issueFirst bool
		want       string
	}{
		{"revoke failed", cryptofuse.RotateError{}, false, "revoking the old token failed, so no new token was issued"},
		{"issue failed after revoke", cryptofuse.RotateError{Revoked: true}, false, "the old token was revoked, but issuing a new one failed"},
		{"issue-first: issue failed", cryptofuse.RotateError{}, true, "issuing a new token failed; the old token was not revoked"},
		{"issue-first: revoke failed", cryptofuse.RotateError{Issued: true}, true, "a new token was issued, but revoking the old token failed, so it is still valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rotateState(&tt.err, tt.issueFirst); got != tt.want {
				t.Errorf("rotateState: got %q, want %q", got, tt.want)
			}
		})
	}
}
