# shellcheck shell=bash
# Source this file (". .ci/postgres.sh") to get a PostgreSQL server for the webhook/sqlstore
# tests. It exports PAYKIT_TEST_POSTGRES_DSN; the tests skip only when that variable is unset.
#
# What it does, idempotently (safe to source again, or with a server already running):
#   1. If PAYKIT_TEST_POSTGRES_DSN is already set, uses it as is and does nothing else.
#   2. Installs PostgreSQL with apt-get when no server binaries are found (root only), without
#      creating or starting the distribution's default cluster.
#   3. Creates a private cluster in $PAYKIT_PG_DIR (default /tmp/paykit-pg) listening on
#      127.0.0.1:$PAYKIT_PG_PORT only (default 54329), unix socket inside that directory, and
#      durability switched off (fsync) because it only holds test data.
#   4. Starts it unless it is already running; creates role "paykit" and database
#      "paykit_test"; checks a TCP login works; exports the DSN.
# As root the cluster runs as the "postgres" user (PostgreSQL refuses to run as root).
# Written to be sourced by scripts running with "set -euo pipefail".
# Every step has a timeout, so it never hangs. On failure it prints why (with the server log)
# and returns non-zero, so a caller running with "set -e" stops.
# Stop the server with: paykit_pg_stop

paykit_pg_log() { printf 'postgres.sh: %s\n' "$*" >&2; }

# paykit_pg_bindir prints the /usr/lib/postgresql/<major>/bin of the highest installed major
# version that has the server binaries (initdb, pg_ctl); it fails when there is none.
paykit_pg_bindir() {
	local d found=""
	while read -r d; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && found="$d"
	done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5V)
	[ -n "$found" ] && echo "$found"
}

# paykit_pg_as runs a command as the cluster owner (postgres when we are root).
paykit_pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		if command -v runuser >/dev/null 2>&1; then
			runuser -u postgres -- "$@"
		else
			su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
		fi
	else
		"$@"
	fi
}

# paykit_pg_ready BINDIR SOCKDIR PORT SECONDS: is the server accepting connections?
paykit_pg_ready() {
	local isready="$1/pg_isready"
	[ -x "$isready" ] || isready=pg_isready
	timeout $(($4 + 5)) "$isready" -q -h "$2" -p "$3" -U postgres -d postgres -t "$4" >/dev/null 2>&1
}

# paykit_pg_clear_stale BINDIR DATA SOCKDIR PORT: make way for a start when the server is not
# accepting connections. A postmaster.pid whose process is gone or a zombie (containers whose
# PID 1 does not reap orphans keep killed servers as zombies, which pg_ctl counts as running) is
# removed; a live server that stays unresponsive (stuck starting or stopping) is stopped hard.
paykit_pg_clear_stale() {
	local pidfile="$2/postmaster.pid" pid state
	[ -f "$pidfile" ] || return 0
	pid="$(head -n 1 "$pidfile" 2>/dev/null)" || pid=""
	state="$(awk '/^State:/ {print $2}' "/proc/${pid:-0}/status" 2>/dev/null)" || state=""
	if [ -z "$pid" ] || [ -z "$state" ] || [ "$state" = Z ]; then
		# The socket lock file names the same dead PID and would block the start too.
		paykit_pg_log "removing stale $pidfile and socket lock (process ${pid:-?} is gone)"
		rm -f "$pidfile" "$3/.s.PGSQL.$4" "$3/.s.PGSQL.$4.lock"
		return 0
	fi
	paykit_pg_log "server process $pid is not accepting connections; waiting"
	paykit_pg_ready "$1" "$3" "$4" 30 && return 0
	paykit_pg_log "stopping the unresponsive server"
	paykit_pg_as "$1/pg_ctl" -D "$2" -m immediate -w -t 30 stop >/dev/null 2>&1
	if [ -f "$pidfile" ] && kill -0 "$pid" 2>/dev/null; then
		paykit_pg_log "cannot stop server process $pid"
		return 1
	fi
	rm -f "$pidfile"
}

paykit_pg_install() {
	if [ "$(id -u)" -ne 0 ]; then
		paykit_pg_log "PostgreSQL is not installed and we are not root: install the postgresql package"
		return 1
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		paykit_pg_log "PostgreSQL is not installed and apt-get is unavailable"
		return 1
	fi
	paykit_pg_log "installing PostgreSQL with apt-get"
	# We run our own cluster: do not let the package create (and start) the default one.
	mkdir -p /etc/postgresql-common/createcluster.d
	[ -e /etc/postgresql-common/createcluster.d/paykit.conf ] ||
		echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/paykit.conf
	export DEBIAN_FRONTEND=noninteractive
	timeout 600 apt-get -o DPkg::Lock::Timeout=120 update -qq >/dev/null &&
		timeout 900 apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends \
			postgresql postgresql-client >/dev/null ||
		{ paykit_pg_log "apt-get install postgresql failed"; return 1; }
}

