package cryptofuse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToken_Wire(t *testing.T) {
	cases := []struct {
		name     string
		opts     []Option
		wantForm string
	}{
		{"default scopes", nil, "grant_type=client_credentials&scope=read+write"},
		{"one scope", []Option{WithScopes("read")}, "grant_type=client_credentials&scope=read"},
		{"no scopes: server default", []Option{WithScopes()}, "grant_type=client_credentials"},
		{"scope that needs encoding", []Option{WithScopes("files:read", "a+b")}, "grant_type=client_credentials&scope=files%3Aread+a%2Bb"},
		{"later option wins", []Option{WithScopes("a"), WithScopes("b")}, "grant_type=client_credentials&scope=b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := setup(t, append(tc.opts, WithUserAgent("rotator/2.0"))...)
			got := capture(t, mt, mockBase+tokenPath, answer{200, jsonHeader(), tokenJSON1})

			tok, err := c.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "AT-1234567890abcdefghijklmnopq", tok.AccessToken)

			require.Len(t, *got, 1, "requests sent")
			r := (*got)[0]
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, tokenPath, r.Path)
			assert.Empty(t, r.RawQuery, "query string: the server crashes on one")
			assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
			assert.Equal(t, "rotator/2.0", r.Header.Get("User-Agent"))
			id, secret := decodeBasic(t, r.Header.Get("Authorization"))
			assert.Equal(t, testID, id)
			assert.Equal(t, testSecret, secret)
			assert.Equal(t, tc.wantForm, r.Body, "form body")
		})
	}
}

func TestToken_Parse(t *testing.T) {
	received := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	setNow(t, received)
	cases := []struct {
		name          string
		body          string
		want          Token
		wantExpiresIn int64
	}{
		{"DOT's answer", `{"access_token": "AT", "expires_in": 36000, "token_type": "Bearer", "scope": "read write"}`,
			Token{AccessToken: "AT", TokenType: "Bearer", Scope: "read write", ExpiresIn: 36000, Expiry: received.Add(10 * time.Hour)}, 36000},
		{"expires_in as a string", `{"access_token": "AT", "expires_in": "3600"}`,
			Token{AccessToken: "AT", ExpiresIn: 3600, Expiry: received.Add(time.Hour)}, 3600},
		{"expires_in as a padded string", `{"access_token": "AT", "expires_in": " 60 "}`,
			Token{AccessToken: "AT", ExpiresIn: 60, Expiry: received.Add(time.Minute)}, 60},
		{"fractional expires_in", `{"access_token": "AT", "expires_in": 59.9}`,
			Token{AccessToken: "AT", ExpiresIn: 59, Expiry: received.Add(59 * time.Second)}, 59},
		{"no expires_in", `{"access_token": "AT", "token_type": "Bearer"}`,
			Token{AccessToken: "AT", TokenType: "Bearer"}, 0},
		{"null expires_in", `{"access_token": "AT", "expires_in": null}`, Token{AccessToken: "AT"}, 0},
		{"zero expires_in", `{"access_token": "AT", "expires_in": 0}`, Token{AccessToken: "AT"}, 0},
		{"negative expires_in", `{"access_token": "AT", "expires_in": -5}`, Token{AccessToken: "AT"}, 0},
		{"garbage expires_in", `{"access_token": "AT", "expires_in": "soon"}`, Token{AccessToken: "AT"}, 0},
		{"boolean expires_in", `{"access_token": "AT", "expires_in": true}`, Token{AccessToken: "AT"}, 0},
		{"NaN expires_in", `{"access_token": "AT", "expires_in": "NaN"}`, Token{AccessToken: "AT"}, 0},
		{"huge expires_in is capped", `{"access_token": "AT", "expires_in": 1e300}`,
			Token{AccessToken: "AT", ExpiresIn: maxExpiresIn, Expiry: received.Add(maxExpiresIn * time.Second)}, maxExpiresIn},
		{"refresh token and extra members", `{"access_token": "AT", "refresh_token": "RT", "id_token": "x", "token_type": "bearer"}`,
			Token{AccessToken: "AT", RefreshToken: "RT", TokenType: "bearer"}, 0},
		{"empty error member is no error", `{"access_token": "AT", "error": ""}`, Token{AccessToken: "AT"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := setup(t)
			capture(t, mt, mockBase+tokenPath, answer{200, jsonHeader(), tc.body})
			tok, err := c.Token(context.Background())
			require.NoError(t, err)
			if *tok != tc.want {
				t.Errorf("got %+v\nwant %+v", tok.debug(), tc.want.debug())
			}
			assert.Equal(t, tc.wantExpiresIn, tok.ExpiresIn)
		})
	}
}

