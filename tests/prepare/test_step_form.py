"""The step form: filled like a user would (typing, picking), accepted, and the step lands in
the recipe with the preview following; a bad expression stays in the form with its error
(pytest-qt, real widgets, real services on a temp store)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QLineEdit

from app.ui.panels.prepare_panel import PreparePanel
from app.ui.panels.prepare_step_form import StepDialog
from tests.prepare.test_prepare_panel import WAIT, gui_services, panel, runner, wait_preview

__all__ = ["gui_services", "panel", "runner"]  # fixtures shared with the panel tests


def field(dialog: StepDialog, name: str):
    widget = dialog.findChild(QLineEdit, f"step-{name}") or dialog.findChild(
        QComboBox, f"step-{name}"
    )
    assert widget is not None, f"the form has no field '{name}'"
    return widget


def click_ok(qtbot, dialog: StepDialog) -> None:
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def test_impute_form_adds_the_step_and_the_preview_shows_it(qtbot, panel: PreparePanel):
    dialog = panel.add_step_dialog("impute")
    assert panel.step_dialog is dialog and dialog.isVisible()
    assert dialog.windowTitle() == "Impute missing values"
    strategy = field(dialog, "strategy")
    assert strategy.currentText() == "median"  # the default is shown
    strategy.setCurrentText("constant")
    dialog.field("columns").set_checked(["petal"])  # the checklist of the dataset's columns
    qtbot.keyClicks(field(dialog, "value"), "-1")
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT) as got:
        click_ok(qtbot, dialog)
    assert panel.steps() == [
        {"op": "impute", "columns": ["petal"], "strategy": "constant", "value": -1}
    ]
    preview = got.args[0]
    assert preview.changed == ("petal",)
    assert preview.summary["before"]["missing"] == 9  # rows 0, 7, …, 56 of small_csv
    assert preview.summary["after"]["missing"] == 0
    assert (preview.after["petal"] == -1).sum() == 9
    assert "changed petal" in panel.summary.text()
    qtbot.waitUntil(lambda: panel.step_dialog is None, timeout=WAIT)
    # one undo removes what the form added
    panel.undo_stack.undo()
    assert panel.steps() == []


def test_expression_form_adds_a_highlighted_column(qtbot, panel: PreparePanel):
    panel.add_step({"op": "impute", "columns": ["petal"], "strategy": "median"})
    wait_preview(qtbot, panel)
    dialog = panel.add_step_dialog("expr")
    qtbot.keyClicks(field(dialog, "name"), "ratio")
    qtbot.keyClicks(field(dialog, "expression"), "where(petal > 0, sepal / petal, 0)")
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT) as got:
        click_ok(qtbot, dialog)
    assert panel.steps()[1] == {
        "op": "expr",
        "name": "ratio",
        "expression": "where(petal > 0, sepal / petal, 0)",
    }
    preview = got.args[0]
    assert preview.upto == 1 and preview.added == ("ratio",)
    after = preview.after
    expected = (after["sepal"] / after["petal"]).where(after["petal"] > 0, 0)
    assert after["ratio"].tolist() == expected.tolist()
    column = panel.preview_model.column_names().index("ratio")
    assert (
        panel.preview_model.headerData(
            column, Qt.Orientation.Horizontal, Qt.ItemDataRole.BackgroundRole
        )
        is not None
    )


def test_an_invalid_expression_stays_in_the_form_with_its_error(qtbot, panel: PreparePanel):
    dialog = panel.add_step_dialog("expr")
    qtbot.keyClicks(field(dialog, "name"), "evil")
    qtbot.keyClicks(field(dialog, "expression"), "__import__('os').getcwd()")
    click_ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.step() is None
    error = dialog.error.text()
    assert error.startswith("Step 1 (expr):") and "__import__" in error
    assert panel.steps() == []

    # fixing the expression in the same form adds the step
    field(dialog, "expression").setText("sepal * 2")
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT):
        click_ok(qtbot, dialog)
    assert panel.steps() == [{"op": "expr", "name": "evil", "expression": "sepal * 2"}]


def test_a_missing_required_field_and_cancel_add_nothing(qtbot, panel: PreparePanel):
    dialog = panel.add_step_dialog("impute")  # no columns typed
    click_ok(qtbot, dialog)
    assert "'columns' is required" in dialog.error.text() and dialog.isVisible()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: panel.step_dialog is None, timeout=WAIT)
    assert panel.steps() == [] and panel.undo_stack.count() == 0


def test_edit_form_shows_the_step_and_replaces_it_undoably(qtbot, panel: PreparePanel):
    panel.add_step({"op": "clip", "columns": ["sepal"], "method": "iqr"})
    wait_preview(qtbot, panel)
    dialog = panel.edit_step_dialog(0)
    assert dialog.field("columns").checked() == ["sepal"]
    assert field(dialog, "method").currentText() == "iqr"
    field(dialog, "method").setCurrentText("quantile")
    field(dialog, "high").setText("0.9")
    with qtbot.waitSignal(panel.preview_ready, timeout=WAIT) as got:
        click_ok(qtbot, dialog)
    step = panel.steps()[0]
    assert (step["method"], step["high"]) == ("quantile", 0.9)
    assert got.args[0].after["sepal"].max() < 5.9  # 0.9 quantile of 0.0 … 5.9
    panel.undo_stack.undo()
    assert panel.steps()[0]["method"] == "iqr"
    wait_preview(qtbot, panel)
