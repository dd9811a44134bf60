#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, from Debian's `postgresql` package.
#
#   ci/postgres.sh start   # initdb in a temp folder, start on 127.0.0.1:$PGPORT (default 55432),
#                          # create the database; prints `export MODELDESK_TEST_POSTGRES_URL=…`
#   ci/postgres.sh stop    # stop it and remove its folder
#   eval "$(ci/postgres.sh start)"   # to export the URL into the calling shell
#
# The server never runs as root: when called as root it runs as the `postgres` user (or
# $PGUSER_OS). It listens on 127.0.0.1 only, trusts nobody (md5 password), and keeps its data
# in $PGROOT (default /tmp/modeldesk-postgres), so stop leaves nothing behind.
set -euo pipefail

PGPORT="${PGPORT:-55432}"
PGROOT="${PGROOT:-/tmp/modeldesk-postgres}"
PGUSER_OS="${PGUSER_OS:-postgres}"
DB_USER="modeldesk"
DB_PASS="modeldesk-test"
DB_NAME="modeldesk_test"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"

if [[ -z "$BIN" || ! -x "$BIN/initdb" ]]; then
    echo "error: PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
fi

as_owner() {
    if [[ "$(id -u)" == "0" ]]; then
        runuser -u "$PGUSER_OS" -- "$@"
    else
        "$@"
    fi
}

url() {
    echo "postgresql+psycopg://${DB_USER}:${DB_PASS}@127.0.0.1:${PGPORT}/${DB_NAME}"
}

start() {
    if [[ -f "$PGROOT/data/postmaster.pid" ]] && as_owner "$BIN/pg_ctl" -D "$PGROOT/data" status >/dev/null 2>&1; then
        echo "export MODELDESK_TEST_POSTGRES_URL='$(url)'"
        return 0
    fi
    rm -rf "$PGROOT"
    mkdir -p "$PGROOT"
    if [[ "$(id -u)" == "0" ]]; then chown "$PGUSER_OS" "$PGROOT"; fi
    local pwfile="$PGROOT/pw"
    echo "$DB_PASS" > "$pwfile"
    if [[ "$(id -u)" == "0" ]]; then chown "$PGUSER_OS" "$pwfile"; fi
    as_owner "$BIN/initdb" -D "$PGROOT/data" -U "$DB_USER" --pwfile="$pwfile" \
        --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PGROOT/initdb.log" 2>&1 \
        || { cat "$PGROOT/initdb.log" >&2; exit 1; }
    rm -f "$pwfile"
    as_owner "$BIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 60 \
        -o "-p $PGPORT -k $PGROOT -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
        || { cat "$PGROOT/server.log" >&2; exit 1; }
    PGPASSWORD="$DB_PASS" as_owner env PGPASSWORD="$DB_PASS" "$BIN/createdb" \
        -h 127.0.0.1 -p "$PGPORT" -U "$DB_USER" "$DB_NAME"
    echo "export MODELDESK_TEST_POSTGRES_URL='$(url)'"
}

stop() {
    if [[ -d "$PGROOT/data" ]]; then
        as_owner "$BIN/pg_ctl" -D "$PGROOT/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PGROOT"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) url ;;
    *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
