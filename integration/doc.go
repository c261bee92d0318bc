// Package integration holds tests that run the SDK against a real
// django-oauth-toolkit server, the software behind Cryptofuse's OAuth2
// endpoints (RFC 6749 client credentials, RFC 7009 revocation).
//
// The server is a Django project in this directory, a test fixture only:
// start.sh serves it on a free loopback port and stop.sh stops it. The tests
// run when the environment variable CRYPTOFUSE_INTEGRATION_URL names its base
// URL and skip otherwise, so "go test ./..." needs no Django:
//
//	dir=$(mktemp -d)
//	integration/start.sh "$dir"
//	CRYPTOFUSE_INTEGRATION_URL=$(cat "$dir/url") go test -race -count=1 ./integration/...
//	integration/stop.sh "$dir"
//
// integration/ci.sh does all of this once per server version:
// django-oauth-toolkit 1.7.0 (Debian bookworm's python3-django-oauth-toolkit,
// installed with apt if /usr/bin/python3 lacks it) and 3.4.1 (Debian sid's,
// unpacked by dot341.sh into a folder for PYTHONPATH, with a private apt
// configuration). Every test runs against both; where the versions differ,
// a test asks the server's version (GET /api/version/) for what to expect,
// and TestFakeMatchesDOT runs cryptofusetest in the matching mode
// (CRYPTOFUSE_PARITY_MODE forces one). The package has no exported API.
//
// Tokens live 36000 s, as on Cryptofuse, except those of the seeded "short"
// application, which live 5 s (dotserver/settings.py gives DOT a callable
// ACCESS_TOKEN_EXPIRE_SECONDS): the TokenSource tests watch refreshes and
// expiries on it within seconds, on the same server as every other test.
package integration
