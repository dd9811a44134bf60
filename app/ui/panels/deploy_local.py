"""Serve locally: the model server of ``modeldesk serve`` as a child process, without Docker.

A person without a Docker daemon (a laptop, a locked-down desktop) still gets the REST API of
the image: ``sys.executable -m app.cli serve REF --port P --store URL`` runs the same
``app.serving`` runtime on a free port (found by binding port 0). Everything that waits — the
start until ``/v2/health/ready`` answers, the watch until the process ends, the stop, a test
request — is a job body here, run on the runner, never on the GUI thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import InvalidInput

READY_TIMEOUT = 120.0  # seconds a loaded machine may take to import pandas and sklearn
STOP_GRACE = 10.0


@dataclass(frozen=True)
class LocalAnswer:
    """What a test request to the local server got back (like a deployment's TestResponse)."""

    status: int
    body: Any
    latency_ms: float


@dataclass
class LocalServer:
    """One running ``modeldesk serve`` child: its model, URL, process and log file."""

    ref: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 12) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def free_port() -> int:
    """A TCP port nobody listens on now (the OS picks it when binding port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_env() -> dict[str, str]:
    """The environment of the child: this process's, with the folder holding ``app`` first
    on PYTHONPATH so that a source checkout serves its own copy."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start_server(ref: str, store_url: str, *, progress: Any) -> LocalServer:
    """Start ``modeldesk serve ref`` on a free port and wait until it is ready."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="modeldesk-serve-", suffix=".log")[1])
    command = [sys.executable, "-m", "app.cli", "serve", ref, "--port", str(port)]
    command += ["--store", store_url]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=_child_env())
    server = LocalServer(ref, port, process, log)
    progress.update(0.1, f"Starting {ref} on port {port}…")
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_tail()
            raise InvalidInput(
                f"The local server for {ref} stopped at start (exit code {process.returncode})."
                + (f"\n{tail}" if tail else ""),
                hint="Check that the version's model loads (Registry ▸ the version's card).",
            )
        try:
            progress.check_cancelled()
        except BaseException:
            stop_server(server, progress=None)
            raise
        ready = f"{server.url}/v2/health/ready"
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(ready, timeout=2) as answer,
        ):
            if answer.status == 200:
                progress.update(1.0, f"Serving {ref} at {server.url}")
                return server
        time.sleep(0.2)
    stop_server(server, progress=None)
    raise InvalidInput(
        f"The local server for {ref} did not become ready within {READY_TIMEOUT:.0f} s.",
        hint="The machine may be busy; try again.",
    )


def watch_server(server: LocalServer, *, progress: Any) -> int:
    """Wait (on a worker thread) until the server's process ends; its exit code. Cancelling
    the watch (the panel closes) ends the wait, not the server: the panel stops that."""
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return server.process.wait(timeout=0.5)
        progress.check_cancelled()


def stop_server(server: LocalServer, *, progress: Any) -> int:
    """Terminate the child (killed if it does not end within ``STOP_GRACE``); exit code."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=STOP_GRACE)
    with contextlib.suppress(OSError):
        server.log_path.unlink()
    return int(server.process.returncode or 0)


def send_request(url: str, rows: list[dict[str, Any]], *, progress: Any) -> LocalAnswer:
    """POST ``rows`` to ``url/invocations`` (MLflow's ``dataframe_records``), as a test."""
    body = json.dumps({"dataframe_records": rows}).encode()
    request = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, payload = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
    except (OSError, urllib.error.URLError) as exc:
        raise InvalidInput(
            f"The local server at {url} did not answer: {exc}.",
            hint="Serve the version locally again.",
        ) from exc
    latency = (time.perf_counter() - started) * 1000
    try:
        decoded: Any = json.loads(payload or b"null")
    except ValueError:
        decoded = payload.decode(errors="replace")
    return LocalAnswer(status, decoded, round(latency, 2))


def input_example(registry: Any, ref: str, *, progress: Any) -> list[dict[str, Any]]:
    """The version's input example rows (what the Test request form is filled with)."""
    return list(registry.resolve(ref).input_example or [])
