package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/internal/names"
)

// The environment variables, which are also the keys of a credentials file.
const (
	envClientID     = names.EnvClientID
	envClientSecret = names.EnvClientSecret
	envBaseURL      = names.EnvBaseURL
)

// maxCredentialsFile caps the size of a credentials file.
const maxCredentialsFile = 64 << 10

// maxConcurrency caps -concurrency at the connections per host of the SDK's
// default client (cryptofuse.NewTransport: at most 64 open, all 64 kept
// when idle), which the CLI uses: every worker has a connection of its own,
// kept for reuse, and none waits for another's. TestMaxConcurrency ties the
// two.
const maxConcurrency = 64

// credentialsHelp documents the credentials, for each subcommand's -h.
const credentialsHelp = `
Credentials:
  From CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET, or from
  -credentials FILE: KEY=VALUE lines with those names (and optionally
  CRYPTOFUSE_BASE_URL), as in an env file. Blank lines and lines starting
  with # are skipped, "export " before a key is allowed, and a value may be
  quoted with ' or ". Keep the file at mode 0600: a warning is printed when
  group or others can read it. The base URL is -base-url, else
  CRYPTOFUSE_BASE_URL (from the file, then the environment), else
  https://api.cryptofuse.io. With -credentials, the environment's
  CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET are ignored (a note on
  stderr says so when they are set).
`

// clientFlags are the flags of every subcommand that talks to the server.
type clientFlags struct {
	credentials string
	baseURL     string
	timeout     time.Duration
	attempts    int
}

func (cf *clientFlags) register(fs *flag.FlagSet, timeoutUsage string) {
	fs.StringVar(&cf.credentials, "credentials", "", "read the client id and secret from `FILE` (see Credentials below)")
	fs.StringVar(&cf.baseURL, "base-url", "", "the API's base `URL` (default $CRYPTOFUSE_BASE_URL, else "+cryptofuse.DefaultBaseURL+")")
	fs.DurationVar(&cf.timeout, "timeout", cryptofuse.DefaultTimeout, timeoutUsage)
	fs.IntVar(&cf.attempts, "attempts", cryptofuse.DefaultRetryPolicy.MaxAttempts, "try a request up to `N` times in all when the server is busy or the connection fails (1: no retries)")
}

// settings is what the client is built from.
type settings struct {
	clientID, clientSecret, baseURL string
}

// newClient builds the client from the flags, the credentials file and the
// environment. It prints what is wrong, naming no secret, and returns false
// when the configuration is unusable. A credentials file that group or others
// can read gets a warning.
func (c *command) newClient(fs *flag.FlagSet, cf clientFlags, opts ...cryptofuse.Option) (*cryptofuse.Client, bool) {
	client, _, ok := c.newClientSettings(fs, cf, opts...)
	return client, ok
}

// newClientSettings is newClient, returning also the settings the client
// was built from.
func (c *command) newClientSettings(fs *flag.FlagSet, cf clientFlags, opts ...cryptofuse.Option) (*cryptofuse.Client, settings, bool) {
	if cf.timeout <= 0 {
		c.usageError(fs, "-timeout must be positive")
		return nil, settings{}, false
	}
	if cf.attempts < 1 {
		c.usageError(fs, "-attempts must be at least 1")
		return nil, settings{}, false
	}
	s, err := c.settings(cf)
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %v\n", fs.Name(), err)
		return nil, settings{}, false
	}
	opts = append([]cryptofuse.Option{
		cryptofuse.WithBaseURL(s.baseURL),
		cryptofuse.WithUserAgent("cryptofuse-cli/" + cryptofuse.Version + " cryptofuse-go/" + cryptofuse.Version),
		cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: cf.attempts, BaseDelay: c.backoff}),
	}, opts...)
	c.baseURL = s.baseURL
	client, err := cryptofuse.NewClient(s.clientID, s.clientSecret, opts...)
	if err != nil {
		// NewClient's errors never contain the secret.
		fmt.Fprintf(c.stderr, "%s: %s\n", fs.Name(), explain(err))
		return nil, settings{}, false
	}
	return client, s, true
}

