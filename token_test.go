package cryptofuse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToken_Wire(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			c, mt := setup(t, append(tc.opts, WithUserAgent("rotator/2.0"))...)
			got := capture(t, mt, mockBase+tokenPath, answer{200, jsonHeader(), tokenJSON1})

			tok, err := c.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "AT-1234567890abcdefghijklmnopq", tok.AccessToken)

			reqs := got()
			require.Len(t, reqs, 1, "requests sent")
			r := reqs[0]
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
	t.Parallel()
	received := testNow
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
			t.Parallel()
			c, mt := setup(t, fixedNow(received))
			capture(t, mt, mockBase+tokenPath, answer{200, jsonHeader(), tc.body})
			tok, err := c.Token(context.Background())
			require.NoError(t, err)
			assert.True(t, *tok == tc.want, "got %+v\nwant %+v", tok.debug(), tc.want.debug())
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	tok := &Token{AccessToken: "AT-secret-value", TokenType: "Bearer", RefreshToken: "RT-secret-value"}
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			slog.New(newHandler(&buf)).Info("issued", "token", tok, "value", *tok)
			assert.Contains(t, buf.String(), "Bearer")
			assert.Contains(t, buf.String(), redacted)
			assertNoSecret(t, buf.String(), tok.AccessToken, tok.RefreshToken)
		})
	}
}

// TestToken_LogValueOfEmptyTokens: a token that is absent logs as the empty
// string, not as the two characters `""` that Format prints.
func TestToken_LogValueOfEmptyTokens(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                    string
		tok                     Token
		wantAccess, wantRefresh string
		wantJSON, wantText      string // a fragment of each handler's line
	}{
		{"no refresh token", Token{AccessToken: "AT-secret-value", TokenType: "Bearer"}, redacted, "",
			`"refresh_token":""`, `token.refresh_token=""`},
		{"both", Token{AccessToken: "AT-secret-value", RefreshToken: "RT-secret-value"}, redacted, redacted,
			`"refresh_token":"[redacted]"`, `token.refresh_token=[redacted]`},
		{"none", Token{}, "", "", `"access_token":""`, `token.access_token=""`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			attrs := map[string]string{}
			for _, a := range tc.tok.LogValue().Group() {
				attrs[a.Key] = a.Value.String()
			}
			assert.Equal(t, tc.wantAccess, attrs["access_token"], "access_token")
			assert.Equal(t, tc.wantRefresh, attrs["refresh_token"], "refresh_token")
			var js, text bytes.Buffer
			slog.New(slog.NewJSONHandler(&js, nil)).Info("issued", "token", tc.tok)
			slog.New(slog.NewTextHandler(&text, nil)).Info("issued", "token", tc.tok)
			assert.Contains(t, js.String(), tc.wantJSON)
			assert.Contains(t, text.String(), tc.wantText)
			for _, out := range []string{js.String(), text.String()} {
				assert.NotContains(t, out, `\"\"`, "an escaped pair of quotes")
			}
		})
	}
}

// TestToken_ErrorAnswer: the *Error of a 2xx token answer that is not a
// token keeps its cause and shows none of the tokens it carried.
func TestToken_ErrorAnswer(t *testing.T) {
	t.Parallel()
	c := fuzzClient(t)
	cases := []struct {
		name      string
		body      string
		wantCause any // a pointer to the type errors.As must find, or nil
		forbid    []string
	}{
		{"not JSON", "{not json", new(*json.SyntaxError), nil},
		{"error member with both tokens", `{"access_token": "AT-0123456789abcdef", "refresh_token": "RT-0123456789abcdef", "error": "server_error",
			"error_description": "issued AT-0123456789abcdef and RT-0123456789abcdef"}`, nil, []string{"AT-0123456789abcdef", "RT-0123456789abcdef"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.parseToken(200, []byte(tc.body), testNow, "")
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 200, e.StatusCode)
			if tc.wantCause != nil {
				assert.ErrorAs(t, err, tc.wantCause)
			}
			for _, s := range tc.forbid {
				assert.NotContains(t, err.Error(), s, "Error() shows a token")
			}
		})
	}

	// Through Token: the cause survives the request path.
	cm, mt := setup(t)
	mt.RegisterResponder(http.MethodPost, mockBase+tokenPath, answer{200, nil, "{not json"}.responder())
	_, err := cm.Token(context.Background())
	var syn *json.SyntaxError
	assert.ErrorAs(t, err, &syn)
}

