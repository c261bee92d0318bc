#!/usr/bin/env bash
# redis.sh start DIR | stop DIR: a throwaway Redis for the tests that need one
# (redisstore, the fleet integration tests).
#
# start DIR starts redis-server on 127.0.0.1 and a free port, with no
# persistence (--save '' --appendonly no), in the foreground of a background
# process (--daemonize no), so that the pid it records in DIR/redis.pid is the
# server's. DIR (created if missing) also gets the log (redis.log), the
# address (addr) and the server's version (version). It prints the address on
# stdout, and "Redis VERSION on ADDRESS" on stderr, once the server answers
# PING; otherwise it exits non-zero with the log. Use it as
#
#	export CRYPTOFUSE_REDIS_ADDR=$(integration/redis.sh start /tmp/redis)
#	(cd redisstore && go test -race ./...)
#	integration/redis.sh stop /tmp/redis
#
# stop DIR stops the server start DIR started, by the pid it recorded and
# only if that pid is still that server; without a pid file it does nothing.
#
# It needs Debian's redis-server (apt-get install -y redis-server); set
# CRYPTOFUSE_REDIS_SERVER for another binary (valkey-server works too).
set -euo pipefail
server=${CRYPTOFUSE_REDIS_SERVER:-redis-server}
usage="usage: redis.sh start DIR | redis.sh stop DIR"
cmd=${1:?$usage}
dir=${2:?$usage}
fail() { echo "redis.sh: $*" >&2; exit 1; }

# ping PORT: whether the server on PORT answers PING with PONG.
ping() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'PING\r\n' >&3
		read -r -t 2 reply <&3 || exit 1
		[ "${reply%$'\r'}" = "+PONG" ]
	) 2>/dev/null
}

# ours PID: whether PID is a redis server started with our DIR.
ours() {
	local cmdline
	cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	case $cmdline in *"$dir/redis.log"*) return 0 ;; esac
	# redis-server rewrites its argv to "redis-server 127.0.0.1:PORT".
	[ -s "$dir/addr" ] && case $cmdline in *"$(cat "$dir/addr")"*) return 0 ;; esac
	return 1
}

start() {
	command -v "$server" >/dev/null ||
		fail "$server not found; install it with: apt-get update && apt-get install -y redis-server"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -e "$dir/redis.pid" ] && fail "$dir/redis.pid exists; run redis.sh stop $dir first"
	rm -f "$dir/addr" "$dir/version" "$dir/redis.log"
	local version port pid
	version=$("$server" --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')
	for _ in $(seq 1 20); do # a random port, again if it is taken
		port=$((20000 + RANDOM % 40000))
		ping "$port" && continue
		"$server" --bind 127.0.0.1 --port "$port" --protected-mode yes \
			--save '' --appendonly no --daemonize no \
			--dir "$dir" --logfile "$dir/redis.log" </dev/null >/dev/null 2>&1 &
		pid=$!
		for _ in $(seq 1 100); do # up to about 10 s
			kill -0 "$pid" 2>/dev/null || break
			if ping "$port"; then
				echo "$pid" >"$dir/redis.pid"
				echo "127.0.0.1:$port" >"$dir/addr"
				echo "$version" >"$dir/version"
				echo "redis.sh: Redis $version on 127.0.0.1:$port (pid $pid)" >&2
				echo "127.0.0.1:$port"
				return 0
			fi
			sleep 0.1
		done
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		grep -q "Address already in use" "$dir/redis.log" 2>/dev/null || break
	done
	echo "redis.sh: $server did not start; its log ($dir/redis.log):" >&2
	tail -n 30 "$dir/redis.log" >&2 || true
	exit 1
}

stop() {
	local pidfile="$dir/redis.pid" pid
	[ -e "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	case $pid in '' | *[!0-9]*) fail "$pidfile holds no pid" ;; esac
	if ours "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "redis.sh: Redis $pid ignored SIGTERM for 10 s; sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

case $cmd in
start) start ;;
stop) stop ;;
*) fail "$usage" ;;
esac
