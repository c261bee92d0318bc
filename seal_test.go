package cryptofuse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	sealTestID     = "sdk-client"
	sealTestSecret = "s3cret-Value-42"
	sealTestToken  = "AT-0123456789abcdefXYZ"
)

// sealClient is a Client for the sealing tests.
func sealClient(t *testing.T, id, secret, base string, scopes ...string) *Client {
	t.Helper()
	opts := []Option{WithBaseURL(base)}
	if scopes != nil {
		opts = append(opts, WithScopes(scopes...))
	}
	c, err := NewClient(id, secret, opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func sealTestRecord() *record {
	return &record{
		Token: &Token{AccessToken: sealTestToken, TokenType: "Bearer", Scope: "read write", ExpiresIn: 3600,
			Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)},
		Issued:  time.Date(2030, 1, 2, 2, 4, 5, 0, time.UTC),
		Gen:     7,
		Retired: []retired{{Token: "AT-retired-987654321", RevokeAt: time.Date(2030, 1, 2, 2, 5, 0, 0, time.UTC)}},
	}
}

func TestSeal_RoundTrip(t *testing.T) {
	c := sealClient(t, sealTestID, sealTestSecret, "https://auth.example.com/api")
	key := c.storeKey()
	want := sealTestRecord()
	data, err := c.sealRecord(key, want)
	if err != nil {
		t.Fatalf("sealRecord: %v", err)
	}
	got, err := c.openRecord(key, data)
	if err != nil {
		t.Fatalf("openRecord: %v", err)
	}
	if got.V != recordVersion || got.Origin != "https://auth.example.com/api" || got.ClientID != sealTestID || got.Scope != "read write" {
		t.Errorf("identity: got v=%d origin=%q client=%q scope=%q, want 1, the client's", got.V, got.Origin, got.ClientID, got.Scope)
	}
	if *got.Token != *want.Token || !got.Issued.Equal(want.Issued) || got.Gen != want.Gen ||
		len(got.Retired) != 1 || got.Retired[0].Token != want.Retired[0].Token || !got.Retired[0].RevokeAt.Equal(want.Retired[0].RevokeAt) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if want.V != 0 || want.Origin != "" {
		t.Errorf("sealRecord changed its argument: got %+v", want)
	}
	again, err := c.sealRecord(key, want)
	if err != nil {
		t.Fatalf("sealRecord: %v", err)
	}
	if bytes.Equal(again, data) {
		t.Errorf("two seals of one record are equal: got the same nonce twice")
	}
}

func TestSeal_DoesNotOpen(t *testing.T) {
	const base = "https://auth.example.com"
	c := sealClient(t, sealTestID, sealTestSecret, base)
	key := c.storeKey()
	data, err := c.sealRecord(key, sealTestRecord())
	if err != nil {
		t.Fatalf("sealRecord: %v", err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(data)
		b[i] ^= 0x01
		return b
	}
	otherSecret := sealClient(t, sealTestID, "another-secret", base)
	// Same secret, another identity: the record opens cryptographically
	// under the same key but names another client, origin or scope set.
	otherID := sealClient(t, "other-client", sealTestSecret, base)
	otherOrigin := sealClient(t, sealTestID, sealTestSecret, "https://other.example.com")
	otherScope := sealClient(t, sealTestID, sealTestSecret, base, "read")
	tests := []struct {
		name string
		c    *Client
		key  string
		data []byte
	}{
		{"another secret", otherSecret, key, data},
		{"another key", c, key + "0", data},
		{"another client id, its key", otherID, otherID.storeKey(), data},
		{"another client id, this key", otherID, key, data},
		{"another origin, this key", otherOrigin, key, data},
		{"another scope set, this key", otherScope, key, data},
		{"another version", c, key, append([]byte{sealVersion + 1}, data[1:]...)},
		{"truncated", c, key, data[:len(data)-1]},
		{"header only", c, key, data[:13]},
		{"empty", c, key, nil},
		{"bit flip in the nonce", c, key, flip(1)},
		{"bit flip in the ciphertext", c, key, flip(20)},
		{"bit flip in the tag", c, key, flip(len(data) - 1)},
		{"too large", c, key, make([]byte, maxRecordSize+1)},
		{"zero Client", &Client{}, key, data},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.c.openRecord(tc.key, tc.data)
			if err == nil {
				t.Fatalf("openRecord: got %+v, nil, want an error", r)
			}
			if !errors.Is(err, errBadRecord) {
				t.Errorf("got %v, want an error wrapping errBadRecord", err)
			}
			if msg := err.Error(); strings.Contains(msg, sealTestToken) || strings.Contains(msg, sealTestSecret) || !strings.HasPrefix(msg, prefix) {
				t.Errorf("error text: got %q, want one starting %q with no token or secret", msg, prefix)
			}
		})
	}
}

