package cryptofuse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestErrorMapping checks the *Error that each answer becomes: a non-2xx
// answer (newError) or an unusable 2xx token answer (answerError).
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	fixed := testNow

	cases := []struct {
		name         string
		op           string // which call gets the answer
		answer       answer
		wantStatus   int
		wantCode     string
		wantDesc     string
		wantURI      string
		wantRetry    time.Duration
		wantSentinel string // key of sentinels, or ""
		wantMessage  string // exact Error(), or ""
	}{
		{name: "invalid_request", op: opRevoke,
			answer:     answer{400, jsonHeader(), `{"error": "invalid_request", "error_description": "Missing token parameter."}`},
			wantStatus: 400, wantCode: "invalid_request", wantDesc: "Missing token parameter.", wantSentinel: "ErrInvalidRequest",
			wantMessage: "cryptofuse: revoke: 400 Bad Request: invalid_request: Missing token parameter."},
		{name: "invalid_client with WWW-Authenticate", op: opRevoke,
			answer:     answer{401, http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {`Bearer error="invalid_client"`}}, `{"error": "invalid_client"}`},
			wantStatus: 401, wantCode: "invalid_client", wantSentinel: "ErrInvalidClient",
			wantMessage: "cryptofuse: revoke: 401 Unauthorized: invalid_client"},
		{name: "invalid_client on token", op: opToken,
			answer:     answer{401, jsonHeader(), `{"error": "invalid_client"}`},
			wantStatus: 401, wantCode: "invalid_client", wantSentinel: "ErrInvalidClient",
			wantMessage: "cryptofuse: token: 401 Unauthorized: invalid_client"},
		{name: "invalid_grant", op: opToken,
			answer:     answer{400, jsonHeader(), `{"error": "invalid_grant", "error_description": "Invalid credentials given."}`},
			wantStatus: 400, wantCode: "invalid_grant", wantDesc: "Invalid credentials given.", wantSentinel: "ErrInvalidGrant"},
		{name: "unauthorized_client", op: opToken,
			answer:     answer{400, jsonHeader(), `{"error": "unauthorized_client"}`},
			wantStatus: 400, wantCode: "unauthorized_client", wantSentinel: "ErrUnauthorizedClient"},
		{name: "unsupported_grant_type", op: opToken,
			answer:     answer{400, jsonHeader(), `{"error": "unsupported_grant_type"}`},
			wantStatus: 400, wantCode: "unsupported_grant_type", wantSentinel: "ErrUnsupportedGrantType"},
		{name: "invalid_scope", op: opToken,
			answer:     answer{400, jsonHeader(), `{"error": "invalid_scope"}`},
			wantStatus: 400, wantCode: "invalid_scope", wantSentinel: "ErrInvalidScope"},
		{name: "unsupported_token_type", op: opRevoke,
			answer:     answer{400, jsonHeader(), `{"error":"unsupported_token_type","error_uri":"https://docs.example/revoke"}`},
			wantStatus: 400, wantCode: "unsupported_token_type", wantURI: "https://docs.example/revoke", wantSentinel: "ErrUnsupportedTokenType"},
		{name: "unknown code", op: opRevoke,
			answer:     answer{400, jsonHeader(), `{"error": "access_denied"}`},
			wantStatus: 400, wantCode: "access_denied"},
		{name: "503 with Retry-After seconds", op: opRevoke,
			answer:     answer{503, http.Header{"Retry-After": {"7"}}, `{"error": "temporarily_unavailable"}`},
			wantStatus: 503, wantCode: "temporarily_unavailable", wantRetry: 7 * time.Second,
			wantMessage: "cryptofuse: revoke: 503 Service Unavailable: temporarily_unavailable (retry after 7s)"},
		{name: "429 with Retry-After date", op: opToken,
			answer:     answer{429, http.Header{"Retry-After": {fixed.Add(90 * time.Second).Format(http.TimeFormat)}}, "slow down"},
			wantStatus: 429, wantRetry: 90 * time.Second},
		{name: "non-JSON 502 from a proxy", op: opRevoke,
			answer:      answer{502, http.Header{"Content-Type": {"text/html"}}, "<html><body><h1>502 Bad Gateway</h1></body></html>"},
			wantStatus:  502,
			wantMessage: "cryptofuse: revoke: 502 Bad Gateway"},
		{name: "non-JSON 504 on token", op: opToken,
			answer:     answer{504, nil, "<html>Gateway Timeout</html>"},
			wantStatus: 504},
		{name: "JSON without error", op: opRevoke,
			answer:     answer{404, jsonHeader(), `{"detail": "Not found."}`},
			wantStatus: 404, wantMessage: "cryptofuse: revoke: 404 Not Found"},
		{name: "error that is not a string", op: opRevoke,
			answer:     answer{400, jsonHeader(), `{"error": 42}`},
			wantStatus: 400},
		{name: "truncated JSON", op: opRevoke,
			answer:     answer{400, jsonHeader(), `{"error": "invalid_request", "error_desc`},
			wantStatus: 400},
		{name: "empty 500", op: opToken,
			answer:     answer{500, nil, ""},
			wantStatus: 500, wantMessage: "cryptofuse: token: 500 Internal Server Error"},
		{name: "unknown status", op: opRevoke,
			answer:     answer{599, nil, ""},
			wantStatus: 599, wantMessage: "cryptofuse: revoke: 599"},
		{name: "200 with an error member", op: opToken,
			answer:     answer{200, jsonHeader(), `{"error": "invalid_client", "error_description": "Client authentication failed."}`},
			wantStatus: 200, wantCode: "invalid_client", wantDesc: "Client authentication failed.", wantSentinel: "ErrInvalidClient",
			wantMessage: "cryptofuse: token: 200 OK: invalid_client: Client authentication failed."},
		{name: "200 with a token and an error member", op: opToken,
			answer:     answer{200, jsonHeader(), `{"access_token": "AT", "error": "invalid_scope"}`},
			wantStatus: 200, wantCode: "invalid_scope", wantSentinel: "ErrInvalidScope"},
		{name: "200 without access_token", op: opToken,
			answer:     answer{200, jsonHeader(), `{"token_type": "Bearer", "expires_in": 3600}`},
			wantStatus: 200, wantMessage: "cryptofuse: token: 200 OK: response has no access_token"},
		{name: "201 that is not JSON", op: opToken,
			answer:     answer{201, nil, "<html>ok</html>"},
			wantStatus: 201, wantMessage: "cryptofuse: token: 201 Created: response is not a JSON token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t, noRetry, fixedNow(fixed)) // retry_test.go covers what is retried
			mt.RegisterResponder(http.MethodPost, mockBase+pathOf[tc.op], tc.answer.responder())

			var err error
			if tc.op == opRevoke {
				err = c.Revoke(context.Background(), testToken, AccessTokenHint)
			} else {
				var tok *Token
				tok, err = c.Token(context.Background())
				assert.Nil(t, tok)
			}

			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.op, e.Op, "Op")
			assert.Equal(t, tc.wantStatus, e.StatusCode, "StatusCode")
			assert.Equal(t, tc.wantCode, e.Code, "Code")
			assert.Equal(t, tc.wantDesc, e.Description, "Description")
			assert.Equal(t, tc.wantURI, e.URI, "URI")
			assert.Equal(t, tc.wantRetry, e.RetryAfter, "RetryAfter")
			for name, s := range sentinels {
				assert.Equal(t, name == tc.wantSentinel, errors.Is(err, s), "errors.Is(err, %s)", name)
			}
			assert.False(t, errors.Is(err, ErrEmptyToken))
			if tc.wantMessage != "" {
				assert.Equal(t, tc.wantMessage, err.Error())
			}
			assert.Equal(t, 1, mt.GetTotalCallCount(), "requests sent")
		})
	}
}

