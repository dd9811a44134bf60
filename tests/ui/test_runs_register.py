"""Register a run from the window: a real small run trained through the Runs panel's New run
(its dataset and target taken from the current context), then ``register_run`` → a dialog with
the dataset's name → the Registry lists the new version. And the other Runs operations act on
a real panel."""

from __future__ import annotations

import pytest

from app.ui.context import CurrentContext
from app.ui.items import DatasetItem, ModelVersionItem, RunItem

from .conftest import WAIT_MS

WAIT = max(WAIT_MS, 120_000)


def bc_table(rows: int = 120):
    import pyarrow as pa
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.sample(n=rows, random_state=0)
    frame = frame[["target", *frame.columns[:6]]].reset_index(drop=True)  # target NOT last
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.fixture
def runs_panel(qtbot, services, runner):
    from app.ui.panels.runs_panel import build_panel

    services.datasets.add_table(bc_table(), name="breast_cancer", source_kind="test")
    context = CurrentContext()
    context.update(dataset="breast_cancer", version=1, target="target")
    panel = build_panel(services, runner, context)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    yield panel
    panel.close_jobs()


def train_one(qtbot, panel, services) -> int:
    form = panel.train_form
    panel.new_run(None)
    assert panel.tabs.currentWidget() is form
    qtbot.waitUntil(lambda: form.request().dataset == "breast_cancer@1", timeout=WAIT)
    assert form.target_combo.currentData() == "target"  # the context's, not the last column
    form.estimator_combo.setCurrentIndex(form.estimator_combo.findData("logistic"))
    form.folds_spin.setValue(2)
    with qtbot.waitSignal(panel.launcher.ended, timeout=WAIT) as ended:
        form.train_button.click()
    run_id, state = ended.args
    assert state == "succeeded", services.tracking.get(run_id).error
    return run_id


def test_register_a_run_trained_in_the_window(qtbot, runs_panel, services, runner) -> None:
    from app.ui.panels.registry_panel import build_panel as build_registry

    run_id = train_one(qtbot, runs_panel, services)
    runs_panel.register_run(run_id)
    qtbot.waitUntil(lambda: runs_panel.register_dialog is not None, timeout=WAIT)
    dialog = runs_panel.register_dialog
    assert dialog.model_name() == "breast_cancer"  # the dataset's name by default
    assert f"Run {run_id}" in dialog.summary.text()
    dialog.description.setPlainText("Benign or malignant, from the window.")
    with qtbot.waitSignal(runs_panel.open_requested, timeout=WAIT) as opened:
        dialog.accept()
    assert opened.args == ["registry", ModelVersionItem("breast_cancer", 1)]
    version = services.registry.resolve("breast_cancer@1")
    assert version.run_id == run_id and "from the window" in version.description

    registry = build_registry(services, runner, CurrentContext())
    qtbot.addWidget(registry)
    registry.show()
    registry.open_item(opened.args[1])
    qtbot.waitUntil(lambda: registry.selected_item() == ModelVersionItem("breast_cancer", 1),
                    timeout=WAIT)  # fmt: skip
    assert registry.current_model() == "breast_cancer"
    assert registry.versions.model().rowCount() == 1
    registry.close_jobs()


def test_a_bad_register_says_why_in_the_message_bar(qtbot, runs_panel, services) -> None:
    run_id = train_one(qtbot, runs_panel, services)
    runs_panel.register_run(run_id)
    qtbot.waitUntil(lambda: runs_panel.register_dialog is not None, timeout=WAIT)
    services.tracking.delete(run_id)  # deleted meanwhile (another window, the CLI)
    runs_panel.register_dialog.accept()
    qtbot.waitUntil(lambda: bool(runs_panel.messages.messages()), timeout=WAIT)
    text = " ".join(runs_panel.messages.messages())
    assert f"Run {run_id} is deleted" in text and "Restore it" in text
    assert services.registry.list_models() == []


def test_runs_operations_act_on_a_real_panel(qtbot, runs_panel, services, tmp_path) -> None:
    first = train_one(qtbot, runs_panel, services)
    second = train_one(qtbot, runs_panel, services)
    # open_item on a run shows its detail; on a dataset it opens New run on it
    runs_panel.open_item(RunItem(first))
    qtbot.waitUntil(lambda: runs_panel.detail.run_id == first, timeout=WAIT)
    runs_panel.open_item(DatasetItem("breast_cancer", 1, "target"))
    assert runs_panel.tabs.currentWidget() is runs_panel.train_form
    # compare
    runs_panel.compare_runs([first, second])
    assert runs_panel.tabs.currentWidget() is runs_panel.compare
    # export code
    dest = tmp_path / "run.py"
    with qtbot.waitSignal(runs_panel.launcher.exported, timeout=WAIT):
        runs_panel.export_code(first, str(dest))
    assert "def " in dest.read_text() or "import" in dest.read_text()
    # reproduce
    with qtbot.waitSignal(runs_panel.launcher.ended, timeout=WAIT) as ended:
        runs_panel.reproduce_run(first)
    assert ended.args[1] == "succeeded" and ended.args[0] not in (first, second)
    # the contract's signals: a context menu on a row names that run
    qtbot.waitUntil(lambda: runs_panel.model.row_of(second) is not None, timeout=WAIT)
    row = runs_panel.model.row_of(second)
    pos = runs_panel.table.visualRect(runs_panel.model.index(row, 2)).center()
    with qtbot.waitSignal(runs_panel.item_menu_requested, timeout=WAIT) as menu:
        runs_panel.table.customContextMenuRequested.emit(pos)
    assert menu.args[0] == RunItem(second)
    assert runs_panel.selected_item() == RunItem(second)
