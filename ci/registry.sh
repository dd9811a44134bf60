#!/usr/bin/env bash
# Start or stop a throwaway image registry (Debian's docker-registry) on 127.0.0.1:PORT.
#
#   ci/registry.sh start [PORT]   # prints: export MODELDESK_TEST_REGISTRY=127.0.0.1:PORT
#   ci/registry.sh stop [PORT]    # stops the registry this script started on PORT
#
# Storage lives in a temporary folder removed at stop. The Docker daemon pushes to a registry
# on 127.0.0.1 over plain HTTP without being told (loopback registries are trusted).
# Use it as:  eval "$(ci/registry.sh start)"; only the export line goes to stdout.
set -euo pipefail

PORT="${2:-${MODELDESK_REGISTRY_PORT:-5005}}"
RUN_DIR="${MODELDESK_REGISTRY_RUN:-/tmp/modeldesk-registry-$PORT}"
PIDFILE="$RUN_DIR/registry.pid"

log() { echo "registry: $*" >&2; }

answers() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; }

cmd_start() {
    command -v docker-registry >/dev/null || {
        log "docker-registry not found: apt-get install docker-registry"
        exit 1
    }
    if [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && answers; then
        log "already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
        echo "export MODELDESK_TEST_REGISTRY=127.0.0.1:$PORT"
        return 0
    fi
    if answers; then
        log "port $PORT is taken by something else; choose another: $0 start PORT"
        exit 1
    fi
    mkdir -p "$RUN_DIR/storage"
    cat >"$RUN_DIR/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $RUN_DIR/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
YAML
    setsid docker-registry serve "$RUN_DIR/config.yml" </dev/null >"$RUN_DIR/registry.log" 2>&1 &
    echo $! >"$PIDFILE"
    local i
    for ((i = 0; i < 40; i++)); do
        if answers; then
            log "docker-registry (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT; storage $RUN_DIR/storage"
            echo "export MODELDESK_TEST_REGISTRY=127.0.0.1:$PORT"
            return 0
        fi
        kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
        sleep 0.25
    done
    log "docker-registry did not start; its log:"
    cat "$RUN_DIR/registry.log" >&2
    exit 1
}

cmd_stop() {
    if [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        kill -TERM "$(cat "$PIDFILE")"
        log "stopped (pid $(cat "$PIDFILE"))"
    else
        log "no registry of ours runs on port $PORT"
    fi
    rm -rf "$RUN_DIR"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
*)
    echo "usage: $0 start|stop [PORT]" >&2
    exit 2
    ;;
esac
