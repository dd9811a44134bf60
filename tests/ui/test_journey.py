"""The whole journey in one window, driven only through its menus, context menus, forms and a
real drop: no core call, no CLI between the steps.

drop breast-cancer CSV → set the target in the schema → explore → train two estimators →
compare → tune 6 trials → register the best trial → make it the champion → serve it locally
without Docker → a test request answers as the in-process model → drop a shifted batch in
Monitor → the alert names the shifted feature → retrain. The steps live in
``journey_driver.py``, shared with the journey on the real daemon (``test_journey_docker.py``);
the test counts the GUI actions it needed (reported by the closing note).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import wait_idle
from .journey_driver import (
    WAIT,
    Journey,
    answer_of_the_model,
    breast_cancer_files,
    monitor_and_retrain,
    predictions,
    through_the_model,
)


@pytest.fixture
def breast_cancer_csv(tmp_path: Path) -> tuple[Path, Path]:
    return breast_cancer_files(tmp_path)


@pytest.mark.slow
def test_the_journey_without_docker_ends_at_serve_locally(
    qtbot, make_window, breast_cancer_csv, monkeypatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    data, shifted = breast_cancer_csv
    window = make_window()
    j = Journey(qtbot, window)
    version = through_the_model(j, data)

    # 9. Deploy ▸ Serve locally without Docker…, then Deploy ▸ Test request…
    deploy = window.panels["deploy"]
    j.until(lambda: deploy.docker_state()[0] is False)
    with qtbot.waitSignal(deploy.local_changed, timeout=WAIT):
        j.context(version, "modeldesk.deploy.serve_locally")
    expected, rows = answer_of_the_model(window.services, data)
    deploy.request_edit.setPlainText(json.dumps(rows))
    j.did()
    with qtbot.waitSignal(deploy.tested, timeout=WAIT) as answered:
        deploy.test_request()
        j.did()
    assert [int(v) for v in predictions(answered.args[0])] == expected

    monitor_and_retrain(j, version, shifted)
    deploy.stop_local()
    wait_idle(qtbot, window.runner, timeout=WAIT)
    print(f"GUI actions from the drop to a served, monitored model: {j.actions}")
    assert j.actions < 60
