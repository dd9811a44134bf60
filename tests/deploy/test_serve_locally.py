"""The Deploy panel without a Docker daemon (DOCKER_HOST at a dead socket): every Docker button
is disabled, the hint says what to install or start on this platform (never a path of this
repository), and Serve locally runs ``modeldesk serve`` as a child process whose answer to the
Test request form is the in-process model's prediction, over real HTTP."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests.deploy.conftest import make_table

WAIT = 120_000


@pytest.fixture
def dead_docker(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-daemon.sock'}")


@pytest.fixture
def two_versions(tmp_path):
    """A store with churn@1 (champion) and churn@2 (challenger), trained for real."""
    from app.bootstrap import build_services
    from app.core.training import TrainRequest

    services = build_services(f"sqlite:///{tmp_path / 'store' / 'modeldesk.db'}")
    services.datasets.add_table(make_table(), name="churn-data", source_kind="test")
    versions = []
    for trees in (10, 20):
        run = services.training.train_inline(
            TrainRequest(
                "churn-data@1",
                "churn",
                "random_forest",
                params={"n_estimators": trees, "max_depth": 3},
                folds=2,
                plots=False,
            )
        )
        versions.append(services.registry.register(run.id, "churn"))
    services.registry.set_alias("churn", "champion", 1, force=True, reason="first")
    services.registry.set_alias("churn", "challenger", 2)
    yield services, versions
    services.close()


@pytest.fixture
def panel(qtbot, dead_docker, two_versions):
    from app.jobs.runner import JobRunner
    from app.ui.context import CurrentContext
    from app.ui.panels.deploy_panel import build_panel

    services, _ = two_versions
    runner = JobRunner()
    widget = build_panel(services, runner, CurrentContext())
    qtbot.addWidget(widget)
    widget.resize(1000, 650)
    widget.show()
    yield widget
    widget.close_jobs()
    runner.shutdown(timeout=20)


def test_no_daemon_disables_docker_buttons_and_says_what_to_install(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: panel.docker_state()[0] is False, timeout=WAIT)
    _available, why = panel.docker_state()
    assert "unreachable" in why
    assert "systemctl start docker" in why or "Docker Desktop" in why
    assert "ci/" not in why and ".sh" not in why  # nothing a wheel user does not have
    assert panel.docker_label.isVisible() and panel.docker_label.text() == why
    for button in (
        panel.builder.build_button,
        panel.run_button,
        panel.stop_button,
        panel.runner_section.rollback_button,
        panel.send_button,
    ):
        assert not button.isEnabled()
        assert button.toolTip() == why
    assert panel.serve_button.isEnabled()
    # the operations say why instead of failing on the daemon
    assert panel.build_image("churn", 1) is None and panel.deploy("churn", 1) is None
    assert any("Docker is not available" in m for m in panel.messages.messages())


def test_the_picker_defaults_to_the_champion(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: panel.version_combo.count() == 2, timeout=WAIT)
    assert panel.version_combo.currentText() == "churn@1"


def test_serve_locally_answers_the_test_request_as_the_model(qtbot, panel, two_versions) -> None:
    import pandas as pd

    services, versions = two_versions
    qtbot.waitUntil(lambda: panel.docker_state()[0] is False, timeout=WAIT)
    with qtbot.waitSignal(panel.local_changed, timeout=WAIT) as started:
        panel.serve_locally("churn", 2)
    url = started.args[0]
    assert url.startswith("http://127.0.0.1:") and url in panel.local_url.text()
    assert panel.local is not None and panel.local.running
    qtbot.waitUntil(lambda: "tenure" in panel.request_edit.toPlainText(), timeout=WAIT)

    with qtbot.waitSignal(panel.tested, timeout=WAIT) as answered:
        panel.test_request()  # no deployment named: the local server
    answer = answered.args[0]
    assert answer.status == 200
    rows = versions[1].input_example
    expected = services.registry.load_model("churn@2").predict(pd.DataFrame(rows))
    assert answer.body["predictions"] == list(expected)
    assert "HTTP 200" in panel.latency_label.text()

    process = panel.local.process
    with qtbot.waitSignal(panel.local_changed, timeout=WAIT) as stopped:
        panel.local_stop_button.click()
    assert stopped.args == [None]
    qtbot.waitUntil(lambda: process.poll() is not None, timeout=WAIT)
    assert panel.local is None and not panel.local_test_button.isEnabled()


def test_closing_the_panel_stops_the_local_server(qtbot, panel) -> None:
    with qtbot.waitSignal(panel.local_changed, timeout=WAIT):
        panel.serve_locally("churn", 1)
    process = panel.local.process
    panel.close_jobs()
    qtbot.waitUntil(lambda: process.poll() is not None, timeout=WAIT)
