"""The Tuning panel with real services, a real runner and child worker processes (offscreen)."""

from __future__ import annotations

import os
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from app.ui.context import ContextState
from app.ui.items import RunItem, StudyItem, TrialItem

WAIT_MS = 120_000


@pytest.fixture
def panel(qtbot, services, runner, tmp_path):
    from PySide6.QtCore import QSettings

    from app.ui.panels.tuning_panel import build_panel

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "ini"))
    from app.ui.context import CurrentContext

    widget = build_panel(services, runner, CurrentContext(ContextState("bc", 1, "target")))
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    yield widget
    widget.close()


def test_panel_shows_live_history_and_stop_ends_the_study_gracefully(
    qtbot, panel, services, runner
):
    from PySide6.QtCore import Qt

    qtbot.waitUntil(lambda: panel.form.dataset_ref() == "bc@1", timeout=WAIT_MS)
    assert panel.target_combo.currentData() == "target"  # the context's, not the last column
    panel.estimators_edit.setText("knn")
    panel.trials_spin.setValue(500)
    panel.folds_spin.setValue(2)
    panel.name_edit.setText("live")
    qtbot.mouseClick(panel.load_space_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.space_table.rowCount() == 3, timeout=WAIT_MS)
    assert panel.space_table.item(0, 1).text() == "n_neighbors"
    panel.space_table.item(0, 4).setText("12")  # n_neighbors high: 50 → 12

    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.running, timeout=WAIT_MS)
    # live: the trials table grows and the history plot appears while the study runs
    qtbot.waitUntil(lambda: panel.trials_model.rowCount() >= 3, timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: panel.plots.canvas is not None and panel.plots.canvas.isVisible(), timeout=WAIT_MS
    )
    assert panel.running
    assert "live" in panel.status_label.text()

    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=WAIT_MS)

    summary = services.tuning.summary("live")
    assert summary.status == "cancelled"
    assert 3 <= summary.done < 500
    trials = services.tuning.trials("live")
    assert not [t for t in trials if t.state in ("RUNNING", "WAITING")]
    assert all(t.run_id for t in trials)  # every trial, stopped ones included, has its run
    plan = services.tuning.plan("live")
    assert next(d for d in plan.space["knn"].dims if d.name == "n_neighbors").high == 12
    qtbot.waitUntil(lambda: "stopped" in panel.status_label.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: panel.trials_model.rowCount() == len(trials), timeout=WAIT_MS)

    # a double-clicked trial opens its run; the run's Study link opens the study again
    number = panel.trials_proxy.trial(1).number
    expected = next(t.run_id for t in trials if t.number == number)
    assert panel.trial_run_id(1) == expected
    rect = panel.trials.visualRect(panel.trials_proxy.index(1, 0))
    assert rect.isValid()
    with qtbot.waitSignal(panel.item_activated, timeout=WAIT_MS) as opened:
        # a double click is a press, a release, then the double-click press (as Qt sees it)
        qtbot.mouseClick(panel.trials.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(panel.trials.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [TrialItem("live", number, expected)]

    from app.ui.panels.runs_panel import build_panel as build_runs_panel

    runs = build_runs_panel(services, runner)
    qtbot.addWidget(runs)
    runs.open_item(RunItem(expected))
    study = runs.detail._fields["Study"]
    qtbot.waitUntil(lambda: "live" in study.text(), timeout=WAIT_MS)
    assert f"trial {number}" in study.text()
    with qtbot.waitSignal(runs.open_requested, timeout=WAIT_MS) as back:
        study.linkActivated.emit(re.search(r'href="([^"]*)"', study.text())[1])  # a click
    assert back.args == ["tuning", StudyItem("live")]
    runs.close_jobs()


def test_panel_names_a_bad_space_entry(qtbot, panel):
    from PySide6.QtCore import Qt

    from app.ui.widgets.message_bar import Level

    qtbot.waitUntil(lambda: panel.form.dataset_ref() == "bc@1", timeout=WAIT_MS)
    panel.estimators_edit.setText("knn")
    qtbot.mouseClick(panel.load_space_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.space_table.rowCount() == 3, timeout=WAIT_MS)
    panel.space_table.item(0, 3).setText("40")  # low 40 above high 4
    panel.space_table.item(0, 4).setText("4")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(panel.messages.messages(Level.ERROR)), timeout=WAIT_MS)
    text = panel.messages.messages(Level.ERROR)[0]
    assert "knn.n_neighbors=40:4" in text and "above the high bound" in text
    assert not panel.running
