package cryptofuse

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The sealed record format: sealVersion || nonce || AES-256-GCM ciphertext
// of the record's JSON, with the store key as associated data.
const (
	sealVersion    byte = 1
	recordVersion       = 1
	storeKeyPrefix      = "cryptofuse-v1-"
	// sealInfo is HKDF's info: it binds the derived key to this use, so the
	// client secret's other uses (Basic credentials) never meet this key.
	sealInfo = "cryptofuse-go store v1"
	// maxRecordSize caps a record: a token and a few retired ones take a
	// few kilobytes; anything far larger is not a record of ours.
	maxRecordSize = 64 << 10
	// maxStoredExpiresIn is the largest expires_in a record may hold: the
	// most seconds a time.Duration holds, so that Expiry less the lifetime
	// cannot overflow.
	maxStoredExpiresIn = math.MaxInt64 / int64(time.Second)
)

// errBadRecord is the cause of every openRecord failure. Its messages say
// what is wrong, never what the record holds.
var errBadRecord error = &plainError{msg: "store: record does not open"}

// record is the plaintext inside a sealed record.
type record struct {
	V        int       `json:"v"`
	Origin   string    `json:"origin"`    // the client's base URL
	ClientID string    `json:"client_id"` // the client's id
	Scope    string    `json:"scope"`     // the requested scopes, sorted, space-joined
	Token    *Token    `json:"token"`
	Issued   time.Time `json:"issued"` // when the token was issued
	// Fleet fields (SharedStore): optional.
	Gen     uint64    `json:"gen,omitempty"`     // generation: 1 + that of the record it replaced
	Retired []retired `json:"retired,omitempty"` // replaced tokens the fleet still has to revoke
	Rotated bool      `json:"rotated,omitempty"` // the token was issued for a Rotate (fleetRotateWindow)
	// Rejections counts the tokens in a row issued because the one before
	// was rejected soon after it came (the fleet's 401 backoff steps).
	Rejections int `json:"rejections,omitempty"`
	// Rejected: the server rejected the record's token; no instance takes
	// it, and the next token replaces the record.
	Rejected bool `json:"rejected,omitempty"`
}

// retired is a replaced token a fleet revokes once RevokeAt has passed.
type retired struct {
	Token    string    `json:"token"`
	RevokeAt time.Time `json:"revoke_at"`
	Expiry   time.Time `json:"expiry,omitzero"` // the token's; zero: unknown (kept until revoked)
}

// Format implements [fmt.Formatter]: every verb prints a summary that shows
// no token, for a record and for a retired token alike (value receivers, so
// that a value formats this way too).
func (r record) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "cryptofuse.record{V:%d, Origin:%q, ClientID:%q, Scope:%q, Token:%v, Issued:%s, Gen:%d, Retired:%v}",
		r.V, r.Origin, r.ClientID, r.Scope, r.Token, r.Issued.Format(time.RFC3339), r.Gen, r.Retired)
}

// Format implements [fmt.Formatter]; see record's.
func (r retired) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{Token:%s, RevokeAt:%s}", redactedOrEmpty(r.Token), r.RevokeAt.Format(time.RFC3339))
}

// sealParams derives the store identity and the sealing AEAD of a client:
// the store key, the scope string records name, and AES-256-GCM under
// HKDF-SHA256(client secret). NewClient calls it once.
func sealParams(baseURL, clientID, clientSecret string, scopes []string) (key, scope string, aead cipher.AEAD, err error) {
	sorted := slices.Clone(scopes)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	scope = strings.Join(sorted, " ")
	sum := sha256.Sum256([]byte(baseURL + "\x00" + clientID + "\x00" + scope))
	key = storeKeyPrefix + hex.EncodeToString(sum[:16])
	k, err := hkdf.Key(sha256.New, []byte(clientSecret), nil, sealInfo, 32)
	if err != nil {
		return "", "", nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return "", "", nil, err
	}
	aead, err = cipher.NewGCM(block)
	if err != nil {
		return "", "", nil, err
	}
	return key, scope, aead, nil
}

// storeKey is the key under which c's TokenSources keep their record:
// "cryptofuse-v1-" and 32 hex digits of SHA-256 of the base URL, the client
// id and the sorted scopes. It names no secret.
func (c *Client) storeKey() string { return c.sealKeyName }

// sealRecord fills in r's identity (version, origin, client id, scope) and
// seals it for the store key key. The result holds no token in clear.
func (c *Client) sealRecord(key string, r *record) ([]byte, error) {
	if c.seal == nil {
		return nil, errors.New(prefix + "store: client cannot seal records (not built by NewClient)")
	}
	rr := *r
	rr.V, rr.Origin, rr.ClientID, rr.Scope = recordVersion, c.baseURL, c.clientID, c.sealScope
	plain, err := json.Marshal(&rr)
	if err != nil { // an Expiry past year 9999: json's error quotes no token
		return nil, errors.New(prefix + "store: record cannot be encoded")
	}
	ns := c.seal.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+c.seal.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	out = c.seal.Seal(out, out[1:], plain, []byte(key))
	clear(plain)
	return out, nil
}

// openRecord opens data sealed under key by sealRecord. Any failure is an
// error wrapping errBadRecord (the caller treats it as a miss): data too
// short or too long, another format version, sealed under another secret or
// for another key, or a record for another origin, client or scope set, or
// without a usable token.
func (c *Client) openRecord(key string, data []byte) (*record, error) {
	bad := func(why string) error { return fmt.Errorf("%w: %s", errBadRecord, why) }
	if c.seal == nil {
		return nil, bad("client cannot open records (not built by NewClient)")
	}
	ns := c.seal.NonceSize()
	switch {
	case len(data) > maxRecordSize:
		return nil, bad("too large")
	case len(data) < 1+ns+c.seal.Overhead():
		return nil, bad("too short")
	case data[0] != sealVersion:
		return nil, bad("unknown format version")
	}
	plain, err := c.seal.Open(nil, data[1:1+ns], data[1+ns:], []byte(key))
	if err != nil {
		return nil, bad("sealed under another client secret or for another key, or altered")
	}
	defer clear(plain)
	var r record
	if err := json.Unmarshal(plain, &r); err != nil {
		return nil, bad("not a record")
	}
	switch {
	case r.V != recordVersion:
		return nil, bad("unknown record version")
	case r.Origin != c.baseURL || r.ClientID != c.clientID || r.Scope != c.sealScope:
		return nil, bad("for another server, client or scope set")
	case r.Token == nil || !wireSafe(r.Token.AccessToken):
		return nil, bad("no usable token")
	case r.Token.ExpiresIn < 0 || r.Token.ExpiresIn > maxStoredExpiresIn:
		return nil, bad("expires_in out of range")
	}
	return &r, nil
}

// wireSafe reports whether tok can travel in an Authorization header: not
// empty, no white space or control characters.
func wireSafe(tok string) bool {
	return tok != "" && !strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f })
}
