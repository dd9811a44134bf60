"""A container's log after a stop: its end is the end, never an error (the Deploy panel and
``deployments logs --follow`` read it while Stop removes the container)."""

from __future__ import annotations

import threading
import time

import pytest

from app.core.deploy.containers import stream_logs
from app.core.errors import NotFound

pytestmark = pytest.mark.docker
DEADLINE = 120.0


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE:.0f} s: {what}"
        time.sleep(0.05)


def test_following_a_log_ends_quietly_when_the_deployment_stops(deploy_env, built) -> None:
    _, deploy, _ = deploy_env
    image, _ = built
    dep = deploy.run(image.id)
    lines: list[str] = []
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            lines.extend(deploy.logs(dep.id, follow=True))
        except BaseException as exc:  # what the user would see
            errors.append(exc)

    follower = threading.Thread(target=follow, daemon=True)
    try:
        follower.start()
        _until(lambda: any('"started"' in line for line in lines) or errors, "the start line")
        deploy.stop(dep.id)
        follower.join(timeout=DEADLINE)
        assert not follower.is_alive(), "the follower did not end with the container"
        assert errors == []
        assert any('"stopped"' in line for line in lines)  # it read up to the very end
        # asked afterwards, the CLI's answer says why there is nothing (not a Docker error)
        with pytest.raises(NotFound, match="is stopped; its container was removed"):
            deploy.logs(dep.id)
    finally:
        deploy.stop(dep.id)


def test_reading_a_log_while_its_container_is_removed_is_never_an_error(deploy_env, built) -> None:
    _, deploy, _ = deploy_env
    image, _ = built
    dep = deploy.run(image.id)
    try:
        container = deploy.client().containers.get(dep.container_id)
        assert any('"started"' in line for line in stream_logs(container))
        remover = threading.Thread(target=lambda: container.remove(force=True), daemon=True)
        remover.start()
        reads = 0
        while remover.is_alive() or reads == 0:  # reads race the removal: 200, 409 or 404
            list(stream_logs(container, tail=20))
            reads += 1
        assert list(stream_logs(container)) == []  # gone (404): the log has ended
        # the store still says running (nobody reconciled yet): an empty log, no error
        assert deploy.deployment(dep.id).status == "running"
        assert list(deploy.logs(dep.id)) == []
    finally:
        deploy.stop(dep.id)