paykit_pg_setup() {
	if [ -n "${PAYKIT_TEST_POSTGRES_DSN:-}" ]; then
		paykit_pg_log "using the existing PAYKIT_TEST_POSTGRES_DSN"
		return 0
	fi
	local port="${PAYKIT_PG_PORT:-54329}"
	local dir="${PAYKIT_PG_DIR:-/tmp/paykit-pg}"
	local data="$dir/data" sock="$dir/sock" logfile="$dir/server.log"
	local bindir
	# Assignments from a failing $(...) would end a caller running "set -e": hence the "|| ...".
	bindir="$(paykit_pg_bindir)" || bindir=""
	if [ -z "$bindir" ]; then
		paykit_pg_install || return 1
		bindir="$(paykit_pg_bindir)" || bindir=""
		[ -n "$bindir" ] || { paykit_pg_log "no initdb/pg_ctl found after installing"; return 1; }
	fi
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		paykit_pg_log "user postgres is missing (expected from the postgresql package)"
		return 1
	fi

	mkdir -p "$dir" "$sock" || return 1
	chmod 0755 "$dir" && chmod 0700 "$sock" || return 1
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir" "$sock" || return 1
		[ -d "$data" ] && { chown -R postgres: "$data" || return 1; }
		touch "$logfile" && chown postgres: "$logfile" || return 1
	fi

	if [ ! -s "$data/PG_VERSION" ]; then
		paykit_pg_log "creating a cluster in $data"
		rm -rf "$data"
		paykit_pg_as timeout 120 "$bindir/initdb" -D "$data" -U postgres -E UTF8 --no-locale \
			--auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
			{ paykit_pg_log "initdb failed:"; cat "$dir/initdb.log" >&2; return 1; }
		# Test-only server: loopback TCP, private socket, no durability.
		paykit_pg_as sh -c "cat >>'$data/postgresql.conf'" <<EOF
# added by .ci/postgres.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
EOF
	fi

	if paykit_pg_ready "$bindir" "$sock" "$port" 2; then
		paykit_pg_log "server already running ($data)"
	else
		paykit_pg_clear_stale "$bindir" "$data" "$sock" "$port" || return 1
	fi
	if paykit_pg_ready "$bindir" "$sock" "$port" 1; then
		: # came up while we waited
	else
		paykit_pg_log "starting the server on 127.0.0.1:$port"
		# -w waits until it accepts connections; -t bounds the wait.
		if ! paykit_pg_as "$bindir/pg_ctl" -D "$data" -l "$logfile" -w -t 60 \
			-o "-p $port -k $sock -c listen_addresses=127.0.0.1" start >/dev/null 2>&1; then
			paykit_pg_log "the server did not start; last log lines:"
			tail -n 20 "$logfile" >&2
			return 1
		fi
	fi

	local psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres -tA)
	[ -x "$bindir/psql" ] || psql[0]=psql
	if ! paykit_pg_as env PGCONNECT_TIMEOUT=10 timeout 60 "${psql[@]}" <<'SQL' >/dev/null
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'paykit') THEN
		CREATE ROLE paykit LOGIN PASSWORD 'paykit';
	END IF;
END
$$;
SELECT 'CREATE DATABASE paykit_test OWNER paykit'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'paykit_test')\gexec
SQL
	then
		paykit_pg_log "creating the role and database failed"
		return 1
	fi

	# The tests connect over TCP with a password: check exactly that.
	if ! PGPASSWORD=paykit PGCONNECT_TIMEOUT=10 timeout 30 "${psql[0]}" -X -q -tA -h 127.0.0.1 -p "$port" \
		-U paykit -d paykit_test -c 'SELECT 1' >/dev/null; then
		paykit_pg_log "cannot log in as paykit over 127.0.0.1:$port"
		return 1
	fi
	export PAYKIT_TEST_POSTGRES_DSN="postgres://paykit:paykit@127.0.0.1:$port/paykit_test?sslmode=disable"
	paykit_pg_log "ready: PAYKIT_TEST_POSTGRES_DSN=$PAYKIT_TEST_POSTGRES_DSN"
}

# paykit_pg_stop stops the private cluster started by paykit_pg_setup (fast shutdown).
paykit_pg_stop() {
	local dir="${PAYKIT_PG_DIR:-/tmp/paykit-pg}" bindir
	bindir="$(paykit_pg_bindir)" || return 1
	paykit_pg_as "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop
}

paykit_pg_setup || return 1 2>/dev/null || exit 1