func TestError_ServerTextIsSanitized(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	desc := "line1\nX-Injected: yes " + strings.Repeat("d", 2*maxDescriptionLen)
	body, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": desc})
	mt.RegisterResponder(http.MethodPost, mockBase+revokePath, answer{400, jsonHeader(), string(body)}.responder())
	err := c.Revoke(context.Background(), testToken, "")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.NotContains(t, err.Error(), "\n")
	assert.LessOrEqual(t, len(e.Description), maxDescriptionLen+len("…"))
	assert.True(t, strings.HasPrefix(e.Description, "line1\uFFFDX-Injected: yes d"), "got %q", e.Description)
}

// FuzzErrorBody checks the *Error built from any non-2xx answer: the status,
// body and Retry-After of a revoke that sent fuzzToken.
func FuzzErrorBody(f *testing.F) {
	c := fuzzClient(f)
	for _, body := range dotBodies {
		f.Add(400, []byte(body), "")
	}
	for _, ra := range append(retryAfterSeeds, dotHeaderValues...) {
		f.Add(503, []byte(`{"error": "temporarily_unavailable"}`), ra)
	}
	for _, echo := range echoes(c, fuzzToken) {
		for _, tmpl := range []string{
			`{"error": "invalid_client", "error_description": %s, "error_uri": %[1]s}`,
			`{"error": %s}`,
			`{"error": "server_error", "error_description": %s}`,
		} {
			js, _ := json.Marshal(echo)
			f.Add(401, []byte(fmt.Sprintf(tmpl, js)), "")
		}
	}
	for _, body := range []string{
		// C0, DEL and C1 controls (U+0085 is NEL, U+009B is CSI).
		`{"error": "line1\nX-Injected: yes", "error_description": "\u001b[31mred\u0007\u0000\u007f\u0085\u009b2J"}`,
		`{"error": "invalid_request", "error_description": "` + strings.Repeat("é", 2*maxDescriptionLen) + `"}`,
		`{"error": "` + strings.Repeat("x", 2*maxCodeLen) + `"}`,
		"{\"error\": \"a\xffb\", \"error_description\": \"\xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80\"}", // invalid UTF-8
		`{"error": "\ud800", "error_description": "\udc00\ud83d\ude00"}`,                             // lone surrogates
		`{"error": null, "error_description": "no code"}`,
		`{"error": 42}`,
		`{"error": ["invalid_client"]}`,
		`{"error": ""}`,
		`[{"error": "invalid_client"}]`,
		`{"error": "invalid_client"} trailing`,
		`{"error": "invalid_client", "error": "invalid_grant"}`,
		`{"ERROR": "invalid_client"}`,
		`{"error": "invalid_client"`,
		"\xef\xbb\xbf{\"error\": \"invalid_client\"}", // BOM
		`null`, `"invalid_client"`, `{}`,
		`{"error": "invalid_token", "error_description": "` + strings.Repeat(`\\`, 600) + `"}`,
		`{"error": "x", "error_description": "\u202eevil\u2066 \u2028 \ufeff"}`,
	} {
		f.Add(400, []byte(body), "")
	}
	f.Add(302, []byte(`<html>moved</html>`), "")
	f.Add(999, []byte(`{"error": "invalid_client"}`), "")
	f.Add(-1, []byte(`{"error": "invalid_client"}`), "1")

	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		status = statusIn(status, 300, 999)
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {retryAfter}}}
		e := c.newError(opRevoke, resp, body, fuzzToken)
		require.NotNil(t, e, "newError returned nil")
		assert.Equal(t, opRevoke, e.Op, "Op")
		assert.Equal(t, status, e.StatusCode, "StatusCode")
		assert.Equal(t, parseRetryAfter(retryAfter, testNow), e.RetryAfter, "RetryAfter")
		assert.GreaterOrEqual(t, e.RetryAfter, time.Duration(0), "RetryAfter, within [0, %v]", maxRetryAfter)
		assert.LessOrEqual(t, e.RetryAfter, maxRetryAfter, "RetryAfter, within [0, %v]", maxRetryAfter)
		// The body has a code when it is a JSON object whose "error" is a
		// non-empty string and whose other RFC 6749 members are strings.
		var j struct {
			Error            any `json:"error"`
			ErrorDescription any `json:"error_description"`
			ErrorURI         any `json:"error_uri"`
		}
		hasCode := json.Unmarshal(body, &j) == nil
		for _, member := range []any{j.ErrorDescription, j.ErrorURI} {
			if _, isString := member.(string); member != nil && !isString {
				hasCode = false
			}
		}
		if code, isString := j.Error.(string); !isString || code == "" {
			hasCode = false
		}
		assert.Equal(t, hasCode, e.Code != "", "Code = %q for body %q: has a code", e.Code, body)
		if code, ok := j.Error.(string); ok && registeredCodes[code] {
			assert.Equal(t, code, e.Code, "registered code %q", code)
		}
		for name, s := range sentinels {
			assert.Equal(t, e.Code == s.(*plainError).code, errors.Is(e, s), "errors.Is(%q, %s)", e.Code, name)
		}
		assert.Equal(t, status < 400, e.detail == "redirect not followed", "detail = %q for status %d", e.detail, status)
		assert.NoError(t, e.Unwrap(), "Unwrap(): nothing failed but the answer")
		checkErrorText(t, e, forbidden(c, fuzzToken))
	})
}
