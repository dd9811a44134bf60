"""The Monitor panel with real services: shows a report and a trend for a model (pytest-qt)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyarrow.csv as pacsv
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMainWindow

from app.jobs.runner import JobRunner
from app.ui.context import CurrentContext
from app.ui.panels.monitor_panel import build_panel

from .conftest import world

WAIT = 60_000


@pytest.fixture
def runner():
    r = JobRunner()
    yield r
    r.shutdown(timeout=10)


@pytest.fixture
def panel(qtbot, services, runner, model):
    for seed, shift in ((1, 0.0), (2, 1.5)):
        services.datasets.add_table(
            world(1000, seed, shift=shift), name=f"b{seed}", source_kind="t"
        )
        services.monitoring.check(model, dataset=f"b{seed}")
    window = QMainWindow()
    p = build_panel(services, runner, CurrentContext())
    window.setCentralWidget(p)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: p.model_combo.count() > 0, timeout=WAIT)
    yield p
    p.close()


def test_the_panel_shows_the_latest_report_and_the_trend(qtbot, panel):
    assert panel.model_combo.currentText() == "churn@champion"
    qtbot.waitUntil(lambda: panel.report is not None, timeout=WAIT)
    report = panel.report
    assert report.status == "alert" and report.current["label"] == "b2@1"
    assert len(panel.trend) == 2 and panel.trend[0]["status"] != "alert"
    names = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert names == ["x1", "x2", "city", "prediction"]
    assert panel.table.item(0, 6).text() == "alert"
    assert not panel.table.cellWidget(0, 7).pixmap().isNull()
    assert "ALERT" in panel.summary.text()
    assert "importance" in report.rules and "importance rule" in panel.summary.text()
    trend_axes = panel._canvases["trend"].findChild(type(panel._canvas("prediction"))).figure.axes
    assert trend_axes  # the drift-over-time chart was drawn
    panel.table.selectRow(2)
    assert "city" in panel.detail.toPlainText()


def test_a_new_check_runs_as_a_job_and_alerts_in_the_status_bar(qtbot, panel, tmp_path):
    qtbot.waitUntil(lambda: panel.report is not None, timeout=WAIT)
    index = panel.source_combo.findText("dataset b2@1")
    panel.source_combo.setCurrentIndex(index)
    with qtbot.waitSignal(panel.alert_raised, timeout=WAIT) as alert:
        bridge = panel.check()
        assert bridge is not None and not bridge.done  # the GUI thread is free meanwhile
    assert "Drift alert: churn@1" in alert.args[0] and "rule" in alert.args[0]
    assert panel.window().statusBar().currentMessage().startswith("Drift alert")
    assert len(panel.trend) == 3
    out = tmp_path / "r.html"
    bridge = panel.export(str(out))
    qtbot.waitUntil(lambda: bridge.done, timeout=WAIT)
    assert "<svg" in out.read_text()


def test_a_dropped_batch_file_is_checked(qtbot, panel, tmp_path):
    path = tmp_path / "dropped.csv"
    pacsv.write_csv(world(500, 9, label=False), path)
    qtbot.waitUntil(lambda: panel.report is not None, timeout=WAIT)
    before = panel.report
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    center = panel.rect().center()
    enter = QDragEnterEvent(
        center,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(center),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(panel, drop)
    qtbot.waitUntil(
        lambda: panel.report is not before or bool(panel.messages.messages()), timeout=WAIT
    )
    assert panel.messages.messages() == []
    assert panel.report.current["label"].startswith("churn-batches@")
    assert panel.report.current["source"] == "batch"


def test_retraining_from_the_panel_shows_champion_and_challenger(qtbot, panel, services):
    qtbot.waitUntil(lambda: panel.report is not None, timeout=WAIT)
    with qtbot.waitSignal(panel.retrained, timeout=120_000) as done:
        assert panel.retrain(dataset="b1@1", promote=False) is not None
    result = done.args[0]
    assert result.challenger == "churn@2" and result.decision == "not asked"
    text = panel.comparison.toPlainText()
    assert "churn@1 (champion) vs churn@2 (challenger)" in text and "roc_auc" in text
    assert services.registry.resolve("churn@challenger").version == 2
