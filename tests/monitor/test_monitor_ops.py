"""The Monitor panel's operations as the window's menus call them, on a real panel: check
drift of a named version, drop a batch through the file route, retrain a named version on the
context's dataset; the picker starts on the context's version."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyarrow.csv as pacsv
import pytest
from PySide6.QtWidgets import QMainWindow

from app.jobs.runner import JobRunner
from app.ui.context import CurrentContext
from app.ui.items import DatasetItem, ModelVersionItem
from app.ui.panels.monitor_panel import build_panel

from .conftest import world

WAIT = 120_000


@pytest.fixture
def panel(qtbot, services, model):
    runner = JobRunner()
    for seed, shift in ((1, 0.0), (2, 1.5)):
        services.datasets.add_table(
            world(1000, seed, shift=shift), name=f"b{seed}", source_kind="t"
        )
    context = CurrentContext()
    context.update(dataset="b1", version=1, model="churn", model_version=1)
    window = QMainWindow()
    p = build_panel(services, runner, context)
    window.setCentralWidget(p)
    qtbot.addWidget(window)
    window.resize(1000, 650)
    window.show()
    qtbot.waitUntil(lambda: p.model_combo.count() > 0, timeout=WAIT)
    yield p
    p.close_jobs()
    runner.shutdown(timeout=20)


def test_the_picker_starts_on_the_contexts_version(panel) -> None:
    assert panel.model_combo.currentText() == "churn@1"
    assert panel.selected_item() == ModelVersionItem("churn", 1)


def test_check_drift_and_drop_batch_from_the_menus(qtbot, panel, tmp_path) -> None:
    panel.open_item(DatasetItem("b2", 1))
    assert panel.source() == {"dataset": "b2@1"}
    with qtbot.waitSignal(panel.report_shown, timeout=WAIT) as shown:
        assert panel.check_drift("churn", 1) is not None
    assert shown.args[0].status == "alert"

    path = tmp_path / "batch.csv"
    pacsv.write_csv(world(400, 7, label=False), path)
    with qtbot.waitSignal(panel.report_shown, timeout=WAIT) as shown:
        assert panel.drop_batch(str(path)) is not None
    assert shown.args[0].current["source"] == "batch"


def test_retrain_a_named_version_on_the_contexts_dataset(qtbot, panel, services) -> None:
    panel.source_combo.setCurrentIndex(-1)  # no source chosen: the context's dataset is used
    with qtbot.waitSignal(panel.retrained, timeout=WAIT) as done:
        assert panel.retrain("churn", 1, promote=False) is not None
    assert done.args[0].challenger == "churn@2"
