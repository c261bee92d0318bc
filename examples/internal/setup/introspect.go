package setup

import (
	"context"
	"net/http"
	"time"

	"github.com/cryptofuse/cryptofuse-go/internal/wire"
)

// introspectClient never follows a redirect with the credentials.
var introspectClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: wire.RefuseRedirect}

// Active asks the server whether token is active, with OAuth 2.0 token
// introspection (RFC 7662; see wire.Active). The SDK does not wrap this
// endpoint; the examples use it only to show the effect of a revocation.
func (e *Env) Active(ctx context.Context, token string) (bool, error) {
	return wire.Active(ctx, introspectClient, e.BaseURL, e.ClientID, e.ClientSecret, token)
}