// debug shows every field, tokens included, for test failure messages only.
func (t Token) debug() string {
	return fmt.Sprintf("{AccessToken:%q TokenType:%q RefreshToken:%q Scope:%q ExpiresIn:%d Expiry:%s}",
		t.AccessToken, t.TokenType, t.RefreshToken, t.Scope, t.ExpiresIn, t.Expiry)
}

func TestToken_JSONRoundTrip(t *testing.T) {
	expiry := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	tok := Token{AccessToken: "AT", TokenType: "Bearer", Scope: "read write", ExpiresIn: 36000, Expiry: expiry}
	b, err := json.Marshal(tok)
	require.NoError(t, err)
	assert.JSONEq(t, `{"access_token":"AT","token_type":"Bearer","scope":"read write","expires_in":36000,"expiry":"2026-11-26T08:00:00Z"}`, string(b))

	var back Token
	require.NoError(t, json.Unmarshal(b, &back))
	assert.True(t, back == tok, "round trip: got %s, want %s", back.debug(), tok.debug())

	b, err = json.Marshal(Token{AccessToken: "AT", TokenType: "Bearer"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"access_token":"AT","token_type":"Bearer"}`, string(b), "zero fields are left out")
}

func TestToken_FormatIsRedacted(t *testing.T) {
	tok := &Token{AccessToken: "AT-secret-value", TokenType: "Bearer", RefreshToken: "RT-secret-value", Scope: "read", ExpiresIn: 60,
		Expiry: time.Date(2026, 11, 25, 12, 1, 0, 0, time.UTC)}
	want := `cryptofuse.Token{AccessToken:[redacted], TokenType:"Bearer", RefreshToken:[redacted], Scope:"read", ExpiresIn:60, Expiry:2026-11-25T12:01:00Z}`
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, arg := range []any{tok, *tok, []Token{*tok}, map[string]*Token{"k": tok}, struct{ T Token }{*tok}} {
			got := fmt.Sprintf(verb, arg)
			assert.Contains(t, got, want, "Sprintf(%q, %T)", verb, arg)
			assertNoSecret(t, got, tok.AccessToken, tok.RefreshToken)
		}
	}
	assert.Equal(t, `cryptofuse.Token{AccessToken:"", TokenType:"", RefreshToken:"", Scope:"", ExpiresIn:0, Expiry:0001-01-01T00:00:00Z}`,
		fmt.Sprint(Token{}), "empty tokens are shown as empty")
}

func TestToken_LogValueIsRedacted(t *testing.T) {
	tok := &Token{AccessToken: "AT-secret-value", TokenType: "Bearer", RefreshToken: "RT-secret-value"}
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(newHandler(&buf)).Info("issued", "token", tok, "value", *tok)
			assert.Contains(t, buf.String(), "Bearer")
			assert.Contains(t, buf.String(), redacted)
			assertNoSecret(t, buf.String(), tok.AccessToken, tok.RefreshToken)
		})
	}
}

func TestRotateToken(t *testing.T) {
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
			fakeSleep(t)
			var opts []Option
			if tc.issueFirst {
				opts = append(opts, WithIssueFirst())
			}
			c, mt := setup(t, opts...)
			var order []string
			mt.RegisterResponder(http.MethodPost, mockBase+revokePath, func(r *http.Request) (*http.Response, error) {
				rec := record(t, r)
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
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.err.Error())
			assert.Equal(t, tc.err.Err, errors.Unwrap(tc.err))
		})
	}
}