// settings gathers the client settings. -credentials replaces the
// environment's id and secret; the base URL is -base-url, else the file's,
// else the environment's, else the default.
func (c *command) settings(cf clientFlags) (settings, error) {
	var s settings
	if cf.credentials != "" {
		var err error
		if s, err = c.readCredentials(cf.credentials); err != nil {
			return settings{}, err
		}
		if c.getenv(envClientID) != "" || c.getenv(envClientSecret) != "" {
			fmt.Fprintf(c.stderr, "cryptofuse: note: the client id and secret come from -credentials %s; %s and %s in the environment are ignored\n", cf.credentials, envClientID, envClientSecret)
		}
	} else {
		s.clientID = c.getenv(envClientID)
		s.clientSecret = c.getenv(envClientSecret)
		switch {
		case s.clientID == "" && s.clientSecret == "":
			return settings{}, errors.New("no credentials: set " + envClientID + " and " + envClientSecret + ", or pass -credentials FILE")
		case s.clientID == "":
			return settings{}, errors.New(envClientID + " is not set (" + envClientSecret + " is)")
		case s.clientSecret == "":
			return settings{}, errors.New(envClientSecret + " is not set (" + envClientID + " is)")
		}
	}
	switch {
	case cf.baseURL != "":
		s.baseURL = cf.baseURL
	case s.baseURL != "":
	case c.getenv(envBaseURL) != "":
		s.baseURL = c.getenv(envBaseURL)
	default:
		s.baseURL = cryptofuse.DefaultBaseURL
	}
	return s, nil
}

// readCredentials reads a credentials file (see credentialsHelp). Errors
// name the file and the line, never a value.
func (c *command) readCredentials(path string) (settings, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		// -credentials takes a path, never a token: name it.
		return settings{}, fmt.Errorf("-credentials: no such file: %s", path)
	}
	if err != nil {
		return settings{}, fmt.Errorf("-credentials: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return settings{}, fmt.Errorf("-credentials: %w", err)
	}
	if !info.Mode().IsRegular() {
		return settings{}, fmt.Errorf("-credentials: %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o044 != 0 && runtime.GOOS != "windows" {
		fmt.Fprintf(c.stderr, "cryptofuse: warning: credentials file %s is readable by group or others (mode %04o); run: chmod 600 %s\n", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialsFile+1))
	if err != nil {
		return settings{}, fmt.Errorf("-credentials: %w", err)
	}
	if len(data) > maxCredentialsFile {
		return settings{}, fmt.Errorf("-credentials: %s is larger than %d bytes: not a credentials file", path, maxCredentialsFile)
	}
	s, err := parseCredentials(data)
	if err != nil {
		return settings{}, fmt.Errorf("-credentials: %s: %w", path, err)
	}
	return s, nil
}

// parseCredentials parses KEY=VALUE lines (see credentialsHelp).
func parseCredentials(data []byte) (settings, error) {
	var s settings
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxCredentialsFile+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, found := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !found {
			return settings{}, fmt.Errorf("line %d is not KEY=VALUE", n)
		}
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		if prev, dup := seen[key]; dup {
			return settings{}, fmt.Errorf("line %d: %s is already set on line %d", n, key, prev)
		}
		seen[key] = n
		switch key {
		case envClientID:
			s.clientID = value
		case envClientSecret:
			s.clientSecret = value
		case envBaseURL:
			s.baseURL = value
		default:
			// The key is not shown: a value written without its key
			// would show part of a secret.
			return settings{}, fmt.Errorf("line %d: unknown key (want %s, %s or %s)", n, envClientID, envClientSecret, envBaseURL)
		}
	}
	if err := sc.Err(); err != nil {
		return settings{}, err
	}
	switch {
	case s.clientID == "":
		return settings{}, errors.New("no " + envClientID + " line with a value")
	case s.clientSecret == "":
		return settings{}, errors.New("no " + envClientSecret + " line with a value")
	}
	return s, nil
}
