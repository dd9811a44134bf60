#!/usr/bin/env bash
# Start or stop a private Docker daemon for CI and fresh Linux boxes, where no
# system dockerd runs (Debian's docker.io package, run as root).
#
#   ci/docker-daemon.sh start    # prints: export DOCKER_HOST=unix://...
#   ci/docker-daemon.sh status   # exit 0 if a daemon answers (prints its DOCKER_HOST)
#   ci/docker-daemon.sh stop     # stops the daemon this script started (pidfile)
#
# Use it as:  eval "$(ci/docker-daemon.sh start)"
# Only the export line goes to stdout; everything else goes to stderr.
#
# Network configuration: plain defaults (iptables on, docker0 bridge on). Checked on
# the Debian bookworm CI machines (kernel 6.18, iptables 1.8.9 nf_tables backend):
# dockerd creates docker0 and its iptables chains without error, and a container
# published as -p 127.0.0.1:PORT:8000 answers curl on 127.0.0.1:PORT (loopback traffic
# goes through docker-proxy, the userland proxy, to the container on docker0).
# If dockerd nevertheless dies at start-up because iptables is unusable (no nf_tables
# or ip_tables in the kernel, seen on some container hosts), we retry once with
# --iptables=false: the bridge and docker-proxy still exist, so publishing on
# 127.0.0.1 keeps working; only outbound NAT from containers is lost, which we don't
# need (images are built with the network off); checked here too. We never use
# --bridge=none: containers then get no network, and a port published on 127.0.0.1
# accepts the run but never answers (checked here).
set -euo pipefail

# Persistent state (images, so the base image is cached between CI runs on one machine).
STATE_DIR="${MODELDESK_DOCKER_DIR:-/var/lib/modeldesk-ci-docker}"
# Runtime files: short paths, because unix socket paths are limited to 108 bytes and
# containerd puts its own sockets below the exec-root.
RUN_DIR="${MODELDESK_DOCKER_RUN:-/run/modeldesk-docker}"

SOCK="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/docker.pid"
LOG="$STATE_DIR/dockerd.log"
OUR_HOST="unix://$SOCK"
START_TIMEOUT="${MODELDESK_DOCKER_START_TIMEOUT:-60}"
# Extra dockerd flags, e.g. MODELDESK_DOCKERD_FLAGS="--iptables=false" (space-separated).
read -r -a EXTRA_FLAGS <<<"${MODELDESK_DOCKERD_FLAGS:-}"

log() { echo "docker-daemon: $*" >&2; }

# True if a daemon answers at the given DOCKER_HOST value.
answers() {
    DOCKER_HOST="$1" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# Print the DOCKER_HOST of a daemon that already answers, if any: the caller's
# DOCKER_HOST first, then ours, then the system default socket.
find_running() {
    local candidates=()
    [[ -n "${DOCKER_HOST:-}" ]] && candidates+=("$DOCKER_HOST")
    candidates+=("$OUR_HOST")
    [[ -z "${DOCKER_HOST:-}" ]] && candidates+=("unix:///var/run/docker.sock")
    local h
    for h in "${candidates[@]}"; do
        if answers "$h"; then
            echo "$h"
            return 0
        fi
    done
    return 1
}

our_pid() {
    [[ -s "$PIDFILE" ]] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

# Launch dockerd in the background (setsid: it must outlive the shell that started it
# and not get the terminal's signals). Extra flags are passed through.
launch() {
    mkdir -p "$STATE_DIR/data" "$RUN_DIR/exec"
    {
        echo
        echo "=== $(date -u +%FT%TZ) starting dockerd $*"
    } >>"$LOG"
    setsid dockerd \
        --host "$OUR_HOST" \
        --data-root "$STATE_DIR/data" \
        --exec-root "$RUN_DIR/exec" \
        --pidfile "$PIDFILE" \
        ${EXTRA_FLAGS[@]+"${EXTRA_FLAGS[@]}"} \
        "$@" \
        </dev/null >>"$LOG" 2>&1 &
    LAUNCHED_PID=$!
}

# Wait until the daemon answers, or until it died / the timeout passed.
wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if answers "$OUR_HOST"; then
            return 0
        fi
        if ! kill -0 "$LAUNCHED_PID" 2>/dev/null; then
            return 2 # dockerd exited
        fi
        sleep 0.5
    done
    return 1
}

cmd_start() {
    local running
    if running="$(find_running)"; then
        log "a daemon already answers at $running; not starting another"
        echo "export DOCKER_HOST=$running"
        return 0
    fi
    command -v dockerd >/dev/null || {
        log "dockerd not found: apt-get install docker.io"
        exit 1
    }
    if [[ $EUID -ne 0 ]]; then
        log "dockerd must run as root"
        exit 1
    fi
    # A dockerd of ours that is alive but does not answer (hung): stop it first.
    if our_pid >/dev/null; then
        log "our dockerd is running but does not answer; restarting it"
        cmd_stop
    fi

    local t0=$SECONDS rc=0
    launch
    wait_ready || rc=$?
    if ((rc == 2)) && tail -n 50 "$LOG" | grep -qiE 'iptables|nf_tables|ip_tables'; then
        log "dockerd failed on iptables (see $LOG); retrying with --iptables=false"
        rc=0
        launch --iptables=false
        wait_ready || rc=$?
    fi
    if ((rc != 0)); then
        log "dockerd did not answer within ${START_TIMEOUT}s (rc=$rc); last lines of $LOG:"
        tail -n 30 "$LOG" >&2
        kill "$LAUNCHED_PID" 2>/dev/null || true
        exit 1
    fi
    log "dockerd (pid $LAUNCHED_PID) answers at $OUR_HOST after $((SECONDS - t0))s; log: $LOG"
    echo "export DOCKER_HOST=$OUR_HOST"
}

cmd_stop() {
    local pid
    if ! pid="$(our_pid)"; then
        log "no dockerd of ours is running (pidfile $PIDFILE)"
        rm -f "$PIDFILE"
        return 0
    fi
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    # dockerd stops its containers (default shutdown timeout 15 s) and its containerd.
    local i
    for ((i = 0; i < 120; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "dockerd did not stop in 60 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 1
    fi
    rm -f "$PIDFILE"
    log "stopped"
}

cmd_status() {
    local running
    if running="$(find_running)"; then
        echo "export DOCKER_HOST=$running"
        return 0
    fi
    log "no daemon answers"
    return 1
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
