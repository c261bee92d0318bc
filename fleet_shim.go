package cryptofuse

// TEMPORARY: stand-ins for store.go and seal.go of the stores helper, so
// that the fleet compiles before branch harden lands. Deleted at the merge.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// SharedStore stand-in (see SPEC.md).
type SharedStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, data []byte) error
	Delete(ctx context.Context, key string) error
	Lock(ctx context.Context, key, owner string, ttl time.Duration) error
	Unlock(ctx context.Context, key, owner string) error
	Watch(ctx context.Context, key string) (<-chan struct{}, error)
	Join(ctx context.Context, key, member string, ttl time.Duration) error
	Leave(ctx context.Context, key, member string) (remaining int, err error)
}

// ErrStoreMiss stand-in.
var ErrStoreMiss error = &plainError{msg: "store: no record"}

// ErrLocked stand-in.
var ErrLocked error = &plainError{msg: "store: locked by another owner"}

type storeRecord struct {
	V        int            `json:"v"`
	Origin   string         `json:"origin"`
	ClientID string         `json:"client_id"`
	Scope    string         `json:"scope"`
	Token    *Token         `json:"token"`
	Issued   time.Time      `json:"issued"`
	Gen      uint64         `json:"gen,omitempty"`
	Retired  []retiredToken `json:"retired,omitempty"`
}

type retiredToken struct {
	Token    *Token    `json:"token"`
	RevokeAt time.Time `json:"revoke_at,omitzero"`
}

func (c *Client) storeKey() string {
	sum := sha256.Sum256([]byte(c.baseURL + "\x00" + c.clientID + "\x00" + c.tokenForm))
	return "cryptofuse-v1-" + hex.EncodeToString(sum[:16])
}

func (c *Client) sealRecord(key string, r *storeRecord) ([]byte, error) {
	r.V, r.ClientID = 1, c.clientID
	return json.Marshal(r)
}

func (c *Client) openRecord(key string, data []byte) (*storeRecord, error) {
	r := new(storeRecord)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, err
	}
	if r.ClientID != c.clientID || r.Token == nil {
		return nil, ErrStoreMiss
	}
	return r, nil
}
