package setup

import "context"

// Active asks the server whether token is active, with OAuth 2.0 token
// introspection (RFC 7662 §2.1), through the SDK's Client.Introspect. The
// examples use it to show the effect of a revocation.
func (e *Env) Active(ctx context.Context, token string) (bool, error) {
	in, err := e.Client.Introspect(ctx, token)
	if err != nil {
		return false, err
	}
	return in.Active, nil
}
