// Package setup connects the example programs to the real Cryptofuse API or,
// when no credentials are set, to a built-in fake server, so that every
// example runs on a fresh clone with no account.
package setup

import (
	"errors"
	"os"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/cryptofuse/cryptofuse-go/internal/names"
)

// The environment variables the examples read.
const (
	EnvClientID     = names.EnvClientID
	EnvClientSecret = names.EnvClientSecret
	EnvBaseURL      = names.EnvBaseURL
)

// The fake server's one application.
const (
	demoClientID     = "demo-client"
	demoClientSecret = "demo-secret"
)

// Env is where an example runs.
type Env struct {
	Client       *cryptofuse.Client
	BaseURL      string
	ClientID     string
	ClientSecret string
	// Fake is the built-in fake server, or nil against the real API.
	Fake *cryptofusetest.Server
}

// Describe says where the example runs, for its first line of output.
func (e *Env) Describe() string {
	if e.Fake != nil {
		return "the built-in fake server (set " + EnvClientID + " and " + EnvClientSecret + " to use the real API)"
	}
	return e.BaseURL
}

// Close stops the fake server, if there is one.
func (e *Env) Close() {
	if e.Fake != nil {
		e.Fake.Close()
	}
}

// FromEnv returns the Env the environment asks for: the real API when
// CRYPTOFUSE_CLIENT_ID is set (with CRYPTOFUSE_CLIENT_SECRET, and
// CRYPTOFUSE_BASE_URL if the API is not at the default URL), and a fake
// server on loopback otherwise. opts are passed to NewClient.
func FromEnv(opts ...cryptofuse.Option) (*Env, error) {
	e := &Env{
		BaseURL:      os.Getenv(EnvBaseURL),
		ClientID:     os.Getenv(EnvClientID),
		ClientSecret: os.Getenv(EnvClientSecret),
	}
	switch {
	case e.ClientID == "":
		e.Fake = cryptofusetest.NewServer(demoClientID, demoClientSecret)
		e.BaseURL, e.ClientID, e.ClientSecret = e.Fake.URL, demoClientID, demoClientSecret
	case e.ClientSecret == "":
		return nil, errors.New(EnvClientID + " is set but " + EnvClientSecret + " is not")
	case e.BaseURL == "":
		e.BaseURL = cryptofuse.DefaultBaseURL
	}
	c, err := cryptofuse.NewClient(e.ClientID, e.ClientSecret, append([]cryptofuse.Option{cryptofuse.WithBaseURL(e.BaseURL)}, opts...)...)
	if err != nil {
		e.Close()
		return nil, err
	}
	e.Client = c
	return e, nil
}

// Fingerprint names a token without showing it (see names.Fingerprint).
func Fingerprint(token string) string { return names.Fingerprint(token) }
