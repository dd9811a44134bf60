"""What the window's menus and context menus do to runs (a mixin of ``RunsPanel``): New run
on a dataset, register a run (a dialog, then ``RegistryService.register`` as a job; the
Registry opens on the new version), compare, reproduce, export as code. Errors reach the
panel's message bar through its jobs' failure handler.
"""

from __future__ import annotations

from typing import Any

from app.ui.items import DatasetItem, ModelVersionItem
from app.ui.job_bridge import JobBridge
from app.ui.panels.runs_compare import load_compare
from app.ui.panels.runs_register import ask_to_register, register_defaults, register_run


class RunOperations:
    """Needs of the panel: ``launcher``, ``train_form``, ``tabs``, ``compare``, ``messages``,
    ``_tracking``, ``_datasets``, ``_registry``, the ``_register_slot``/``_compare_slot`` and
    the ``open_requested``/``registered`` signals."""

    def new_run(self, dataset: DatasetItem | None = None) -> None:
        """Open the New run tab, on ``dataset`` (else the current context's dataset)."""
        if self.launcher is None or self._datasets is None:
            self.messages.warning("Training is not available in this window.")
            return
        self.tabs.setCurrentWidget(self.train_form)
        if dataset is not None:
            self.train_form.select_item(dataset)

    def register_run(self, run_id: int) -> None:
        """Ask for a model name and description, then register the run's model (a job); the
        Registry opens on the new version (``open_requested("registry", ModelVersionItem)``)."""
        if self._registry is None:
            self.messages.warning("The registry is not available in this window.")
            return
        self._register_slot.start(
            register_defaults,
            self._tracking,
            self._datasets,
            int(run_id),
            name=f"Register run {run_id}",
            done=self._on_register_defaults,
        )

    def compare_runs(self, run_ids: list[int]) -> None:
        ids = [int(i) for i in run_ids]
        if len(ids) < 2:
            self.messages.info("Select two or more runs to compare them.")
            return
        self.compare.show_loading(ids)
        self.tabs.setCurrentWidget(self.compare)
        self._compare_slot.start(
            load_compare, self._tracking, ids, name="Compare runs", done=self._on_compare_loaded
        )

    def reproduce_run(self, run_id: int) -> None:
        if self.launcher is None:
            self.messages.warning("Training is not available in this window.")
            return
        self.launcher.reproduce(int(run_id))

    def export_code(self, run_id: int, dest: str | None = None) -> None:
        if self.launcher is None:
            self.messages.warning("Training is not available in this window.")
            return
        dest = dest or self._ask_export_path(int(run_id))
        if dest:
            self.launcher.export(int(run_id), dest)

    def _on_register_button_clicked(self) -> None:
        ids = self.selected_run_ids()
        if len(ids) == 1:
            self.register_run(ids[0])

    def _on_register_defaults(self, _bridge: JobBridge, defaults: dict[str, Any]) -> None:
        self.register_dialog = ask_to_register(self, defaults, self._register)

    def _register(self, run_id: int, name: str, description: str) -> None:
        registry = self._registry() if self._registry is not None else None
        self._register_slot.start(
            register_run,
            registry,
            run_id,
            name,
            description,
            name=f"Register run {run_id}",
            done=self._on_registered,
        )

    def _on_registered(self, _bridge: JobBridge, item: ModelVersionItem) -> None:
        self.messages.info(f"Registered as {item.ref}.")
        self.registered.emit(item)
        self.open_requested.emit("registry", item)
