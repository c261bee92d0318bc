package cryptofuse

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSentinels(t *testing.T) {
	t.Parallel()
	for name, s := range sentinels {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code := s.(*plainError).code
			assert.Equal(t, "cryptofuse: "+code, s.Error())
			assert.True(t, errors.Is(&Error{Code: code}, s))
			assert.False(t, errors.Is(&Error{Code: code + "x"}, s))
			assert.False(t, errors.Is(&Error{}, s))
		})
	}
	assert.False(t, errors.Is(&Error{}, ErrEmptyToken))
}

// TestErrorMessages: each error type builds its message once, without the
// prefix, and Error adds "cryptofuse: " once; messageOf gives the message of
// one of ours and the whole text of any other error.
func TestErrorMessages(t *testing.T) {
	t.Parallel()
	foreign := errors.New("cryptofuse: not ours")
	cases := []struct {
		name        string
		err         error
		want        string // Error()
		wantMessage string // messageOf
	}{
		{"ErrEmptyToken", ErrEmptyToken, "cryptofuse: empty token", "empty token"},
		{"sentinel", ErrInvalidClient, "cryptofuse: invalid_client", "invalid_client"},
		{"plain with a cause", &plainError{msg: "revoke", err: errors.New("boom")}, "cryptofuse: revoke: boom", "revoke: boom"},
		{"answer, every part", &Error{Op: opToken, StatusCode: 503, Code: "temporarily_unavailable", Description: "busy",
			RetryAfter: 2 * time.Second, detail: "not retried: context canceled", attempts: 3},
			"cryptofuse: token: 503 Service Unavailable: temporarily_unavailable: busy: not retried: context canceled (retry after 2s) (after 3 attempts)",
			"token: 503 Service Unavailable: temporarily_unavailable: busy: not retried: context canceled (retry after 2s) (after 3 attempts)"},
		{"answer, status only", &Error{Op: opRevoke, StatusCode: 599}, "cryptofuse: revoke: 599", "revoke: 599"},
		{"no answer", &connError{op: opRevoke, attempts: 2, err: errors.New("dial tcp: refused"), text: "dial tcp: refused"},
			"cryptofuse: revoke: after 2 attempts: dial tcp: refused", "revoke: after 2 attempts: dial tcp: refused"},
		{"no answer, one attempt", &connError{op: opToken, attempts: 1, err: context.DeadlineExceeded, text: context.DeadlineExceeded.Error()},
			"cryptofuse: token: context deadline exceeded", "token: context deadline exceeded"},
		{"rotation around one of ours", &RotateError{Err: ErrEmptyToken},
			"cryptofuse: rotate: revoking the old token failed, so no new token was issued: empty token",
			"rotate: revoking the old token failed, so no new token was issued: empty token"},
		{"foreign", foreign, "cryptofuse: not ours", "cryptofuse: not ours"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.err.Error(), "Error()")
			assert.Equal(t, tc.wantMessage, messageOf(tc.err), "messageOf")
			if _, ours := tc.err.(messager); ours {
				assert.False(t, strings.HasPrefix(messageOf(tc.err), prefix), "message %q starts with the prefix", messageOf(tc.err))
			}
		})
	}
}

func TestErrEmptyToken(t *testing.T) {
	t.Parallel()
	var pe *plainError
	assert.ErrorAs(t, ErrEmptyToken, &pe, "ErrEmptyToken is a *plainError")
	assert.Nil(t, errors.Unwrap(ErrEmptyToken), "it has no cause")
	assert.False(t, errors.Is(ErrEmptyToken, ErrInvalidRequest))
}

// TestFinish: the final error of a call records its attempts, and a wait cut
// short by ctx adds the context's error as a cause.
func TestFinish(t *testing.T) {
	t.Parallel()
	cause := errors.New("read: reset")
	cases := []struct {
		name   string
		err    error
		ctxErr error
		want   string
		wantIs []error
	}{
		{"answer", &Error{Op: opRevoke, StatusCode: 503}, nil, "cryptofuse: revoke: 503 Service Unavailable (after 3 attempts)", nil},
		{"answer, then ctx", &Error{Op: opRevoke, StatusCode: 503}, context.Canceled,
			"cryptofuse: revoke: 503 Service Unavailable: not retried: context canceled (after 3 attempts)", []error{context.Canceled}},
		{"answer with a cause, then ctx", &Error{Op: opToken, StatusCode: 200, err: cause, detail: "reading the response body"}, context.DeadlineExceeded,
			"cryptofuse: token: 200 OK: reading the response body; not retried: context deadline exceeded (after 3 attempts)", []error{cause, context.DeadlineExceeded}},
		{"no answer, then ctx", &connError{op: opRevoke, err: cause, text: cause.Error()}, context.Canceled,
			"cryptofuse: revoke: after 3 attempts: read: reset (then context canceled)", []error{cause, context.Canceled}},
		{"no answer, ctx already in the cause", &connError{op: opRevoke, err: context.Canceled, text: context.Canceled.Error()}, context.Canceled,
			"cryptofuse: revoke: after 3 attempts: context canceled", []error{context.Canceled}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := finish(tc.err, 3, tc.ctxErr)
			assert.Equal(t, tc.want, err.Error())
			for _, target := range tc.wantIs {
				assert.ErrorIs(t, err, target)
			}
		})
	}
}
