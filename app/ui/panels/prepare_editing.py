"""Editing a recipe's steps in the Prepare panel (a mixin of ``PreparePanel``): add, edit,
enable, remove and move steps through the undo stack, each checked when it is taken (an
invalid step is refused with its own number), and the step form opened window-modal (not
blocking: the preview jobs keep running) with the dataset's columns and roles to pick from
and, once a sample is in, a check of the step on it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from app.core.recipes.steps import validate_step
from app.ui.job_bridge import JobBridge
from app.ui.panels.prepare_preview import compute_preview
from app.ui.panels.prepare_step_form import StepDialog
from app.ui.panels.prepare_steps_list import AddStep, EditStep, MoveStep, RemoveStep

CHECK_JOB = "Check step"  # the step form's check on the sample: its error stays in the form


class StepEditing:
    """Needs of the panel: ``model`` (the steps list), ``list``, ``undo_stack``,
    ``step_dialog``, ``_sample``, ``_jobs``, ``steps()``, ``current_row()`` and
    ``selected_version()``."""

    def add_step(self, step: dict[str, Any], row: int | None = None) -> None:
        step = validate_step(step, self.model.rowCount())
        row = self.model.rowCount() if row is None else row
        self.undo_stack.push(AddStep(self.model, row, step))
        self.list.setCurrentIndex(self.model.index(row))

    def edit_step(self, row: int, step: dict[str, Any]) -> None:
        step = validate_step(step, row)
        self.undo_stack.push(EditStep(self.model, row, step, "Edit step"))

    def set_enabled(self, row: int, on: bool) -> None:
        step = self.model.step(row)
        step.pop("enabled", None)
        if not on:
            step["enabled"] = False
        text = "Enable step" if on else "Disable step"
        self.undo_stack.push(EditStep(self.model, row, step, text))

    def remove_step(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.undo_stack.push(RemoveStep(self.model, row))

    def move_step(self, src: int, dest: int) -> None:
        n = self.model.rowCount()
        if 0 <= src < n and 0 <= dest < n and src != dest:
            self.undo_stack.push(MoveStep(self.model, src, dest))
            self.list.setCurrentIndex(self.model.index(dest))

    def add_step_dialog(self, op: str) -> StepDialog:
        """Open the form for a new ``op`` step; OK (once valid) appends it to the recipe."""
        row = self.model.rowCount()
        dialog = self._open_dialog(self._step_dialog(op, None, row))
        dialog.accepted.connect(lambda: self.add_step(dialog.step()))
        return dialog

    def edit_step_dialog(self, row: int) -> StepDialog | None:
        """Open the form on step ``row``; OK replaces it (keeping it disabled if it was)."""
        if not 0 <= row < self.model.rowCount():
            return None
        step = self.model.step(row)
        dialog = self._open_dialog(self._step_dialog(step["op"], step, row))

        def accepted() -> None:
            new = dialog.step()
            if not step.get("enabled", True):
                new["enabled"] = False
            self.edit_step(row, new)

        dialog.accepted.connect(accepted)
        return dialog

    def _on_move_clicked(self, delta: int) -> None:
        row = self.current_row()
        self.move_step(row, row + delta)

    def _open_dialog(self, dialog: StepDialog) -> StepDialog:
        """Window-modal, not blocking: the event loop (and the preview jobs) keep running."""
        if self.step_dialog is not None:
            self.step_dialog.close()
        self.step_dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _: self._on_dialog_finished(dialog))
        dialog.open()
        return dialog

    def _step_dialog(self, op: str, step: dict[str, Any] | None, row: int) -> StepDialog:
        """The form for step ``row``: the dataset's columns with their roles to pick from and,
        once a sample is in, a check of the step on it before it is taken."""
        version = self.selected_version()
        columns: list[tuple[str, str]] = []
        if version is not None:
            usages = version.usages or {}
            columns = [(c.name, usages.get(c.name) or c.role) for c in version.schema]
        check = None
        if self._sample is not None:
            sample, steps = self._sample, self.steps()

            def check(candidate: dict[str, Any]) -> JobBridge:
                trial = [*steps[:row], candidate, *steps[row + 1 :]]
                return self._jobs.start(compute_preview, sample, trial, row, name=CHECK_JOB)

        return StepDialog(op, step, self, index=row, columns=columns, check=check)

    def _on_dialog_finished(self, dialog: StepDialog) -> None:
        if self.step_dialog is dialog:
            self.step_dialog = None
