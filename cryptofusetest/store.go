package cryptofusetest

import (
	"crypto/rand"
	"sync"
	"time"
)

// store is a server's mutable state: registered clients, issued access
// tokens and counters. Each method takes the lock for one short step, so a
// store is safe for concurrent use.
//
// The state sits two pointers away from a Server, so that formatting a
// Server with any verb (fmt dereferences one pointer, for %s even below the
// top level) prints addresses, never a secret or a token.
type store struct {
	mu sync.Mutex
	d  *storeData
}

type storeData struct {
	clients map[string]string       // client id → secret
	tokens  map[string]accessToken  // token value → token
	refresh map[string]refreshToken // refresh token value → token
	counts  Counts
}

// accessToken is an issued access token, as DOT's AccessToken row holds it.
type accessToken struct {
	clientID string
	scope    string // space-separated, as issued
	expires  time.Time
	username string // the user a user token was issued for; "" for client credentials
	refresh  string // the refresh token issued with it; "" for none
}

// refreshToken is an issued refresh token, as DOT's RefreshToken row holds
// it. A revoked one is deleted: DOT marks it revoked, which refuses it just
// the same.
type refreshToken struct {
	clientID string
	scope    string
	username string
	access   string // its access token; "" once that is gone (DOT's SET_NULL)
}

func newStore() *store {
	return &store{d: &storeData{clients: map[string]string{}, tokens: map[string]accessToken{}, refresh: map[string]refreshToken{}}}
}

func (st *store) addClient(clientID, clientSecret string) {
	if clientID == "" {
		panic("cryptofusetest: empty client id")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.d.clients[clientID] = clientSecret
}

// clientSecret returns the secret of a registered client.
func (st *store) clientSecret(clientID string) (secret string, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	secret, ok = st.d.clients[clientID]
	return secret, ok
}

// add stores a new access token and returns its value.
func (st *store) add(clientID, scope string, expires time.Time) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	v := st.newValueLocked()
	st.d.tokens[v] = accessToken{clientID: clientID, scope: scope, expires: expires}
	return v
}

// newValueLocked returns a token value that is neither an access token's
// nor a refresh token's. The caller holds st.mu.
func (st *store) newValueLocked() string {
	for {
		v := newTokenValue()
		_, access := st.d.tokens[v]
		_, refresh := st.d.refresh[v]
		if !access && !refresh {
			return v
		}
	}
}

// addUser stores a new access token and its refresh token for a user, as a
// password or authorization-code grant does, and returns their values.
func (st *store) addUser(clientID, username, scope string, expires time.Time) (access, refresh string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.addUserLocked(clientID, username, scope, expires)
}

func (st *store) addUserLocked(clientID, username, scope string, expires time.Time) (access, refresh string) {
	access = st.newValueLocked()
	st.d.tokens[access] = accessToken{clientID: clientID, scope: scope, expires: expires, username: username}
	refresh = st.newValueLocked()
	st.d.refresh[refresh] = refreshToken{clientID: clientID, scope: scope, username: username, access: access}
	t := st.d.tokens[access]
	t.refresh = refresh
	st.d.tokens[access] = t
	return access, refresh
}

// lookupRefresh returns a live refresh token.
func (st *store) lookupRefresh(value string) (refreshToken, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	r, ok := st.d.refresh[value]
	return r, ok
}

// revocation says how a revocation treats a token (see WithDOT170).
type revocation struct {
	owner   string // when not "", only that client's tokens are revoked (3.4.1)
	cascade bool   // revoking an access token revokes its refresh token too (3.4.1)
}

