"""The logs of a deployment. A container's log after a stop: its end is the end, never an
error (the Deploy panel and ``deployments logs --follow`` read it while Stop removes the
container). The prediction log's folder: private to the container's user, and written."""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import pytest

from app.core.deploy import RunOptions
from app.core.deploy.containers import stream_logs
from app.core.errors import NotFound
from tests.deploy.conftest import MODEL

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


@pytest.mark.parametrize("owner", ["root", "user"])
def test_the_prediction_log_folder_is_private_and_still_written(
    deploy_env, built, tmp_path, owner
) -> None:
    """root's folder goes to the image's user (10001); an ordinary user's folder is written
    by a container running as that user. Neither is writable by anyone else."""
    _, deploy, versions = deploy_env
    image, _ = built
    folder = tmp_path / "predictions"
    folder.mkdir()
    me = os.geteuid()  # not root: both cases are the ordinary one
    uid = 12345 if owner == "user" and me == 0 else me
    if uid != me:
        os.chown(folder, uid, uid)  # root lends the folder to an ordinary user
    os.chmod(folder, 0o777)  # as the earlier release left it
    writer = 10001 if uid == 0 else uid
    dep = deploy.run(image.id, RunOptions(log_dir=str(folder)))
    try:
        mode = stat.S_IMODE(folder.stat().st_mode)
        assert mode & 0o077 == 0, oct(mode)  # neither group nor others may plant rows
        container = deploy.client().containers.get(dep.container_id)
        assert container.exec_run(["id", "-u"]).output.decode().strip() == str(writer)
        example = versions[0].input_example
        assert deploy.test_request(dep.id, example).status == 200
        current = folder / "predictions-current.jsonl"
        _until(
            lambda: current.exists() and len(current.read_text().splitlines()) >= len(example),
            "the prediction log's lines",
        )
        assert json.loads(current.read_text().splitlines()[0])["model"] == MODEL
        assert current.stat().st_uid == writer
    finally:
        deploy.stop(dep.id)
