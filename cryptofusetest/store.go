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
	clients map[string]string      // client id → secret
	tokens  map[string]accessToken // token value → token
	counts  Counts
}

// accessToken is an issued access token, as DOT's AccessToken row holds it.
type accessToken struct {
	clientID string
	scope    string // space-separated, as issued
	expires  time.Time
}

func newStore() *store {
	return &store{d: &storeData{clients: map[string]string{}, tokens: map[string]accessToken{}}}
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
	for {
		v := newTokenValue()
		if _, taken := st.d.tokens[v]; !taken {
			st.d.tokens[v] = accessToken{clientID: clientID, scope: scope, expires: expires}
			return v
		}
	}
}

// lookup returns a stored token, expired or not.
func (st *store) lookup(value string) (accessToken, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.d.tokens[value]
	return t, ok
}

// remove deletes a token, as DOT's AccessToken.revoke does. An unknown token
// is no error.
func (st *store) remove(value string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.d.tokens, value)
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
