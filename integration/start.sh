#!/usr/bin/env bash
# start.sh DIR: start the integration test server, django-oauth-toolkit under
# Django's development server, on 127.0.0.1 and a free port. DIR (created if
# missing) gets a fresh sqlite database seeded with the test clients, the server
# log (server.log), its pid (server.pid) and its base URL (url). The URL is also
# printed on stdout. stop.sh DIR stops it again.
#
# It needs Debian's python3-django-oauth-toolkit under /usr/bin/python3 (set
# CRYPTOFUSE_PYTHON for another interpreter). It exits non-zero, with the server
# log, unless the server is up and answering when it returns.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=${CRYPTOFUSE_PYTHON:-/usr/bin/python3}
dir=${1:?usage: start.sh DIR (a directory for the database, log, pid and url)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
fail() { echo "start.sh: $*" >&2; exit 1; }

[ -e "$dir/server.pid" ] && fail "$dir/server.pid exists; run stop.sh $dir first"
"$py" -c 'import django, oauth2_provider' 2>/dev/null ||
	fail "$py cannot import django and oauth2_provider; install them with: apt-get update && apt-get install -y python3-django-oauth-toolkit"

export CRYPTOFUSE_DOT_DB="$dir/db.sqlite3" PYTHONDONTWRITEBYTECODE=1
rm -f "$CRYPTOFUSE_DOT_DB" "$dir/port" "$dir/url"
"$py" "$here/manage.py" migrate --noinput -v 0
"$py" "$here/manage.py" seed >/dev/null

"$py" "$here/manage.py" serve --port-file "$dir/port" </dev/null >"$dir/server.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/server.pid"

# answers URL: the server is up when an unauthenticated GET of a protected
# resource gets DOT's 403.
answers() {
	"$py" - "$1" <<'PY'
import sys, urllib.error, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    opener.open(sys.argv[1], timeout=5)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 403 else 1)
except Exception:
    sys.exit(1)
sys.exit(1)
PY
}

giveup() {
	kill "$pid" 2>/dev/null || true
	rm -f "$dir/server.pid"
	echo "start.sh: $*; server log ($dir/server.log):" >&2
	tail -n 50 "$dir/server.log" >&2 || true
	exit 1
}

for _ in $(seq 1 120); do # up to about 60 s on a busy machine
	kill -0 "$pid" 2>/dev/null || giveup "the server exited"
	if [ -s "$dir/port" ]; then
		url="http://127.0.0.1:$(cat "$dir/port")"
		if answers "$url/api/me/"; then
			echo "$url" >"$dir/url"
			echo "$url"
			exit 0
		fi
	fi
	sleep 0.5
done
giveup "the server did not answer within 60 s"
