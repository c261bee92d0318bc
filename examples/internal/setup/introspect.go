package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// introspectClient never follows a redirect with the credentials.
var introspectClient = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// Active asks the server whether token is active, with OAuth 2.0 token
// introspection (RFC 7662): POST {base}/o/introspect/, which
// django-oauth-toolkit answers for any registered client. The SDK does not
// wrap this endpoint; the examples use it only to show the effect of a
// revocation.
func (e *Env) Active(ctx context.Context, token string) (bool, error) {
	endpoint := strings.TrimRight(e.BaseURL, "/") + "/o/introspect/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return false, err
	}
	// RFC 6749 §2.3.1: each part form-encoded, then Basic.
	req.SetBasicAuth(url.QueryEscape(e.ClientID), url.QueryEscape(e.ClientSecret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := introspectClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("introspection answered %s", resp.Status)
	}
	var answer struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&answer); err != nil {
		return false, fmt.Errorf("introspection answer: %w", err)
	}
	return answer.Active, nil
}
