// Package names says how the CLI and the examples name things to a person:
// the environment variables that hold the configuration, and a token by its
// fingerprint, never by its value.
package names

import (
	"crypto/sha256"
	"encoding/hex"
)

// The environment variables that configure the CLI and the examples.
const (
	EnvClientID     = "CRYPTOFUSE_CLIENT_ID"
	EnvClientSecret = "CRYPTOFUSE_CLIENT_SECRET"
	EnvBaseURL      = "CRYPTOFUSE_BASE_URL"
)

// Fingerprint names a token without showing it: the first 8 hex digits of
// its SHA-256. It is safe to print and to log.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:4])
}
