"""A build or a start killed together with its process must not stay ``building``/``starting``
forever: the row names its owner (host:pid) and the next DeployService fails it. The children
here are real processes doing the real build/run, SIGKILLed at a known point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.conftest import base_image

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import os, sys, time
from pathlib import Path
from app.bootstrap import build_services
from app.core.deploy import DeployService

mode, url, base, cache, target, marker = sys.argv[1:7]
services = build_services(url)
deploy = DeployService(
    services.store, services.artifacts, services.registry,
    base_image=base, wheel_cache=Path(cache),
)

def hang(what):
    Path(marker).write_text(what)
    time.sleep(600)  # the parent kills us here


class Progress:
    def update(self, fraction=None, status=None):
        if status and status.startswith("Waiting"):
            hang("starting")

    def check_cancelled(self):
        pass


if mode == "build":
    deploy.build(
        target,
        tag="modeldesk-test/killed-build:1",
        on_log=lambda line: line.startswith("Step ") and hang("building"),
    )
else:
    deploy.run(int(target), progress=Progress())
"""


def _kill_child_at_marker(deploy, mode: str, target: str, tmp_path: Path) -> int:
    """Start the child, wait until it is inside the build/start, SIGKILL it; its pid."""
    marker = tmp_path / f"{mode}.marker"
    args = [
        sys.executable,
        "-c",
        CHILD,
        mode,
        deploy.store.url,
        base_image(),
        str(deploy.wheels.root),
        target,
        str(marker),
    ]
    child = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), child.communicate(timeout=5)[0].decode()[-3000:]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)  # reaped: a zombie would still answer kill(pid, 0)
    assert child.returncode == -signal.SIGKILL
    return child.pid


def _reopened(deploy):
    """A new process's view: fresh services on the same store (built, so recovered)."""
    from app.bootstrap import build_services

    return build_services(deploy.store.url)


def test_a_build_killed_with_its_process_is_failed_not_building(deploy_env, tmp_path) -> None:
    _, deploy, versions = deploy_env
    pid = _kill_child_at_marker(deploy, "build", versions[1].ref, tmp_path)
    stuck = [i for i in deploy.images() if i.tag == "modeldesk-test/killed-build:1"]
    assert [i.status for i in stuck] == ["building"]  # what a dead build left behind

    services = _reopened(deploy)
    try:
        image = services.deployments.image(stuck[0].id)
        assert image.status == "failed"
        assert f":{pid} " in image.error and "ended before the build finished" in image.error
        assert not any(i.status == "building" for i in services.deployments.images())
    finally:
        services.deployments.close()
        services.close()


def test_a_start_killed_with_its_process_is_failed_and_its_container_stopped(
    deploy_env, built, tmp_path
) -> None:
    import docker.errors

    _, deploy, _ = deploy_env
    image, _ = built
    pid = _kill_child_at_marker(deploy, "run", str(image.id), tmp_path)
    stuck = [d for d in deploy.deployments() if d.status == "starting"]
    assert len(stuck) == 1 and stuck[0].image_row_id == image.id
    container_id = stuck[0].container_id
    # the orphaned container still runs: nobody smoke-tested it
    assert deploy.client().containers.get(container_id).status in ("created", "running")

    services = _reopened(deploy)
    try:
        dep = services.deployments.deployment(stuck[0].id)
        assert dep.status == "failed" and dep.stopped_at is not None
        assert f":{pid} " in dep.smoke_test["reason"] and dep.smoke_test["ok"] is False
        assert services.deployments.reconcile() == []  # nothing active changed…
        with pytest.raises(docker.errors.NotFound):  # …but the orphan was stopped and removed
            deploy.client().containers.get(container_id)
        assert "orphan" not in services.deployments.deployment(dep.id).smoke_test
    finally:
        services.deployments.close()
        services.close()
