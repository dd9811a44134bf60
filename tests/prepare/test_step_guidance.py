"""Prepare guides: columns are picked from a checklist with their roles, every parameter says
what it means, and a step that cannot apply to the data is refused when it is added, with the
error naming that step's number (real widgets, a real runner, the real recipe runtime)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QWidget

from app.core.errors import InvalidInput
from app.core.recipes.preview import PrefixCache, preview_steps
from app.jobs.runner import JobRunner
from app.ui.job_bridge import PanelJobs
from app.ui.panels.prepare_preview import compute_preview
from app.ui.panels.prepare_step_form import ColumnChecklist, StepDialog
from tests.prepare.test_prepare_panel import gui_services, panel, runner

__all__ = ["gui_services", "panel", "runner"]  # the Prepare panel's fixtures

WAIT = 20_000
COLUMNS = [("age", "feature"), ("city", "feature"), ("churned", "target")]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [30.0, None, 52.0, 41.0, 29.0],
            "city": ["Paris", "Lyon", None, "Nice", "Lyon"],
            "churned": ["yes", "no", "no", "yes", "no"],
        }
    )


@pytest.fixture
def jobs(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    runner = JobRunner()
    yield PanelJobs(owner, runner)
    runner.shutdown(timeout=10)


def test_a_failing_step_is_named_by_its_place_in_the_recipe(frame) -> None:
    steps = [
        {"op": "impute", "columns": ["age"], "strategy": "median"},
        {"op": "rare", "columns": ["city"], "min_share": 0.3},
        {"op": "clip", "columns": ["city"], "method": "iqr", "k": 1.5},  # text: cannot clip
    ]
    for cache in (PrefixCache(), None):  # the incremental preview and the plain one agree
        with pytest.raises(InvalidInput, match=r"^Step 3 \(clip\)"):
            preview_steps(frame, steps, 2, cache=cache)


def test_columns_come_from_a_checklist_with_their_roles(qtbot) -> None:
    dialog = StepDialog("impute", {"op": "impute", "columns": ["age"]}, columns=COLUMNS)
    qtbot.addWidget(dialog)
    checklist = dialog.field("columns")
    assert isinstance(checklist, ColumnChecklist)
    assert [checklist.item(i).text() for i in range(checklist.count())] == [
        "age    (feature)",
        "city    (feature)",
        "churned    (target)",
    ]
    assert checklist.checked() == ["age"]
    checklist.item(1).setCheckState(Qt.CheckState.Checked)
    assert dialog.values()["columns"] == ["age", "city"]
    by = dialog.field("by")  # a single column: a combo of the columns, empty allowed
    assert by.currentText() == "" and by.findText("city") >= 0
    note = dialog.findChild(QLabel, "help-strategy")
    assert note is not None and "learnt on the training rows" in note.text()


def _checker(jobs: PanelJobs, frame: pd.DataFrame, steps: list[dict], index: int):
    def check(step: dict):
        candidate = [*steps[:index], step, *steps[index + 1 :]]
        return jobs.start(compute_preview, frame, candidate, index, name="Check step")

    return check


def test_a_step_that_cannot_apply_is_refused_with_its_number(qtbot, jobs, frame) -> None:
    steps = [
        {"op": "impute", "columns": ["age"], "strategy": "median"},
        {"op": "rare", "columns": ["city"], "min_share": 0.3},
    ]
    dialog = StepDialog(
        "clip", None, index=2, columns=COLUMNS, check=_checker(jobs, frame, steps, 2)
    )
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.field("columns").set_checked(["city"])
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.text().startswith("Step 3 (clip)"), timeout=WAIT)
    assert dialog.isVisible() and dialog.step() is None and ok.isEnabled()
    dialog.field("columns").set_checked(["age"])  # a number: it applies
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.step()["columns"] == ["age"] and dialog.step()["op"] == "clip"


def test_the_panels_form_refuses_a_step_that_cannot_apply(qtbot, panel) -> None:
    """Through the Prepare panel: the form offers the dataset's columns with their roles and
    refuses clipping a text column when the step is added, naming step 2."""
    panel.add_step({"op": "impute", "columns": ["petal"], "strategy": "median"})
    qtbot.waitUntil(lambda: panel._sample is not None, timeout=WAIT)
    dialog = panel.add_step_dialog("clip")
    checklist = dialog.field("columns")
    names = [checklist.item(i).data(Qt.ItemDataRole.UserRole) for i in range(checklist.count())]
    assert {"petal", "sepal", "species"} <= set(names)
    checklist.set_checked(["species"])
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.text().startswith("Step 2 (clip)"), timeout=WAIT)
    assert len(panel.steps()) == 1 and dialog.isVisible()
    checklist.set_checked(["sepal"])
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.steps()) == 2, timeout=WAIT)
    assert panel.steps()[1]["columns"] == ["sepal"]
