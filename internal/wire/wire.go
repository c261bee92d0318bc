// Package wire holds the pieces of the token endpoints' wire protocol that
// sit apart from the root package's request path: HTTP Basic client
// authentication as RFC 6749 §2.3.1 spells it, and the refusal of
// redirects. Every request, introspection included (Client.Introspect),
// goes through the root package's one request path; nothing here sends
// one. It is internal: the root package's API does not grow for it.
package wire

import (
	"encoding/base64"
	"net/http"
	"net/url"
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