// TestSeal_IdentityChecked seals, under the same secret and key, records
// whose content names something else, and records the wire could not carry.
func TestSeal_IdentityChecked(t *testing.T) {
	c := sealClient(t, sealTestID, sealTestSecret, "https://auth.example.com")
	key := c.storeKey()
	tests := []struct {
		name string
		edit func(r *record)
	}{
		{"no token", func(r *record) { r.Token = nil }},
		{"empty access token", func(r *record) { r.Token.AccessToken = "" }},
		{"newline in the token", func(r *record) { r.Token.AccessToken = "AT-x\nInjected: 1" }},
		{"space in the token", func(r *record) { r.Token.AccessToken = "AT x" }},
		{"DEL in the token", func(r *record) { r.Token.AccessToken = "AT\x7f" }},
		{"negative expires_in", func(r *record) { r.Token.ExpiresIn = -1 }},
		{"expires_in past a Duration", func(r *record) { r.Token.ExpiresIn = maxStoredExpiresIn + 1 }},
		{"another record version", func(r *record) { r.V = 2 }},
		{"another client id", func(r *record) { r.ClientID = "other-client" }},
		{"another origin", func(r *record) { r.Origin = "https://other.example.com" }},
		{"another scope", func(r *record) { r.Scope = "read" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := rawSeal(t, c, key, tc.edit)
			if r, err := c.openRecord(key, data); !errors.Is(err, errBadRecord) {
				t.Errorf("openRecord: got %+v, %v, want an error wrapping errBadRecord", r, err)
			}
		})
	}
	t.Run("unedited", func(t *testing.T) {
		if _, err := c.openRecord(key, rawSeal(t, c, key, func(*record) {})); err != nil {
			t.Errorf("openRecord: got %v, want nil", err)
		}
	})
}

// rawSeal seals a record with c's identity, edited by edit after
// sealRecord would have filled it in.
func rawSeal(t *testing.T, c *Client, key string, edit func(r *record)) []byte {
	t.Helper()
	r := sealTestRecord()
	r.V, r.Origin, r.ClientID, r.Scope = recordVersion, c.baseURL, c.clientID, c.sealScope
	edit(r)
	plain, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	nonce := make([]byte, c.seal.NonceSize())
	return c.seal.Seal(append([]byte{sealVersion}, nonce...), nonce, plain, []byte(key))
}

func TestSeal_NothingInClear(t *testing.T) {
	c := sealClient(t, sealTestID, sealTestSecret, "https://auth.example.com")
	data, err := c.sealRecord(c.storeKey(), sealTestRecord())
	if err != nil {
		t.Fatalf("sealRecord: %v", err)
	}
	for _, s := range []string{sealTestToken, "AT-retired-987654321", sealTestSecret, sealTestID, "auth.example.com", "access_token"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("sealed bytes hold %q in clear", s)
		}
	}
	if data[0] != sealVersion {
		t.Errorf("version byte: got %d, want %d", data[0], sealVersion)
	}
}

func TestSeal_ZeroClient(t *testing.T) {
	var c Client
	if b, err := c.sealRecord("k", sealTestRecord()); err == nil {
		t.Errorf("sealRecord of a zero Client: got %d bytes, nil, want an error", len(b))
	}
}

func TestStoreKey(t *testing.T) {
	const a, b = "https://a.example.com", "https://b.example.com"
	keys := map[string]string{}
	add := func(name string, c *Client) {
		t.Helper()
		k := c.storeKey()
		if !regexp.MustCompile(`^cryptofuse-v1-[0-9a-f]{32}$`).MatchString(k) {
			t.Errorf("%s: key %q, want cryptofuse-v1- and 32 hex digits", name, k)
		}
		if strings.Contains(k, sealTestSecret) {
			t.Errorf("%s: key %q holds the secret", name, k)
		}
		if other, ok := keys[k]; ok {
			t.Errorf("%s and %s share the key %q", name, other, k)
		}
		keys[k] = name
	}
	add("client A at a", sealClient(t, "client-A", sealTestSecret, a))
	add("client B at a", sealClient(t, "client-B", sealTestSecret, a))
	add("client A at b", sealClient(t, "client-A", sealTestSecret, b))
	add("client A at a/api", sealClient(t, "client-A", sealTestSecret, a+"/api"))
	add("client A at a, read", sealClient(t, "client-A", sealTestSecret, a, "read"))
	add("client A at a, write", sealClient(t, "client-A", sealTestSecret, a, "write"))
	add("client A at a, no scopes", sealClient(t, "client-A", sealTestSecret, a, []string{}...))
	// The separator keeps fields apart: "ab"+"c" is not "a"+"bc".
	add("client \"x\" at a/y", sealClient(t, "x", sealTestSecret, a+"/y"))

	// Same client, scopes in another order or repeated: the same key.
	c1 := sealClient(t, "client-A", sealTestSecret, a, "write", "read")
	c2 := sealClient(t, "client-A", sealTestSecret, a)
	c3 := sealClient(t, "client-A", "another-secret", a, "read", "write", "read")
	if c1.storeKey() != c2.storeKey() || c2.storeKey() != c3.storeKey() {
		t.Errorf("scopes reordered or repeated, or the secret changed: got keys %q, %q, %q, want one", c1.storeKey(), c2.storeKey(), c3.storeKey())
	}
}

// TestSeal_RecordFormat: no fmt verb of a record, a *record or a retired
// token shows a token.
func TestSeal_RecordFormat(t *testing.T) {
	r := sealTestRecord()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{r, *r, r.Retired, r.Retired[0]} {
			got := fmt.Sprintf(verb, v)
			if strings.Contains(got, sealTestToken) || strings.Contains(got, "AT-retired-987654321") {
				t.Errorf("Sprintf(%q, %T): got %q, want no token", verb, v, got)
			}
		}
	}
	if got := fmt.Sprint(r); !strings.Contains(got, "Gen:7") || !strings.Contains(got, "[redacted]") {
		t.Errorf("Sprint(record): got %q, want a summary with Gen:7 and [redacted]", got)
	}
}
