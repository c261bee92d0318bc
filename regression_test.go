package cryptofuse

// Regressions: each test here failed against the code it was written for. It
// shows a bug that the fuzz targets and the hostile-input tables found, and
// the comment above it says what was fixed.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fixed: parseRetryAfter (errors.go) clamps a number of seconds at
// maxRetryAfter but not an HTTP date: date.Sub saturates at the largest
// Duration, which is above maxRetryAfter, so a retry loop that adds anything
// to it overflows. Fix: return min(d, maxRetryAfter) in the date branch.
func TestRegression_RetryAfterDateBeyondClamp(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{
		"Fri, 31 Dec 9999 23:59:59 GMT",
		"Sat, 01 Jan 2400 00:00:00 GMT", // 373 years on: past what a Duration holds
	} {
		t.Run(v, func(t *testing.T) {
			if got := parseRetryAfter(v, at); got < 0 || got > maxRetryAfter {
				t.Errorf("parseRetryAfter(%q) = %v (%d ns), want within [0, %v]", v, got, int64(got), maxRetryAfter)
			}
		})
	}
}

// BUG (found by FuzzRetryAfter): parseRetryAfter (errors.go) returns
// maxRetryAfter, not 0, for garbage that starts with 20 or more digits, such
// as "20000000000000000000A": strconv.ParseUint reports the overflow before it
// reaches the bad byte, and ErrRange is read as "huge". Under the retry
// policy a garbage Retry-After then stops the retries (a wait over MaxDelay is
// not slept) instead of being ignored. Fix: in the digit branch, return 0
// when strings.Trim(v, "0123456789") != "" before calling ParseUint.
func TestRegression_RetryAfterDigitsThenGarbage(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"20000000000000000000A", "99999999999999999999999s", "184467440737095516160.5"} {
		if got := parseRetryAfter(v, at); got != 0 {
			t.Errorf("parseRetryAfter(%q) = %v, want 0 for an unparsable value", v, got)
		}
	}
}

// Fixed: clean (errors.go) replaces only C0 controls and DEL (isCTL), so the
// C1 controls U+0080 to U+009F reach Error(): U+009B is CSI, which terminals
// that honour C1 read as the start of an escape sequence, and U+0085 is NEL,
// a line break. Fix: in clean, replace every r with unicode.IsControl(r)
// (C0, DEL and C1), not just isCTL(r). (isCTL stays right for headers.)
func TestRegression_C1ControlsInErrorText(t *testing.T) {
	for _, in := range []string{"a\u0085b", "\u009b2J", "x\u0080\u009fy"} {
		got := clean(in, maxDescriptionLen)
		if i := strings.IndexFunc(got, unicode.IsControl); i >= 0 {
			t.Errorf("clean(%q) = %q, has a control character at byte %d", in, got, i)
		}
	}
}

// Fixed: a token that is not valid UTF-8 is scrubbed only in its raw and
// form-encoded forms. A server that echoes it in JSON (DOT's Python decodes
// the form with errors="replace"; Go's encoder does the same) sends it with
// U+FFFD for each bad byte, which json.Unmarshal keeps, so Error() shows the
// whole token but its bad bytes. Fix: in secretForms (client.go), also list
// strings.ToValidUTF8(s, "\uFFFD") when it differs from s (that covers the
// secret too: NewClient accepts a secret that is not valid UTF-8).
func TestRegression_InvalidUTF8TokenEchoedWithReplacementChars(t *testing.T) {
	const token = "AT-\xff-0123456789abcdefghij"
	echoed := strings.ToValidUTF8(token, "\uFFFD")
	c, _ := setupServer(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{ // writes \ufffd for the bad byte
			"error":             "invalid_request",
			"error_description": "bad token " + r.PostForm.Get("token"),
		})
	})
	err := c.Revoke(context.Background(), token, AccessTokenHint)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), echoed, "Error() shows the token")
	assert.NotContains(t, err.Error(), "0123456789abcdefghij", "Error() shows the token")
}

// Fixed: parseToken (token.go) scrubs the access token of a 2xx answer that
// carries an "error", but not its refresh token, though Error's doc promises
// that "the tokens the call sent or received" never show. Fix: pass
// j.RefreshToken to c.scrubber too.
func TestRegression_RefreshTokenOf2xxErrorAnswerNotScrubbed(t *testing.T) {
	c := fuzzClient(t)
	body := `{"access_token": "AT-0123456789abcdef", "refresh_token": "RT-0123456789abcdef", "error": "server_error",
		"error_description": "issued AT-0123456789abcdef and RT-0123456789abcdef"}`
	_, err := c.parseToken(200, []byte(body), fuzzAt, "")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "AT-0123456789abcdef")
	assert.NotContains(t, err.Error(), "RT-0123456789abcdef", "Error() shows the refresh token")
}
