#!/bin/sh
# SPDX-License-Identifier: MIT
# with-pg.sh - runs a command against a private, throwaway PostgreSQL server.
# Usage: scripts/with-pg.sh CMD [ARGS...]
# Starts Debian's PostgreSQL 15 in a fresh temp folder, listening only on a unix socket in that
# folder, creates the database cairn_test, exports CAIRN_TEST_PG (a libpq URI) for CMD, then
# stops the server, deletes the folder and exits with CMD's status. Calls may run concurrently.
set -eu

me=with-pg.sh
if [ "$#" -eq 0 ]; then
    echo "usage: scripts/with-pg.sh CMD [ARGS...]" >&2
    exit 2
fi

pgbin=${CAIRN_PG_BIN:-/usr/lib/postgresql/15/bin}
for tool in initdb pg_ctl createdb; do
    if [ ! -x "$pgbin/$tool" ]; then
        echo "$me: error: PostgreSQL server program '$pgbin/$tool' not found;" \
            "run scripts/install-deps.sh (it installs Debian's postgresql package)" >&2
        exit 1
    fi
done

# Unix socket paths are limited to ~107 bytes, so keep the folder short.
tmp=${TMPDIR:-/tmp}
if [ "${#tmp}" -gt 60 ]; then
    tmp=/tmp
fi
dir=$(mktemp -d "$tmp/cairn-pg.XXXXXX")
data=$dir/data
port=5432

# initdb and postgres refuse to run as root: then the server runs as the postgres user.
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        rmdir "$dir"
        echo "$me: error: running as root but there is no 'postgres' system user;" \
            "run scripts/install-deps.sh" >&2
        exit 1
    fi
    chown postgres: "$dir"
    as_server() {
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            # su takes one shell string: quote each argument.
            cmd=
            for a in "$@"; do
                cmd="$cmd '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
            done
            su postgres -s /bin/sh -c "$cmd"
        fi
    }
else
    as_server() { "$@"; }
fi
chmod 755 "$dir"

started=0
cleanup() {
    if [ "$started" -eq 1 ]; then
        as_server "$pgbin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
        if [ -f "$data/postmaster.pid" ]; then
            pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
            [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir"
}
child=
# On a signal, stop the command (TERM: sh started it with SIGINT ignored), wait for it, then
# clean up through the EXIT trap.
on_signal() {
    if [ -n "$child" ]; then
        kill -s TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
    exit "$1"
}
trap 'cleanup' EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

fail() {
    echo "$me: error: $1" >&2
    if [ -f "$dir/server.log" ]; then
        sed 's/^/with-pg.sh: server.log: /' "$dir/server.log" >&2
    fi
    exit 1
}

as_server "$pgbin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; fail "initdb failed in '$data'"; }

cat >>"$data/postgresql.conf" <<CONF
# with-pg.sh: a private test server, unix socket only, durability off.
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 40
CONF

as_server "$pgbin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
    fail "could not start the PostgreSQL server in '$data'"
started=1

as_server "$pgbin/createdb" -h "$dir" -p "$port" -U postgres cairn_test ||
    fail "could not create the database cairn_test"

CAIRN_TEST_PG="postgresql:///cairn_test?host=$dir&port=$port&user=postgres"
export CAIRN_TEST_PG

# In the background so a signal reaches the trap at once. sh gives an asynchronous command
# /dev/null as stdin; passing the caller's stdin through fd 3 keeps it.
set +e
exec 3<&0
"$@" <&3 3<&- &
child=$!
wait "$child"
status=$?
child=
exit "$status"
