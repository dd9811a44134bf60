"""Is the local Docker daemon reachable? One quick, bounded, never-raising check.

The status bar asks every few seconds from a worker thread, so the check has a timeout, imports
the Docker SDK only when it runs (start-up time) and turns every failure into a sentence with
what to do about it. Packaging and deployment use their own client and raise
``DockerUnavailable``; this module only answers the question for display.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

_START_HINT = "start the daemon (sudo systemctl start docker) or set DOCKER_HOST"


@dataclass(frozen=True)
class DockerStatus:
    ok: bool
    message: str

    @property
    def label(self) -> str:
        """A short form for a status bar: 'Docker 28.2.2' or 'Docker unreachable'."""
        return self.message if self.ok else "Docker unreachable"


def check_docker(timeout: float = 2.0) -> DockerStatus:
    """Ping the daemon named by the environment (DOCKER_HOST or the default socket)."""
    try:
        import docker
    except ImportError:
        return DockerStatus(
            False,
            "Docker unreachable: the 'docker' Python package is not installed — "
            "reinstall ModelDesk with its dependencies",
        )
    client = None
    try:
        client = docker.from_env(timeout=max(1, round(timeout)))
        client.ping()
        version = client.version().get("Version") or "(unknown version)"
        return DockerStatus(True, f"Docker {version}")
    except Exception as exc:  # any failure is an answer here, never an error
        return DockerStatus(False, f"Docker unreachable: {_reason(exc)} — {_START_HINT}")
    finally:
        if client is not None:
            # closing a half-open client must not turn the answer into a crash
            with contextlib.suppress(Exception):
                client.close()


def _reason(exc: BaseException) -> str:
    """The innermost cause of a docker/requests error, in a few words."""
    seen: set[int] = set()
    inner: BaseException = exc
    while id(inner) not in seen:
        seen.add(id(inner))
        nxt = inner.__cause__ or inner.__context__
        for arg in getattr(inner, "args", ()):
            if isinstance(arg, BaseException):
                nxt = nxt or arg
        if nxt is None:
            break
        inner = nxt
    text = f"{exc} {inner}"
    if isinstance(inner, FileNotFoundError) or "No such file or directory" in text:
        return "no Docker socket found"
    if isinstance(inner, PermissionError) or "Permission denied" in text:
        return "permission denied on the Docker socket (add your user to the 'docker' group)"
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "no answer in time"
    message = str(exc).strip() or type(exc).__name__
    return message if len(message) <= 160 else message[:157] + "…"
