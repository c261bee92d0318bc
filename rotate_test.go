package cryptofuse

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRotateToken(t *testing.T) {
	t.Parallel()
	const newToken = "AT-1234567890abcdefghijklmnopq"
	ok := answer{200, nil, ""}
	issued := answer{200, jsonHeader(), tokenJSON1}
	refused := answer{401, jsonHeader(), `{"error": "invalid_client"}`}
	unavailable := answer{503, nil, "<html/>"}
	badScope := answer{400, jsonHeader(), `{"error": "invalid_scope"}`}
	cases := []struct {
		name        string
		issueFirst  bool
		revoke      answer
		token       answer
		wantOrder   []string
		wantToken   bool // a new token is returned
		wantErr     bool
		wantRevoked bool
		wantIssued  bool
		wantIs      error
		wantMsg     string
	}{
		{name: "success", revoke: ok, token: issued,
			wantOrder: []string{"revoke", "token"}, wantToken: true},
		{name: "revoke refused: nothing issued", revoke: refused, token: issued,
			wantOrder: []string{"revoke"}, wantErr: true, wantIs: ErrInvalidClient,
			wantMsg: "cryptofuse: rotate: revoking the old token failed, so no new token was issued: revoke: 401 Unauthorized: invalid_client"},
		{name: "revoke unavailable: retried, nothing issued", revoke: unavailable, token: issued,
			wantOrder: []string{"revoke", "revoke", "revoke"}, wantErr: true,
			wantMsg: "cryptofuse: rotate: revoking the old token failed, so no new token was issued: revoke: 503 Service Unavailable (after 3 attempts)"},
		{name: "issue fails after revoke", revoke: ok, token: badScope,
			wantOrder: []string{"revoke", "token"}, wantErr: true, wantRevoked: true, wantIs: ErrInvalidScope,
			wantMsg: "cryptofuse: rotate: the old token was revoked, but issuing a new one failed: token: 400 Bad Request: invalid_scope"},

		{name: "issue first: success", issueFirst: true, revoke: ok, token: issued,
			wantOrder: []string{"token", "revoke"}, wantToken: true},
		{name: "issue first: issue fails, old token untouched", issueFirst: true, revoke: ok, token: badScope,
			wantOrder: []string{"token"}, wantErr: true, wantIs: ErrInvalidScope,
			wantMsg: "cryptofuse: rotate: issuing a new token failed; the old token was not revoked: token: 400 Bad Request: invalid_scope"},
		{name: "issue first: revoke fails, both tokens live", issueFirst: true, revoke: refused, token: issued,
			wantOrder: []string{"token", "revoke"}, wantToken: true, wantErr: true, wantIssued: true, wantIs: ErrInvalidClient,
			wantMsg: "cryptofuse: rotate: a new token was issued, but revoking the old token failed, so it is still valid: revoke: 401 Unauthorized: invalid_client"},
		{name: "issue first: revoke unavailable after retries", issueFirst: true, revoke: unavailable, token: issued,
			wantOrder: []string{"token", "revoke", "revoke", "revoke"}, wantToken: true, wantErr: true, wantIssued: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sleep, _ := fakeSleep()
			opts := []Option{sleep}
			if tc.issueFirst {
				opts = append(opts, WithIssueFirst())
			}
			c, mt := setup(t, opts...)
			var order []string
			mt.RegisterResponder(http.MethodPost, mockBase+revokePath, func(r *http.Request) (*http.Response, error) {
				rec := recordRequest(t, r)
				order = append(order, "revoke")
				assert.Equal(t, "token=old-token&token_type_hint=access_token", rec.Body)
				return tc.revoke.responder()(r)
			})
			mt.RegisterResponder(http.MethodPost, mockBase+tokenPath, func(r *http.Request) (*http.Response, error) {
				order = append(order, "token")
				return tc.token.responder()(r)
			})

			tok, err := c.RotateToken(context.Background(), "old-token")

			assert.Equal(t, tc.wantOrder, order, "requests in order")
			if tc.wantToken {
				require.NotNil(t, tok, "new token")
				assert.Equal(t, newToken, tok.AccessToken)
			} else {
				assert.Nil(t, tok, "new token")
			}
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			var re *RotateError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.wantRevoked, re.Revoked, "Revoked")
			assert.Equal(t, tc.wantIssued, re.Issued, "Issued")
			var e *Error
			assert.ErrorAs(t, err, &e, "the step's *Error is reachable")
			if tc.wantIs != nil {
				assert.ErrorIs(t, err, tc.wantIs)
			}
			if tc.wantMsg != "" {
				assert.Equal(t, tc.wantMsg, err.Error())
			}
			assertNoSecret(t, err.Error(), "old-token", newToken, testSecret)
		})
	}
}

func TestRotateError(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	cases := []struct {
		err  *RotateError
		want string
	}{
		{&RotateError{Revoked: true, Err: cause}, "cryptofuse: rotate: the old token was revoked, but issuing a new one failed: boom"},
		{&RotateError{Revoked: false, Err: cause}, "cryptofuse: rotate: revoking the old token failed, so no new token was issued: boom"},
		{&RotateError{Revoked: true}, "cryptofuse: rotate: the old token was revoked, but issuing a new one failed"},
		{&RotateError{Issued: true, Err: cause}, "cryptofuse: rotate: a new token was issued, but revoking the old token failed, so it is still valid: boom"},
		{&RotateError{Err: cause, failed: opToken}, "cryptofuse: rotate: issuing a new token failed; the old token was not revoked: boom"},
		// One of ours inside: its message, without a second prefix, and
		// without editing its text (a description that holds the prefix
		// keeps it).
		{&RotateError{Err: &Error{Op: opRevoke, StatusCode: 400, Code: "invalid_request", Description: "see cryptofuse: docs"}},
			"cryptofuse: rotate: revoking the old token failed, so no new token was issued: revoke: 400 Bad Request: invalid_request: see cryptofuse: docs"},
		{&RotateError{Err: &connError{op: opToken, attempts: 3, err: errors.New("dial tcp: refused"), text: "dial tcp: refused"}, failed: opToken},
			"cryptofuse: rotate: issuing a new token failed; the old token was not revoked: token: after 3 attempts: dial tcp: refused"},
		// A foreign error that happens to start with the prefix is left as
		// it is.
		{&RotateError{Revoked: true, Err: errors.New("cryptofuse: foreign")}, "cryptofuse: rotate: the old token was revoked, but issuing a new one failed: cryptofuse: foreign"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.err.Error())
			assert.Equal(t, tc.err.Err, errors.Unwrap(tc.err))
		})
	}
}
