package cryptofuse

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var sentinels = map[string]error{
	"ErrInvalidRequest":       ErrInvalidRequest,
	"ErrInvalidClient":        ErrInvalidClient,
	"ErrInvalidGrant":         ErrInvalidGrant,
	"ErrUnauthorizedClient":   ErrUnauthorizedClient,
	"ErrUnsupportedGrantType": ErrUnsupportedGrantType,
	"ErrInvalidScope":         ErrInvalidScope,
	"ErrUnsupportedTokenType": ErrUnsupportedTokenType,
}

// answer is a canned HTTP answer.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) responder() httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(a.status, a.body)
		for k, v := range a.header {
			resp.Header[k] = v
		}
		return resp, nil
	}
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func TestErrorMapping(t *testing.T) {
	fixed := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	setNow(t, fixed)

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
			c, mt := setup(t, noRetry) // retry_test.go covers what is retried
			path := map[string]string{opRevoke: revokePath, opToken: tokenPath}[tc.op]
			mt.RegisterResponder(http.MethodPost, mockBase+path, tc.answer.responder())

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

func TestError_UnwrapsJSONCause(t *testing.T) {
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodPost, mockBase+tokenPath, answer{200, nil, "{not json"}.responder())
	_, err := c.Token(context.Background())
	var syn *json.SyntaxError
	assert.ErrorAs(t, err, &syn)
}

func TestSentinels(t *testing.T) {
	for name, s := range sentinels {
		t.Run(name, func(t *testing.T) {
			code := s.(*codeError).code
			assert.Equal(t, "cryptofuse: "+code, s.Error())
			assert.True(t, errors.Is(&Error{Code: code}, s))
			assert.False(t, errors.Is(&Error{Code: code + "x"}, s))
			assert.False(t, errors.Is(&Error{}, s))
		})
	}
	assert.False(t, errors.Is(&Error{}, ErrEmptyToken))
}

func TestParseRetryAfter(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"1", time.Second},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"-1", 0},
		{"+5", 0},
		{"1.5", 0},
		{"5s", 0},
		{"abc", 0},
		{"99999999999", maxRetryAfter},
		{"99999999999999999999999", maxRetryAfter},
		{at.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{at.Add(-30 * time.Second).Format(http.TimeFormat), 0},
		{"Wed, 25 Nov 2026 12:01:00 GMT", time.Minute},
		{"Wednesday, 25-Nov-26 12:01:00 GMT", time.Minute}, // RFC 850
		{"Wed Nov 25 12:01:00 2026", time.Minute},          // asctime
		{"Wed, 32 Nov 2026 12:01:00 GMT", 0},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got := parseRetryAfter(tc.in, at)
			if got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	cases := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "Missing token parameter.", 64, "Missing token parameter."},
		{"newline", "a\nb\r\nc", 64, "a\uFFFDb\uFFFD\uFFFDc"},
		{"escape sequence", "\x1b[31mred", 64, "\uFFFD[31mred"},
		{"invalid UTF-8", "a\xffb", 64, "a\uFFFDb"},
		{"non-ASCII kept", "clé invalide", 64, "clé invalide"},
		{"cut", "abcdef", 3, "abc…"},
		{"cut on a rune boundary", "aé", 2, "a…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := clean(tc.in, tc.max); got != tc.want {
				t.Errorf("clean(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

func TestError_ServerTextIsSanitized(t *testing.T) {
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

// setNow fixes the package clock for one test.
func setNow(t *testing.T, at time.Time) {
	t.Helper()
	old := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = old })
}