// FuzzTokenBody checks parseToken on any 2xx body: a usable Token or an
// *Error, never both, never neither; the Token survives a JSON round trip and
// fmt never shows it; the *Error shows no secret.
func FuzzTokenBody(f *testing.F) {
	c := fuzzClient(f)
	for _, body := range dotBodies {
		f.Add(200, []byte(body))
	}
	for _, echo := range echoes(c, fuzzToken) {
		js, _ := json.Marshal(echo)
		f.Add(200, []byte(fmt.Sprintf(`{"error": "server_error", "error_description": %s, "error_uri": %[1]s}`, js)))
		f.Add(200, []byte(fmt.Sprintf(`{"access_token": "AT-0123456789abcdef", "error": "invalid_client", "error_description": "AT-0123456789abcdef %s"}`, js[1:len(js)-1])))
	}
	for _, body := range []string{
		`{"access_token": "AT", "expires_in": "3600"}`,
		`{"access_token": "AT", "expires_in": " 60 "}`,
		`{"access_token": "AT", "expires_in": 59.9}`,
		`{"access_token": "AT", "expires_in": null}`,
		`{"access_token": "AT", "expires_in": -5}`,
		`{"access_token": "AT", "expires_in": "soon"}`,
		`{"access_token": "AT", "expires_in": true}`,
		`{"access_token": "AT", "expires_in": "NaN"}`,
		`{"access_token": "AT", "expires_in": "Inf"}`,
		`{"access_token": "AT", "expires_in": "-0"}`,
		`{"access_token": "AT", "expires_in": 1e300}`,
		`{"access_token": "AT", "expires_in": 1e400}`,
		`{"access_token": "AT", "expires_in": 2147483647.9}`,
		`{"access_token": "AT", "expires_in": 0.5}`,
		`{"access_token": "AT", "expires_in": "0x10"}`,
		`{"access_token": "AT", "expires_in": "1_000"}`,
		`{"access_token": "AT", "expires_in": {"s": 1}}`,
		`{"access_token": "AT", "expires_in": [1]}`,
		`{"access_token": "AT", "refresh_token": "RT", "id_token": "x", "token_type": "bearer"}`,
		`{"access_token": "AT", "error": ""}`,
		`{"access_token": ""}`,
		`{"access_token": null}`,
		`{"access_token": 123}`,
		`{"access_token": "A\u0000T\n\u2028"}`,
		"{\"access_token\": \"A\xffT\"}",
		`{"access_token": "\ud800"}`,
		`{"access_token": "AT", "scope": "<script>&amp;"}`,
		`{"access_token": "AT"} {"error": "x"}`,
		`{"access_token": "AT", "access_token": ""}`,
		`{"Access_Token": "AT"}`,
		`{}`, `null`, `[]`, `"AT"`, `{"access_token": "AT"`, "\xef\xbb\xbf{\"access_token\": \"AT\"}",
		`{"error": "invalid_client", "access_token": "` + fuzzToken + `"}`,
	} {
		f.Add(200, []byte(body))
	}
	f.Add(204, []byte(""))
	f.Add(299, []byte(dotBodies[0]))

	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = statusIn(status, 200, 299)
		tok, err := c.parseToken(status, body, testNow, fuzzToken)
		require.True(t, (tok == nil) != (err == nil), "parseToken(%q) = %v, %v: want exactly one of them", body, tok, err)
		var j struct {
			AccessToken  any `json:"access_token"`
			RefreshToken any `json:"refresh_token"`
		}
		_ = json.Unmarshal(body, &j)
		received, _ := j.AccessToken.(string)
		if err != nil {
			e, ok := err.(*Error)
			require.True(t, ok, "error %T %v, want *Error", err, err)
			assert.Equal(t, opToken, e.Op, "Op")
			assert.Equal(t, status, e.StatusCode, "StatusCode")
			assert.Zero(t, e.RetryAfter, "RetryAfter for a 2xx")
			checkErrorText(t, e, forbidden(c, fuzzToken))
			assert.False(t, leaks(e.Error(), received) && !leaks(skeleton(e), received), "Error() = %q shows the access token %q", e.Error(), received)
			assert.False(t, leaks(e.Description, received), "Description = %q shows the access token %q", e.Description, received)
			return
		}

		assert.NotEmpty(t, tok.AccessToken, "a Token with an empty AccessToken")
		assert.Equal(t, received, tok.AccessToken, "AccessToken")
		assert.GreaterOrEqual(t, tok.ExpiresIn, int64(0), "ExpiresIn, within [0, %d]", maxExpiresIn)
		assert.LessOrEqual(t, tok.ExpiresIn, int64(maxExpiresIn), "ExpiresIn, within [0, %d]", maxExpiresIn)
		wantExpiry := time.Time{}
		if tok.ExpiresIn > 0 {
			wantExpiry = testNow.Add(time.Duration(tok.ExpiresIn) * time.Second)
		}
		assert.True(t, tok.Expiry.Equal(wantExpiry), "Expiry = %v, want %v for ExpiresIn %d", tok.Expiry, wantExpiry, tok.ExpiresIn)

		b, err := json.Marshal(tok)
		require.NoError(t, err, "json.Marshal")
		var back Token
		require.NoError(t, json.Unmarshal(b, &back), "json.Unmarshal(%s)", b)
		assert.True(t, back.Expiry.Equal(tok.Expiry), "round trip Expiry = %v, want %v", back.Expiry, tok.Expiry)
		back.Expiry = tok.Expiry
		assert.True(t, back == *tok, "round trip: got %s, want %s", back.debug(), tok.debug())

		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out := fmt.Sprintf(verb, tok)
			// What fmt shows of the other fields may hold a token by chance.
			skel := *tok
			skel.AccessToken, skel.RefreshToken = "", ""
			others := fmt.Sprintf(verb, skel)
			for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
				assert.False(t, leaks(out, secret) && !leaks(others, secret), "fmt %s shows the token %q: %s", verb, secret, out)
			}
		}
	})
}
