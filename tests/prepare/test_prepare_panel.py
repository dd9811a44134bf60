"""The Prepare panel: add, reorder (buttons and drag), disable and undo steps; the preview
follows every change (pytest-qt, real widgets, real services on a temp store)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, Qt

from app.bootstrap import Services, build_services
from app.jobs.runner import JobRunner
from app.ui.panels.prepare_panel import MIME, PreparePanel, build_panel

WAIT = 20_000


@pytest.fixture
def gui_services(tmp_path: Path, small_csv: Path) -> Iterator[Services]:
    svc = build_services(f"sqlite:///{tmp_path}/store.db")
    svc.datasets.add_file(small_csv, name="iris")
    yield svc
    svc.close()


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    r = JobRunner()
    yield r
    r.shutdown(timeout=10)


@pytest.fixture
def panel(qtbot, gui_services: Services, runner: JobRunner) -> Iterator[PreparePanel]:
    p = build_panel(gui_services, runner)
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: p._sample is not None, timeout=WAIT)
    yield p
    p.close_jobs()


def wait_preview(qtbot, panel: PreparePanel) -> None:
    qtbot.waitUntil(lambda: not panel._preview_slot.busy, timeout=WAIT)
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=WAIT)


def labels(panel: PreparePanel) -> list[str]:
    return [s["op"] for s in panel.steps()]


def test_add_reorder_disable_undo_with_the_preview_following(qtbot, panel: PreparePanel):
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT) as got:
        panel.add_step({"op": "impute", "columns": ["petal"], "strategy": "median"})
    first = got.args[0]
    assert first.changed == ("petal",) and first.summary["after"]["missing"] == 0
    assert first.summary["before"]["missing"] > 0
    assert "changed petal" in panel.summary.text()

    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT) as got:
        panel.add_step({"op": "expr", "name": "area", "expression": "sepal * petal"})
    assert got.args[0].added == ("area",)
    assert (
        panel.preview_model.headerData(
            panel.preview_model.column_names().index("area"),
            Qt.Orientation.Horizontal,
            Qt.ItemDataRole.BackgroundRole,
        )
        is not None
    )  # the new column is highlighted

    # move the formula up with the button: now the preview is of step 1 (the formula)
    panel.list.setCurrentIndex(panel.model.index(1))
    wait_preview(qtbot, panel)
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT) as got:
        qtbot.mouseClick(panel.up_button, Qt.MouseButton.LeftButton)
    assert labels(panel) == ["expr", "impute"]
    assert got.args[0].upto == 0 and got.args[0].added == ("area",)
    assert got.args[0].summary["after"]["missing"] > 0  # petal not imputed before it

    # undo the move, then the formula; redo brings it back
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT):
        panel.undo_action.trigger()
    assert labels(panel) == ["impute", "expr"]
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT):
        panel.undo_stack.undo()
    assert labels(panel) == ["impute"]
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT) as got:
        panel.redo_action.trigger()
    assert labels(panel) == ["impute", "expr"]

    # disable by the check box: the preview no longer changes petal; undo enables again
    panel.list.setCurrentIndex(panel.model.index(0))
    wait_preview(qtbot, panel)
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT) as got:
        panel.model.setData(
            panel.model.index(0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole
        )
    assert panel.steps()[0]["enabled"] is False and got.args[0].changed == ()
    assert "[disabled]" in panel.model.data(panel.model.index(0), Qt.ItemDataRole.DisplayRole)
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT) as got:
        panel.undo_stack.undo()
    assert "enabled" not in panel.steps()[0] and got.args[0].changed == ("petal",)

    # delete, undo
    panel.remove_step(0)
    assert labels(panel) == ["expr"]
    panel.undo_stack.undo()
    assert labels(panel) == ["impute", "expr"]
    wait_preview(qtbot, panel)


def test_drag_and_drop_reorders_through_an_undoable_command(qtbot, panel: PreparePanel):
    for step in (
        {"op": "drop", "columns": ["when"]},
        {"op": "text_clean", "columns": ["species"], "case": "upper"},
        {"op": "filter", "expression": "sepal > 2"},
    ):
        panel.add_step(step)
    wait_preview(qtbot, panel)
    mime = panel.model.mimeData([panel.model.index(2)])
    assert mime.hasFormat(MIME)
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT):
        panel.model.dropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert labels(panel) == ["filter", "drop", "text_clean"]
    assert "[training only]" in panel.model.data(panel.model.index(0), Qt.ItemDataRole.DisplayRole)
    panel.undo_stack.undo()
    assert labels(panel) == ["drop", "text_clean", "filter"]
    wait_preview(qtbot, panel)
    assert isinstance(QMimeData(), QMimeData)


def test_a_bad_step_shows_its_error_and_the_recipe_saves_and_applies(
    qtbot, panel: PreparePanel, gui_services: Services
):
    panel.add_step({"op": "cast", "columns": ["species"], "to": "float"})
    qtbot.waitUntil(lambda: bool(panel.messages.messages()), timeout=WAIT)
    shown = " ".join(panel.messages.messages())
    assert "'species' cannot become numbers" in shown and "rows 1, 2, 3" in shown
    panel.undo_stack.undo()
    panel.add_step({"op": "expr", "name": "double", "expression": "sepal * 2"})
    wait_preview(qtbot, panel)
    panel.name_edit.setText("doubler")
    with qtbot.waitSignal(panel.recipe_saved, timeout=WAIT) as saved:
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert saved.args[0].ref == "doubler@1"
    with qtbot.waitSignal(panel.dataset_made, timeout=WAIT) as made:
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert made.args[0].ref == "iris@2"
    assert made.args[0].options["recipe"] == {"name": "doubler", "version": 1}
    assert gui_services.recipes.usages("doubler")[0].dataset == "iris@2"


def test_the_main_window_opens_the_panel_on_a_dataset(qtbot, gui_services, runner, tmp_path):
    from app.ui.main_window import MainWindow

    window = MainWindow(services=gui_services, runner=runner)
    qtbot.addWidget(window)
    window.show()
    window.show_panel("prepare")
    panel = window.panels["prepare"]
    assert isinstance(panel, PreparePanel)
    qtbot.waitUntil(lambda: panel._sample is not None, timeout=WAIT)
    assert panel.selected_version().ref == "iris@1"
    panel.close_jobs()
    window.close()
