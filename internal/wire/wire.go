// Package wire holds the pieces of the token endpoints' wire protocol that
// the SDK, the CLI and the examples share: HTTP Basic client authentication
// as RFC 6749 §2.3.1 spells it, the refusal of redirects, and the
// introspection call (RFC 7662) that the CLI and the examples use to check
// a revocation. It is internal: the root package's API does not grow for it.
package wire

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// BasicCredentials is the base64 part of the Authorization header for a
// client (RFC 6749 §2.3.1): each of id and secret is form-encoded before they
// are joined with ':', so that a ':' in the id, or a '+' or '%' in the
// secret, survives the server's unquote_plus.
func BasicCredentials(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
}

// RefuseRedirect, as an http.Client's CheckRedirect, makes Do return a 3xx
// response as it is instead of following it with the credentials.
func RefuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// IntrospectPath is django-oauth-toolkit's introspection endpoint, below the
// base URL.
const IntrospectPath = "/o/introspect/"

// maxIntrospectBody caps an introspection answer.
const maxIntrospectBody = 64 << 10

// ErrNoIntrospection is returned by [Active] when the server has no
// introspection endpoint (it answered 404 or 405).
var ErrNoIntrospection = errors.New("the server has no introspection endpoint (" + IntrospectPath + ")")

// Active asks the server at baseURL whether token is active, with OAuth 2.0
// token introspection (RFC 7662 §2): POST {base}/o/introspect/ with the
// client's Basic credentials, which django-oauth-toolkit answers for any
// registered client. hc must refuse redirects (see [RefuseRedirect]); its
// deadline or ctx's bounds the call. Errors never show the token or the
// secret.
func Active(ctx context.Context, hc *http.Client, baseURL, id, secret, token string) (bool, error) {
	endpoint := strings.TrimRight(baseURL, "/") + IntrospectPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader("token="+url.QueryEscape(token)))
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Basic "+BasicCredentials(id, secret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return false, ErrNoIntrospection
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("introspection answered %s", resp.Status)
	}
	var answer struct {
		Active *bool `json:"active"` // REQUIRED (RFC 7662 §2.2)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxIntrospectBody)).Decode(&answer); err != nil {
		return false, fmt.Errorf("introspection answer: %w", err)
	}
	if answer.Active == nil {
		return false, errors.New("introspection answer has no \"active\" member")
	}
	return *answer.Active, nil
}
