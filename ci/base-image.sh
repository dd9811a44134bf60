#!/usr/bin/env bash
# Build the local base image for model images, if the daemon does not have it yet.
#
#   ci/base-image.sh            # build if missing; prints: export MODELDESK_BASE_IMAGE=...
#   ci/base-image.sh --rebuild  # build even if it exists
#   ci/base-image.sh name       # print the image name only
#
# Why: no public registry can be pulled from on these machines, so the image is made
# from Debian's own packages (debootstrap) and imported. Debian bookworm's python3 is
# 3.11, the same minor version as the project's interpreter.
# Needs: root, debootstrap, a Docker daemon at $DOCKER_HOST (see ci/docker-daemon.sh).
set -euo pipefail

# The one place the base image is named.
IMAGE="${MODELDESK_BASE_IMAGE:-modeldesk/python-base:3.11-bookworm}"
SUITE=bookworm

log() { echo "base-image: $*" >&2; }

# The Debian mirror apt already uses here (deb822 "URIs:" or one-line "deb" format),
# so debootstrap goes where this machine is allowed to go.
debian_mirror() {
    if [[ -n "${MODELDESK_DEBIAN_MIRROR:-}" ]]; then
        echo "$MODELDESK_DEBIAN_MIRROR"
        return
    fi
    local files=() f uri
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] && files+=("$f")
    done
    if ((${#files[@]})); then
        # First URI ending in /debian (not debian-security, not third-party repos).
        uri="$(awk '
            /^[[:space:]]*URIs:/ { for (i = 2; i <= NF; i++) print $i }
            /^[[:space:]]*deb[[:space:]]/ {
                for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; break }
            }' "${files[@]}" | grep -E '/debian/?$' | head -n 1 || true)"
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

ROOT=""
cleanup() {
    [[ -n "$ROOT" && -d "$ROOT" ]] || return 0
    # debootstrap mounts proc/sys (and sometimes binds /dev) inside ROOT; unmount them
    # before deleting, deepest first, and never cross into another file system.
    local m
    for m in $(awk -v r="$ROOT" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$ROOT"
}

build() {
    command -v debootstrap >/dev/null || {
        log "debootstrap not found: apt-get install debootstrap"
        exit 1
    }
    local mirror t0=$SECONDS t1 t2
    mirror="$(debian_mirror)"
    ROOT="$(mktemp -d /var/tmp/modeldesk-base.XXXXXX)"
    trap cleanup EXIT

    log "debootstrap $SUITE from $mirror into $ROOT"
    if ! debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$SUITE" "$ROOT" "$mirror" >"$ROOT.log" 2>&1; then
        log "debootstrap failed; last lines of $ROOT.log:"
        tail -n 30 "$ROOT.log" >&2
        exit 1
    fi
    rm -f "$ROOT.log"
    t1=$SECONDS

    # What an image never needs: package caches and lists, docs, man pages, locales,
    # logs, and the build machine's DNS settings (Docker provides its own).
    rm -rf "$ROOT"/var/cache/apt/* "$ROOT"/var/lib/apt/lists/* \
        "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* \
        "$ROOT"/usr/share/locale/* "$ROOT"/usr/share/info/* \
        "$ROOT"/var/log/*.log "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/lib/dpkg/*-old
    : >"$ROOT/etc/resolv.conf"
    # mktemp made ROOT 0700; it becomes the image's "/", which non-root users must enter.
    chmod 0755 "$ROOT"

    log "importing as $IMAGE"
    tar --numeric-owner -C "$ROOT" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        --message "debootstrap --variant=minbase $SUITE from $mirror" \
        - "$IMAGE" >/dev/null
    t2=$SECONDS

    # Cheap check that the result runs at all.
    docker run --rm --network none "$IMAGE" python3 -c 'import sys, ssl, venv; print(sys.version)' >&2

    local size
    size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
    log "built $IMAGE: $((size / 1000000)) MB; debootstrap $((t1 - t0))s, import $((t2 - t1))s, total $((SECONDS - t0))s"
}

case "${1:-}" in
name)
    echo "$IMAGE"
    exit 0
    ;;
--rebuild) build ;;
"")
    if docker image inspect "$IMAGE" >/dev/null 2>&1; then
        log "$IMAGE already present; nothing to build"
    else
        build
    fi
    ;;
*)
    echo "usage: $0 [--rebuild|name]" >&2
    exit 2
    ;;
esac
echo "export MODELDESK_BASE_IMAGE=$IMAGE"
