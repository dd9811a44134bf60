"""A real Dask cluster on 127.0.0.1: a `dask scheduler` and two `dask worker` processes
(one process, one thread each), started for the module and torn down after it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DaskCluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: Path | None = None

    def start_worker(self) -> subprocess.Popen:
        exe = Path(sys.executable).with_name("dask")
        log = open(self.logs / f"worker-{len(self.workers)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [str(exe), "worker", self.address, "--nworkers", "1", "--nthreads", "1",
             "--no-dashboard", "--host", "127.0.0.1", "--no-nanny"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ},
        )  # fmt: skip
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, n: int, timeout: float = 120) -> None:
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(n, timeout=timeout)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory) -> Iterator[DaskCluster]:
    logs = tmp_path_factory.mktemp("dask")
    port = _free_port()
    exe = Path(sys.executable).with_name("dask")
    log = open(logs / "scheduler.log", "wb")  # noqa: SIM115
    scheduler = subprocess.Popen(
        [str(exe), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    cluster = DaskCluster(f"tcp://127.0.0.1:{port}", scheduler, logs=logs)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if scheduler.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dask scheduler did not start: {(logs / 'scheduler.log').read_text()}")
            time.sleep(0.1)
    cluster.start_worker()
    cluster.start_worker()
    cluster.wait_for_workers(2)
    yield cluster
    for proc in [*cluster.workers, scheduler]:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in [*cluster.workers, scheduler]:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
