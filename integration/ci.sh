#!/usr/bin/env bash
# integration/ci.sh: the integration step of .ci/run. It installs Debian's
# python3-django-oauth-toolkit unless /usr/bin/python3 already has it, starts
# the Django test server on a free loopback port, runs the integration tests
# against it with CRYPTOFUSE_INTEGRATION_URL set, and stops the server on exit.
# It fails if the server cannot start, if any test fails, and if any test
# skipped or none ran.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
export CGO_ENABLED=1 # -race needs cgo
py=/usr/bin/python3
start=$SECONDS

if ! "$py" -c 'import django, oauth2_provider' 2>/dev/null; then
	echo "installing python3-django-oauth-toolkit with apt"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y python3-django-oauth-toolkit
fi
"$py" -c 'import django, oauth2_provider; print("Django", django.__version__, "and django-oauth-toolkit", oauth2_provider.__version__)'

dir=$(mktemp -d)
cleanup() {
	status=$?
	integration/stop.sh "$dir" || status=1
	if [ "$status" -ne 0 ] && [ -s "$dir/server.log" ]; then
		echo "integration: server log (last 40 lines):" >&2
		tail -n 40 "$dir/server.log" >&2
	fi
	rm -rf "$dir"
	exit "$status"
}
trap cleanup EXIT

url=$(integration/start.sh "$dir")
echo "server at $url, started in $((SECONDS - start))s"
export CRYPTOFUSE_INTEGRATION_URL=$url

go test -race -count=1 -v ./integration/... >"$dir/test.log" 2>&1 || {
	cat "$dir/test.log"
	exit 1
}
grep -E '^(ok|---|FAIL)' "$dir/test.log" || true
if grep -q -- '--- SKIP' "$dir/test.log"; then
	grep -B1 -- '--- SKIP' "$dir/test.log"
	echo "integration: tests skipped although $url was up" >&2
	exit 1
fi
passed=$(grep -c -- '^--- PASS' "$dir/test.log" || true)
want=$(go test -list . ./integration/... | grep -c '^Test' || true)
if [ "$want" -eq 0 ] || [ "$passed" -ne "$want" ]; then
	echo "integration: $passed top-level tests passed; want all $want" >&2
	exit 1
fi
echo "integration: $passed tests passed against django-oauth-toolkit in $((SECONDS - start))s"
