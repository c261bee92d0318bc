#!/usr/bin/env bash
# stop.sh DIR: stop the server that start.sh DIR started, by the pid it
# recorded, and only if that pid is still that server. Without a pid file
# there is nothing to stop, and it succeeds.
set -euo pipefail
dir=${1:?usage: stop.sh DIR (the directory given to start.sh)}
pidfile="$dir/server.pid"
[ -e "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
rm -f "$pidfile"
case $pid in '' | *[!0-9]*) echo "stop.sh: $pidfile holds no pid" >&2; exit 1 ;; esac

# The pid may have been reused after the server died: check it is our server.
cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || exit 0
case $cmd in
*manage.py\ serve\ --port-file\ "$dir/port"*) ;;
*) exit 0 ;;
esac

kill -TERM "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 50); do
	kill -0 "$pid" 2>/dev/null || exit 0
	sleep 0.2
done
echo "stop.sh: server $pid ignored SIGTERM for 10 s; sending SIGKILL" >&2
kill -KILL "$pid" 2>/dev/null || true
