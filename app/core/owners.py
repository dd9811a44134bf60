"""Which process owns a row, and whether it still lives.

A run, a pending artifact or a deployment being built names its owner as
``host:pid@start``: the host, the process id and the process's start time (seconds since the
epoch, from psutil). On the owner's own host that is proof either way: no process with that
pid, a zombie, or a process with that pid that started at another time (the pid was reused
after the owner died) means the owner is dead; anything else is the owner, alive, however
long it has been silent. On another host only the owner's heartbeat can tell (see
``app.core.tracking.liveness``). Owners written before the start time was recorded
(``host:pid``) are judged by the pid alone.
"""

from __future__ import annotations

import functools
import os
import re
import socket

_OWNER = re.compile(r"^(?P<host>.*):(?P<pid>\d+)(?:@(?P<start>\d+(?:\.\d+)?))?$")
#: psutil derives start times from clock ticks since boot: the same process reads the same
#: value, a different process with a reused pid differs by far more than this.
_START_TOLERANCE = 1.0


@functools.cache
def _tag_of(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}@{_start_time(pid) or 0:.2f}"


def owner_tag() -> str:
    """Identifies this process among all that share the store (``host:pid@start``)."""
    return _tag_of(os.getpid())  # keyed by pid: a forked child is another owner


def _start_time(pid: int) -> float | None:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return None


def parse(owner: str) -> tuple[str, int, float | None] | None:
    """(host, pid, start time or None) of an owner tag; None if it is not one."""
    match = _OWNER.match(owner or "")
    if match is None:
        return None
    start = match["start"]
    return match["host"], int(match["pid"]), float(start) if start else None


def describe(owner: str) -> str:
    """``host:pid`` for messages (the start time means nothing to a person)."""
    parsed = parse(owner)
    return f"{parsed[0]}:{parsed[1]}" if parsed else owner


def is_local(owner: str) -> bool:
    parsed = parse(owner)
    return parsed is not None and parsed[0] == socket.gethostname()


def pid_alive(pid: int, start: float | None = None) -> bool:
    """Whether process ``pid`` lives (not a zombie) and, given ``start``, is the one that
    started then."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if start is not None and start > 0:
            return abs(proc.create_time() - start) <= _START_TOLERANCE
        return True
    except psutil.NoSuchProcess:
        return False
    except (psutil.AccessDenied, OSError):
        return True  # it exists; we may not look at it


def owner_is_dead(owner: str) -> bool:
    """True only when the owner is on this host and certainly gone (or its pid reused)."""
    parsed = parse(owner)
    if parsed is None or parsed[0] != socket.gethostname():
        return False  # another machine's writer: only its heartbeat can tell
    _, pid, start = parsed
    if pid == os.getpid():
        return start is not None and start > 0 and owner != owner_tag()
    return not pid_alive(pid, start)
