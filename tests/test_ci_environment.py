"""The machine's Docker, for real: the daemon .ci/run starts, the base image it builds,
and a container port published on 127.0.0.1 (what Deploy's tests build on).

Under CI=true a missing daemon or image FAILS these tests (never a skip: CI must not go
green without Docker); elsewhere they skip and say how to get one (`make docker-up`,
`ci/base-image.sh`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import docker
import pytest
from docker.errors import DockerException, ImageNotFound

pytestmark = pytest.mark.docker

IN_CI = os.environ.get("CI", "").strip().lower() == "true"
REPO = Path(__file__).resolve().parents[1]
LABEL = {"modeldesk.test": "ci-environment"}


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def _base_image() -> str:
    """MODELDESK_BASE_IMAGE, else the name ci/base-image.sh gives (named there only)."""
    name = os.environ.get("MODELDESK_BASE_IMAGE")
    if name:
        return name
    out = subprocess.run(
        ["bash", str(REPO / "ci" / "base-image.sh"), "name"],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    return out.stdout.strip()


def _connect():
    where = os.environ.get("DOCKER_HOST", "the default socket")
    try:
        client = docker.from_env(timeout=20)
        answered = client.ping()
    except DockerException as exc:
        _unavailable(f"no Docker daemon answers at {where} ({exc}); start one: make docker-up")
    return client, answered


@pytest.fixture(scope="module")
def client():
    client, _ = _connect()
    yield client
    client.close()


@pytest.fixture(scope="module")
def base_image(client) -> str:
    name = _base_image()
    try:
        client.images.get(name)
    except ImageNotFound:
        _unavailable(f"base image {name} is missing; build it: ci/base-image.sh")
    return name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_docker_daemon_answers():
    client, answered = _connect()
    try:
        assert answered is True
        assert client.version()["ApiVersion"]
    finally:
        client.close()


def test_base_image_runs_python_3_11(client, base_image):
    out = client.containers.run(
        base_image,
        ["python3", "-c", "import sys; print(sys.version_info[:2])"],
        network_mode="none",
        remove=True,
        labels=LABEL,
    )
    assert out.decode().strip() == "(3, 11)"


def test_published_port_on_loopback_answers_http(client, base_image):
    port = _free_port()
    container = client.containers.run(
        base_image,
        ["python3", "-m", "http.server", "8000"],
        ports={"8000/tcp": ("127.0.0.1", port)},
        detach=True,
        labels=LABEL,
    )
    try:
        container.reload()
        bindings = container.attrs["NetworkSettings"]["Ports"]["8000/tcp"]
        assert [(b["HostIp"], int(b["HostPort"])) for b in bindings] == [("127.0.0.1", port)]

        # The proxy accepts connections before the server inside listens: retry briefly.
        deadline = time.monotonic() + 20
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as resp:
                    status, body = resp.status, resp.read()
                break
            except OSError as exc:  # refused / reset / remote closed while starting
                last_error = exc
                time.sleep(0.2)
        else:
            container.reload()
            pytest.fail(
                f"no HTTP answer on 127.0.0.1:{port} within 20 s ({last_error}); "
                f"container {container.status}, logs: {container.logs(tail=20)!r}"
            )
        assert status == 200
        assert b"Directory listing" in body
    finally:
        container.remove(force=True)
