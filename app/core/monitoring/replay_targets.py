"""Where a replay sends its requests: a model server started for the replay alone.

A replay never sends recorded traffic to the live deployment (it would load production and
write the replay into production's own log). Each side of the comparison gets its own
server, started the same way, so that their latencies are comparable: either a local
``python -m app.serving`` process (the runtime every image runs, no Docker needed) on a free
127.0.0.1 port, or a container of an image ModelDesk built. Both are stopped when the replay
ends, whether it finished, failed or was cancelled; a local server also dies with the
process that started it (``PR_SET_PDEATHSIG``), so a killed replay leaves no server behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import ModelDeskError
from app.core.progress import NullProgress, Progress

READY_TIMEOUT = 120.0


@dataclass(frozen=True)
class Target:
    """A server answering on ``http://127.0.0.1:port`` for ``label``."""

    label: str
    port: int
    kind: str  # "local" or "container"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_http(port: int, alive: Any, timeout: float, progress: Progress, what: str) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/v2/health/ready"
    while True:
        progress.check_cancelled()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        reason = alive()
        if reason:
            raise ModelDeskError(f"The server for {what} stopped while starting: {reason}")
        if time.monotonic() > deadline:
            raise ModelDeskError(
                f"The server for {what} did not become ready within {timeout:.0f} s.",
                hint="The machine may be very busy; try the replay again.",
            )
        time.sleep(0.2)


@contextlib.contextmanager
def local_server(registry: Any, ref: str, *, progress: Progress | None = None) -> Iterator[Target]:
    """Serve the registry version ``ref`` from a verified bundle in a child process."""
    from app.core.bundle import bundle_from_version
    from app.core.deploy.containers import free_port

    progress = progress or NullProgress()
    with tempfile.TemporaryDirectory(prefix="modeldesk-replay-") as tmp:
        bundle, version = bundle_from_version(registry, ref, Path(tmp) / "bundle")
        port = free_port()
        log = open(Path(tmp) / "server.log", "w+b")  # noqa: SIM115 - closed below
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for name in ("MODELDESK_TOKEN", "MODELDESK_LOG_DIR", "MODELDESK_TOKEN_SHA256"):
            env.pop(name, None)  # the replay's server is private: no token, no log
        root = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (root, env.get("PYTHONPATH"))))
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.serving", "--bundle", str(bundle), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        label = f"{version.model_name}@{version.version}"

        def alive() -> str | None:
            if proc.poll() is None:
                return None
            log.seek(0)
            tail = log.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            return f"exit code {proc.returncode}. " + " ".join(tail)

        try:
            _wait_http(port, alive, READY_TIMEOUT, progress, label)
            yield Target(label, port, "local")
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()


@contextlib.contextmanager
def container_server(
    deploy: Any, image: int | str, *, progress: Progress | None = None
) -> Iterator[Target]:
    """Run an image ModelDesk built as a private container (no token, no log) for the replay."""
    import uuid

    from app.core.deploy import containers as ctr

    progress = progress or NullProgress()
    row = deploy.image(image)
    client = deploy.client()
    name = f"modeldesk-replay-{row.id}-{uuid.uuid4().hex[:6]}"
    container, port = ctr.start_container(
        client,
        row.image_id,
        name=name,
        options=ctr.RunOptions(),
        labels={"io.modeldesk.replay": "1"},
    )
    try:
        ctr.wait_ready(container, port, timeout=READY_TIMEOUT, progress=progress)
        yield Target(row.ref, port, "container")
    finally:
        ctr.stop_container(container)
