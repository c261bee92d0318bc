#!/usr/bin/env bash
# integration/ci.sh: the integration step of .ci/run. It runs the integration
# tests once against each django-oauth-toolkit the project supports:
#
#   - 1.7.0, Debian bookworm's python3-django-oauth-toolkit, installed with apt
#     unless /usr/bin/python3 already has it, and
#   - 3.4.1, Debian sid's, unpacked (never installed) by integration/dot341.sh
#     into a folder that goes first on PYTHONPATH.
#
# For each, it starts the Django test server on a free loopback port, runs the
# tests with CRYPTOFUSE_INTEGRATION_URL set, and stops the server. It fails if
# a server cannot start, if any test fails, and if any test skipped or fewer
# than all ran. Its closing line names the versions that ran and the time each
# run took.
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
echo "unpacking django-oauth-toolkit 3.4 from Debian sid (integration/dot341.sh)"
dot341=$(integration/dot341.sh)

dir=$(mktemp -d)
cleanup() {
	status=$?
	for d in "$dir"/*/; do
		d=${d%/}
		[ -d "$d" ] || continue
		integration/stop.sh "$d" || status=1
		if [ "$status" -ne 0 ] && [ -s "$d/server.log" ]; then
			echo "integration: server log of $d (last 40 lines):" >&2
			tail -n 40 "$d/server.log" >&2
		fi
	done
	rm -rf "$dir"
	exit "$status"
}
trap cleanup EXIT

want=$(go test -list . ./integration/... | grep -c '^Test' || true)
[ "$want" -gt 0 ] || { echo "integration: go test -list found no tests" >&2; exit 1; }

# fleet VERSION URL DIR: the fleet integration test of the redisstore module
# (its own module, so that the root never requires go-redis) against the
# server at URL and the Redis at CRYPTOFUSE_REDIS_ADDR (.ci/run exports it):
# 10 instances over one redisstore, 32 callers, a Redis outage. It fails on
# a failure and on a skip, and prints the test's numbers.
fleet() {
	local version=$1 url=$2 d=$3 run=$SECONDS
	[ -n "${CRYPTOFUSE_REDIS_ADDR:-}" ] || {
		echo "integration: CRYPTOFUSE_REDIS_ADDR is not set; the fleet test needs a Redis (integration/redis.sh start DIR)" >&2
		exit 1
	}
	(cd redisstore && CRYPTOFUSE_INTEGRATION_URL=$url go test -race -count=1 -run 'Fleet' -v .) >"$d/fleet.log" 2>&1 || {
		cat "$d/fleet.log"
		echo "integration: the fleet test failed against DOT $version and Redis at $CRYPTOFUSE_REDIS_ADDR" >&2
		exit 1
	}
	if grep -q -- '--- SKIP' "$d/fleet.log" || ! grep -q -- '^--- PASS: TestFleetIntegration' "$d/fleet.log"; then
		cat "$d/fleet.log"
		echo "integration: the fleet test did not run against DOT $version" >&2
		exit 1
	fi
	grep -E 'fleet: (DOT|requests|Redis|switch)' "$d/fleet.log" | sed 's/^[[:space:]]*[a-z_]*\.go:[0-9]*: /integration: /'
	echo "integration: fleet test passed against DOT $version in $((SECONDS - run))s"
}

# suite NAME PYTHONPATH: start a server whose python3 has PYTHONPATH, run every
# integration test against it, stop it, and append "VERSION in Ns" to $ran.
ran=()
suite() {
	local name=$1 run=$SECONDS d="$dir/$1" version url passed
	version=$(PYTHONPATH=$2 "$py" -c 'import django, oauth2_provider; print(oauth2_provider.__version__)')
	PYTHONPATH=$2 "$py" -c 'import django, oauth2_provider; print("== DOT", oauth2_provider.__version__, "on Django", django.__version__)'
	url=$(PYTHONPATH=$2 integration/start.sh "$d")
	echo "server at $url, started in $((SECONDS - run))s"
	CRYPTOFUSE_INTEGRATION_URL=$url go test -race -count=1 -v ./integration/... >"$d/test.log" 2>&1 || {
		cat "$d/test.log"
		echo "integration: tests failed against DOT $version" >&2
		exit 1
	}
	fleet "$version" "$url" "$d"
	integration/stop.sh "$d"
	grep -E '^(ok|---|FAIL)' "$d/test.log" || true
	if grep -q -- '--- SKIP' "$d/test.log"; then
		grep -B1 -- '--- SKIP' "$d/test.log"
		echo "integration: tests skipped although DOT $version at $url was up" >&2
		exit 1
	fi
	passed=$(grep -c -- '^--- PASS' "$d/test.log" || true)
	if [ "$passed" -ne "$want" ]; then
		echo "integration: $passed top-level tests passed against DOT $version; want all $want" >&2
		exit 1
	fi
	echo "integration: $passed tests passed against DOT $version in $((SECONDS - run))s"
	ran+=("$version in $((SECONDS - run))s")
}
suite dot170 ""
suite dot341 "$dot341"

echo "integration: $want tests passed against DOT ${ran[0]} and ${ran[1]} ($((SECONDS - start))s in all)"
