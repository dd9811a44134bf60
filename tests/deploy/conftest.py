"""Shared, session-scoped fixtures for the image, panel and recovery tests: one store with two
registered versions of one model and ONE built image per session (each full build costs
~20–40 s of CI time). Modules run in name order, so test_image sees the store first.

Docker tests carry ``@pytest.mark.docker``: without a daemon they skip on a developer's
machine but FAIL under CI=true, where the daemon is part of the environment.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pytest

DOCKER_HOST_DEFAULT = "unix:///run/modeldesk-docker/docker.sock"
if not os.environ.get("DOCKER_HOST") and Path(DOCKER_HOST_DEFAULT[7:]).exists():
    os.environ["DOCKER_HOST"] = DOCKER_HOST_DEFAULT


#: The model's name, unique per session: engineers and CI jobs may share one daemon and one
#: registry, and an image tag (modeldesk/NAME:vN) or image of another session must never be
#: the one a test removes, pushes or runs.
MODEL = f"churn{uuid.uuid4().hex[:6]}"


def docker_or_fail() -> None:
    from app.core.docker_status import check_docker

    status = check_docker(timeout=5)
    if status.ok:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but {status.message}")
    pytest.skip(status.message)


def base_image() -> str:
    return os.environ.get("MODELDESK_BASE_IMAGE") or "modeldesk/python-base:3.11-bookworm"


def wheel_cache() -> Path:
    """The wheel cache the tests share (kept between runs, so only the first build downloads)."""
    return Path(
        os.environ.get("MODELDESK_WHEEL_CACHE")
        or Path(tempfile.gettempdir()) / "modeldesk-test-wheels"
    )


def deploy_service(services):
    """A DeployService on ``services``' store with the test base image and wheel cache."""
    from app.core.deploy import DeployService

    return DeployService(
        services.store,
        services.artifacts,
        services.registry,
        base_image=base_image(),
        wheel_cache=wheel_cache(),
    )


def tear_down(deploy) -> None:
    """Stop what ``deploy`` started, remove the images it built (some may be gone, or shared
    by other rows), and close it."""
    for active in deploy.deployments(active_only=True):
        with contextlib.suppress(Exception):
            deploy.stop(active.id)
    with contextlib.suppress(Exception):
        client = deploy.client()
        for image in deploy.images(include_failed=False):
            with contextlib.suppress(Exception):
                client.images.remove(image.image_id, force=True)
    deploy.close()


def make_table(n: int = 240, seed: int = 0):
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, n).astype(float)
    charges = rng.normal(70, 20, n).round(2)
    plan = rng.choice(["basic", "plus", "pro"], n)
    score = -0.04 * tenure + 0.03 * charges + (plan == "basic") + rng.normal(0, 0.5, n)
    return pa.table(
        {
            "tenure": tenure,
            "charges": charges,
            "plan": plan,
            "churn": np.where(score > np.median(score), "yes", "no"),
        }
    )


@pytest.fixture(scope="session")
def deploy_env(tmp_path_factory):
    """(services, DeployService, [ModelVersion v1, v2]) on a temporary store."""
    from app.bootstrap import build_services
    from app.core.training import TrainRequest

    docker_or_fail()
    root = tmp_path_factory.mktemp("deploy")
    services = build_services(f"sqlite:///{root / 'store' / 'modeldesk.db'}")
    services.datasets.add_table(make_table(), name="churn-data", source_kind="test")
    versions = []
    for trees, depth in ((15, 3), (25, 4)):
        run = services.training.train_inline(
            TrainRequest(
                "churn-data@1",
                "churn",
                "random_forest",
                params={"n_estimators": trees, "max_depth": depth},
                folds=2,
                plots=False,
            )
        )
        versions.append(services.registry.register(run.id, MODEL))
    deploy = deploy_service(services)
    services.__dict__["deployments"] = deploy  # the panel reaches it through services
    yield services, deploy, versions
    tear_down(deploy)
    services.close()


@pytest.fixture(scope="session")
def built(deploy_env):
    """The first version's image, built once per session."""
    _, deploy, versions = deploy_env
    lines: list[str] = []
    image = deploy.build(versions[0].ref, on_log=lines.append)
    return image, lines
