"""The Deploy panel against the real daemon: pick a version, Build (log and progress stream
in), the image is listed, Run, the pre-filled Test request answers like the in-process model
with a latency, Stop. The session's built image keeps the panel's build on warm layers."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.docker
WAIT = 60_000  # conditions, not times: a loaded 2-core CI machine is slow
LONG = 180_000


def _messages(panel) -> str:
    return " | ".join(panel.messages.messages()) or "no message"


def _wait(qtbot, panel, condition, timeout=WAIT) -> None:
    """waitUntil, but a failure says what the panel's message bar said."""
    try:
        qtbot.waitUntil(condition, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the panel says: {_messages(panel)}") from None


def test_build_run_test_and_stop_from_the_panel(deploy_env, built, qtbot) -> None:
    from app.jobs.runner import JobRunner
    from app.ui.panels.deploy_panel import build_panel

    services, deploy, versions = deploy_env
    first, _ = built
    ref = versions[0].ref
    runner = JobRunner()
    try:
        panel = build_panel(services, runner)
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitExposed(panel)
        combo = panel.version_combo
        _wait(qtbot, panel, lambda: combo.findText(ref) >= 0)
        listed = {combo.itemText(i) for i in range(combo.count())}
        assert {versions[0].ref, versions[1].ref} <= listed

        # Build: the log streams in line by line and the progress bar moves
        combo.setCurrentText(ref)
        seen: list[int] = []
        panel.progress.valueChanged.connect(seen.append)
        with qtbot.waitSignal(panel.built, timeout=LONG, raising=False) as built_signal:
            qtbot.mouseClick(panel.builder.build_button, _left())
        assert built_signal.signal_triggered, _messages(panel)
        image = built_signal.args[0]
        log = panel.build_log.toPlainText()
        assert re.search(r"^Step 1/\d+ : ", log, re.M) and "Using cache" in log
        assert any(0 < v < 100 for v in seen) and panel.progress.value() == 100
        assert panel.status.text().startswith(f"Built {image.tag}")
        assert image.status == "built" and image.id != first.id
        assert log.count("Using cache") >= 8  # the session's build left every layer warm

        # the new image is listed (the panel refreshes after a build)
        _wait(qtbot, panel, lambda: panel.images_table.model().row_of(image.id) is not None)
        model = panel.images_table.model()
        row = model.row_of(image.id)
        cells = [model.index(row, c).data() for c in range(model.columnCount())]
        assert cells[:3] == [image.tag, ref, "built"] and cells[3].endswith(" MB")

        # Run: selecting the image pre-fills the test request with the input example
        assert panel.images_table.select_id(image.id)
        assert json.loads(panel.request_edit.toPlainText()) == versions[0].input_example
        with qtbot.waitSignal(panel.deployed, timeout=LONG, raising=False) as deployed_signal:
            qtbot.mouseClick(panel.run_button, _left())
        assert deployed_signal.signal_triggered, _messages(panel)
        dep = deployed_signal.args[0]
        assert dep.status == "running" and dep.smoke_test["ok"] is True
        _wait(qtbot, panel, lambda: panel.deploy_table.select_id(dep.id))
        assert panel.selected_deployment().status == "running"

        # the live log shows the server's start (re-read while the panel is visible)
        _wait(qtbot, panel, lambda: '"started"' in panel.logs_view.toPlainText())

        # Test request: the pre-filled form answers with the in-process predictions
        assert json.loads(panel.request_edit.toPlainText()) == versions[0].input_example
        expected = services.registry.load_model(ref).predict(_frame(versions[0])).tolist()
        assert image.example["predictions"] == expected
        with qtbot.waitSignal(panel.tested, timeout=WAIT, raising=False) as tested_signal:
            qtbot.mouseClick(panel.send_button, _left())
        assert tested_signal.signal_triggered, _messages(panel)
        assert json.loads(panel.response_view.toPlainText())["predictions"] == expected
        latency = re.fullmatch(r"HTTP 200 in (\d+\.\d) ms", panel.latency_label.text())
        assert latency and float(latency.group(1)) > 0

        # Stop: the row turns stopped, in the store and in the list
        qtbot.mouseClick(panel.stop_button, _left())
        _wait(qtbot, panel, lambda: deploy.deployment(dep.id).status == "stopped")
        status_col = 2
        _wait(
            qtbot,
            panel,
            lambda: (
                panel.deploy_table.model()
                .index(panel.deploy_table.model().row_of(dep.id), status_col)
                .data()
                == "stopped"
            ),
        )
        # the log's end at the stop is the end: the follower let go, and no read that was
        # under way when the container went (409 "marked for removal", 404) is an error
        section = panel.runner_section
        _wait(qtbot, panel, lambda: section.following is None and not section.reading_logs)
        assert '"started"' in panel.logs_view.toPlainText()  # what was read stays shown
        assert not panel.messages.messages()
        panel.close()
    finally:
        for d in deploy.deployments(active_only=True):
            if d.image_row_id != first.id:  # test_image's own deployments are not ours
                deploy.stop(d.id)
        runner.shutdown(timeout=30)


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def _frame(version):
    from app.core.deploy.bundles import example_frame

    return example_frame(version.input_example, version.signature)
