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
// integration/ci.sh does all of this, installing Debian's
// python3-django-oauth-toolkit first if /usr/bin/python3 lacks it. The
// package has no exported API.
package integration
