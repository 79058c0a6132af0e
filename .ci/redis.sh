# shellcheck shell=bash
# Source this file (". .ci/redis.sh") to get a Redis server for the webhook/redisstore tests. It
# exports PAYKIT_TEST_REDIS_ADDR; the tests skip only when that variable is unset.
#
# What it does, idempotently (safe to source again, or with a server already running):
#   1. If PAYKIT_TEST_REDIS_ADDR is already set, uses it as is and does nothing else.
#   2. Installs redis-server with apt-get when it is not on PATH (root only), and stops the
#      distribution's own service if the package started one (we run a private server).
#   3. Reuses the private server recorded in $PAYKIT_REDIS_DIR (default /tmp/paykit-redis) if it
#      still answers PING; otherwise starts one daemonized on 127.0.0.1 only, on the first free
#      port from $PAYKIT_REDIS_PORT (default 63790), with persistence off (no RDB snapshots, no
#      append-only file) because it only holds test data.
#   4. Waits until it answers PING and exports the address.
# The tests that restart a server (webhook/redisstore) start their own redis-server from PATH
# (or $PAYKIT_TEST_REDIS_SERVER) on another free port, so this one is never restarted under them.
# Written to be sourced by scripts running with "set -euo pipefail".
# Every step has a timeout, so it never hangs. On failure it prints why (with the server log)
# and returns non-zero, so a caller running with "set -e" stops.
# Stop the server with: paykit_redis_stop

paykit_redis_log() { printf 'redis.sh: %s\n' "$*" >&2; }

# paykit_redis_ping PORT: does a server on 127.0.0.1:PORT answer PING?
paykit_redis_ping() {
	[ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
}

# paykit_redis_port_free PORT: is nothing listening on 127.0.0.1:PORT?
paykit_redis_port_free() {
	! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

paykit_redis_install() {
	if [ "$(id -u)" -ne 0 ]; then
		paykit_redis_log "redis-server is not installed and we are not root: install the redis-server package"
		return 1
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		paykit_redis_log "redis-server is not installed and apt-get is unavailable"
		return 1
	fi
	paykit_redis_log "installing redis-server with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	timeout 600 apt-get -o DPkg::Lock::Timeout=120 update -qq >/dev/null &&
		timeout 900 apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends \
			redis-server redis-tools >/dev/null ||
		{ paykit_redis_log "apt-get install redis-server failed"; return 1; }
	# The package may start its own server on 6379 (where an init system runs); we do not use it.
	if command -v service >/dev/null 2>&1; then
		timeout 30 service redis-server stop >/dev/null 2>&1 || true
	fi
}

paykit_redis_setup() {
	if [ -n "${PAYKIT_TEST_REDIS_ADDR:-}" ]; then
		paykit_redis_log "using the existing PAYKIT_TEST_REDIS_ADDR"
		return 0
	fi
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		paykit_redis_install || return 1
		command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 ||
			{ paykit_redis_log "no redis-server/redis-cli found after installing"; return 1; }
	fi
	local dir="${PAYKIT_REDIS_DIR:-/tmp/paykit-redis}"
	local port="${PAYKIT_REDIS_PORT:-63790}"
	local portfile="$dir/port" pidfile="$dir/redis.pid" logfile="$dir/redis.log"
	mkdir -p "$dir" && chmod 0700 "$dir" || return 1

	# Reuse our server from an earlier run if it is alive.
	local old=""
	[ -f "$portfile" ] && old="$(cat "$portfile" 2>/dev/null)" || old=""
	if [ -n "$old" ] && paykit_redis_ping "$old"; then
		paykit_redis_log "server already running on 127.0.0.1:$old"
		port="$old"
	else
		local tries=0
		while ! paykit_redis_port_free "$port"; do
			tries=$((tries + 1))
			if [ "$tries" -ge 100 ]; then
				paykit_redis_log "no free port from ${PAYKIT_REDIS_PORT:-63790} on"
				return 1
			fi
			port=$((port + 1))
		done
		paykit_redis_log "starting redis-server on 127.0.0.1:$port"
		rm -f "$pidfile"
		# Test-only server: loopback, no persistence, daemonized with a pid file and a log.
		if ! timeout 30 redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
			--save '' --appendonly no --dir "$dir" --daemonize yes \
			--pidfile "$pidfile" --logfile "$logfile"; then
			paykit_redis_log "redis-server did not start; last log lines:"
			tail -n 20 "$logfile" >&2 2>/dev/null
			return 1
		fi
		local waited=0
		until paykit_redis_ping "$port"; do
			waited=$((waited + 1))
			if [ "$waited" -ge 100 ]; then # 100 × 0.1 s
				paykit_redis_log "redis-server on 127.0.0.1:$port does not answer PING; last log lines:"
				tail -n 20 "$logfile" >&2 2>/dev/null
				return 1
			fi
			sleep 0.1
		done
		echo "$port" >"$portfile"
	fi
	export PAYKIT_TEST_REDIS_ADDR="127.0.0.1:$port"
	paykit_redis_log "ready: PAYKIT_TEST_REDIS_ADDR=$PAYKIT_TEST_REDIS_ADDR"
}

# paykit_redis_stop stops the private server started by paykit_redis_setup.
paykit_redis_stop() {
	local dir="${PAYKIT_REDIS_DIR:-/tmp/paykit-redis}" port
	port="$(cat "$dir/port" 2>/dev/null)" || { paykit_redis_log "no server recorded in $dir"; return 1; }
	timeout 10 redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1
	rm -f "$dir/port"
}

paykit_redis_setup || return 1 2>/dev/null || exit 1
