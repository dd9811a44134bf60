"""What the Runs panel's buttons and keys do to the selected runs (a mixin of ``RunsPanel``):
compare, delete and restore (a job over the ids, then the table is read again), reproduce,
export as code (asking where to save).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog

from app.ui.job_bridge import JobBridge
from app.ui.panels.runs_jobs import for_each


class SelectionOperations:
    """Needs of the panel: ``selected_run_ids``/``selected_runs``, the ``RunOperations``
    (``compare_runs``, ``reproduce_run``, ``export_code``), ``_tracking``, ``_jobs``,
    ``messages``, ``model``, ``detail``, ``_load_detail`` and the ``runs_changed`` signal."""

    def compare_selected(self) -> None:
        self.compare_runs(self.selected_run_ids())

    def delete_selected(self) -> None:
        ids = [r.id for r in self.selected_runs() if not r.deleted]
        if ids:
            self._change(
                self._tracking.delete,
                ids,
                "Deleted",
                hint="Tick Show deleted, select them and press Restore to undo.",
            )

    def restore_selected(self) -> None:
        ids = [r.id for r in self.selected_runs() if r.deleted]
        if ids:
            self._change(self._tracking.restore, ids, "Restored")

    def reproduce_selected(self) -> None:
        ids = self.selected_run_ids()
        if len(ids) == 1:
            self.reproduce_run(ids[0])

    def export_selected(self, dest: str | None = None) -> None:
        ids = self.selected_run_ids()
        if len(ids) == 1:
            self.export_code(ids[0], dest)

    # a method, so that tests can replace the question

    def _ask_export_path(self, run_id: int) -> str | None:
        suggested = str(Path.home() / f"run_{run_id}.py")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export run as code", suggested, "Python (*.py)"
        )
        return path or None

    def _change(
        self, fn: Callable[[int], Any], ids: list[int], verb: str, *, hint: str | None = None
    ) -> None:
        self._jobs.start(
            for_each, fn, ids, name=f"{verb} runs", done=self._on_runs_changed, verb=verb, hint=hint
        )

    def _on_runs_changed(self, bridge: JobBridge, ids: list[int]) -> None:
        verb = bridge.context["verb"]
        what = f"run {ids[0]}" if len(ids) == 1 else f"{len(ids)} runs"
        self.messages.info(f"{verb} {what}.", hint=bridge.context.get("hint"))
        self.runs_changed.emit()
        self.model.refresh()
        if self.detail.run_id in ids:
            self._load_detail(self.detail.run_id)
