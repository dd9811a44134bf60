"""The whole journey on the real Docker daemon, in one window, driven only through its menus,
context menus, forms and real drops (no core call, no CLI between the steps):

drop breast-cancer CSV → set target → explore → train two estimators → compare → tune 6
trials → register the best trial → set champion → build image → deploy → a test request
answers as the in-process model → drop a shifted batch in Monitor → the alert names the
shifted feature → retrain → promote if better.

The steps up to the champion and from Monitor on are ``journey_driver``'s, shared with the
Docker-free journey. Under CI=true a missing daemon fails the test. The model gets a name
unique to this run (the daemon is shared: its image tag ``modeldesk/NAME:v1`` is this test's
alone), and the containers and images the test made are removed at the end.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.ui.items import DeploymentItem, ModelVersionItem
from tests.deploy.conftest import base_image, docker_or_fail, tear_down, wheel_cache

from .conftest import wait_idle
from .journey_driver import (
    WAIT,
    Journey,
    answer_of_the_model,
    breast_cancer_files,
    champion,
    monitor_and_retrain,
    predictions,
    through_the_model,
)

BUILD_WAIT = 300_000  # an image build on a loaded 2-core machine

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture
def docker_window(qtbot, make_window, monkeypatch) -> Iterator:
    """A window whose Deploy service builds on the test base image with the shared wheel
    cache; every container and image its store made is removed afterwards."""
    docker_or_fail()
    monkeypatch.setenv("MODELDESK_BASE_IMAGE", base_image())
    monkeypatch.setenv("MODELDESK_WHEEL_CACHE", str(wheel_cache()))
    window = make_window()
    yield window
    tear_down(window.services.deployments)


def test_the_journey_on_docker_ends_at_a_monitored_deployment(
    qtbot, docker_window, tmp_path: Path
) -> None:
    window = docker_window
    data, shifted = breast_cancer_files(tmp_path)
    model = f"breast_cancer_journey{uuid.uuid4().hex[:6]}"
    j = Journey(qtbot, window)
    version = through_the_model(j, data, model)

    # 9. Deploy ▸ Build image… on the champion (the daemon answers: the entry is enabled)
    deploy = window.panels["deploy"]
    j.until(lambda: deploy.docker_state()[0] is True)
    with qtbot.waitSignal(deploy.built, timeout=BUILD_WAIT) as built:
        j.context(version, "modeldesk.deploy.build")
    image = built.args[0]
    assert image.tag == f"modeldesk/{model}:v1"

    # 10. Deploy ▸ Deploy… runs the built image (its smoke test passed)
    with qtbot.waitSignal(deploy.deployed, timeout=BUILD_WAIT) as deployed:
        j.context(version, "modeldesk.deploy.deploy")
    dep = deployed.args[0]
    assert dep.status == "running" and dep.smoke_test.get("ok"), dep.smoke_test
    j.until(lambda: deploy.runner_section.deploy_model.row_of(dep.id) is not None)

    # 11. type rows into the Test request form, then Test request… on the deployment: the
    # container answers what the in-process champion answers
    expected, rows = answer_of_the_model(window.services, data, model)
    deploy.request_edit.setPlainText(json.dumps(rows))
    j.did()
    with qtbot.waitSignal(deploy.tested, timeout=WAIT) as answered:
        j.context(DeploymentItem(dep.id), "modeldesk.deploy.test")
    answer = answered.args[0]
    assert answer.status == 200, answer.body
    assert [int(v) for v in predictions(answer)] == expected
    deployed_and_tested = j.actions

    # 12. Monitor: a shifted batch dropped → an alert naming the feature → retrain, promote
    # if better
    result = monitor_and_retrain(j, version, shifted, promote=True)
    assert result.champion == f"{model}@1"
    assert result.challenger == f"{model}@2"
    assert result.promoted is result.comparison.better
    assert result.decision == ("promoted" if result.comparison.better else "kept out")
    j.until(lambda: champion(window.services, model) == (2 if result.promoted else 1))
    monitored = j.actions

    # the deployment stops from its context menu (not counted: the journey is done)
    j.context(DeploymentItem(dep.id), "modeldesk.deploy.stop")
    j.until(lambda: window.services.deployments.deployment(dep.id).status == "stopped")
    wait_idle(qtbot, window.runner, timeout=WAIT)
    print(
        f"GUI actions from the drop to a deployed, tested model: {deployed_and_tested}; "
        f"to a deployed, monitored, retrained model: {monitored}"
    )
    assert monitored < 70
    assert ModelVersionItem(model, 1) == version