// revoke revokes the access or refresh token value, as DOT's
// OAuth2Validator.revoke_token does under rule. Revoking a refresh token
// deletes its access token (both versions). An unknown token, or one that
// rule leaves alone, is no error.
func (st *store) revoke(value string, rule revocation) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if t, ok := st.d.tokens[value]; ok {
		if rule.owner != "" && t.clientID != rule.owner {
			return
		}
		if rule.cascade && t.refresh != "" {
			st.revokeRefreshLocked(t.refresh)
			return
		}
		delete(st.d.tokens, value)
		if r, ok := st.d.refresh[t.refresh]; ok {
			r.access = ""
			st.d.refresh[t.refresh] = r
		}
		return
	}
	if r, ok := st.d.refresh[value]; ok && (rule.owner == "" || r.clientID == rule.owner) {
		st.revokeRefreshLocked(value)
	}
}

// revokeRefreshLocked revokes a refresh token and deletes its access token,
// as DOT's RefreshToken.revoke does. The caller holds st.mu.
func (st *store) revokeRefreshLocked(value string) {
	if r, ok := st.d.refresh[value]; ok {
		delete(st.d.tokens, r.access)
		delete(st.d.refresh, value)
	}
}

// exchangeResult is the outcome of a refresh_token grant.
type exchangeResult int

const (
	exchanged       exchangeResult = iota
	exchangeInvalid                // no live refresh token of the client: invalid_grant
	exchangeOrphan                 // its access token was revoked alone (1.7.0 only): DOT crashes
)

// exchange carries out a refresh_token grant (RFC 6749 §6) for clientID: it
// revokes the refresh token value with its access token and issues a new
// pair with the same scope and user, as DOT does with its default
// ROTATE_REFRESH_TOKEN. A refresh token whose access token is gone is left
// as it is (exchangeOrphan).
func (st *store) exchange(value, clientID string, expires time.Time) (access, refresh, scope string, res exchangeResult) {
	st.mu.Lock()
	defer st.mu.Unlock()
	r, found := st.d.refresh[value]
	if !found || r.clientID != clientID {
		return "", "", "", exchangeInvalid
	}
	if r.access == "" {
		return "", "", "", exchangeOrphan
	}
	st.revokeRefreshLocked(value)
	access, refresh = st.addUserLocked(clientID, r.username, r.scope, expires)
	return access, refresh, r.scope, exchanged
}

// lookup returns a stored token, expired or not.
func (st *store) lookup(value string) (accessToken, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.d.tokens[value]
	return t, ok
}

// countRequest counts a request by its path.
func (st *store) countRequest(path string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch path {
	case tokenPath:
		st.d.counts.Token++
	case revokePath:
		st.d.counts.Revoke++
	case introspectPath:
		st.d.counts.Introspect++
	case ResourcePath:
		st.d.counts.Resource++
	default:
		st.d.counts.Other++
	}
}

// countFault counts a request that took a fault.
func (st *store) countFault() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.d.counts.Faulted++
}

func (st *store) countConnection() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.d.counts.Connections++
}

func (st *store) snapshot() Counts {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.d.counts
}

// tokenAlphabet and tokenLength are oauthlib's generate_token defaults.
const (
	tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	tokenLength   = 30
)

// newTokenValue returns 30 characters drawn uniformly from [a-zA-Z0-9] with
// crypto/rand, as oauthlib's generate_token draws them with SystemRandom.
func newTokenValue() string {
	const limit = 256 - 256%len(tokenAlphabet) // rejection sampling keeps it uniform
	b := make([]byte, 0, tokenLength)
	buf := make([]byte, 2*tokenLength)
	for len(b) < tokenLength {
		if _, err := rand.Read(buf); err != nil {
			panic("cryptofusetest: crypto/rand: " + err.Error())
		}
		for _, c := range buf {
			if int(c) < limit && len(b) < tokenLength {
				b = append(b, tokenAlphabet[int(c)%len(tokenAlphabet)])
			}
		}
	}
	return string(b)
}

// hasScope reports whether t grants scope (DOT's allow_scopes).
func (t accessToken) hasScope(scope string) bool {
	for _, s := range pySplit(t.scope) {
		if s == scope {
			return true
		}
	}
	return false
}
