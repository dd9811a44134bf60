"""Starting training from the Runs panel: new runs, reproductions and exported code.

``TrainingLauncher`` calls ``TrainingService`` on the job runner, never on the GUI thread:
``start`` and ``reproduce`` validate the request (which reads the target column) and create
the run before the child process starts, so even that is a thread job; the training job it
returns is then followed through a ``JobBridge``. Errors before the run exists (a bad
parameter, a target with one class) come back through ``failed`` and no run is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.ui.job_bridge import JobBridge, PanelJobs
from app.ui.panels.runs_jobs import export_code, reproduce_run, start_training

if TYPE_CHECKING:
    from app.core.training.request import TrainRequest
    from app.jobs.runner import JobRunner


class TrainingLauncher(QObject):
    started = Signal(int, object)  # run id, JobBridge of its training job
    ended = Signal(int, str)  # run id, 'succeeded' | 'failed' | 'cancelled'
    failed = Signal(object, str)  # error, traceback (could not start, or the run failed)
    exported = Signal(int, str)  # run id, path of the script
    busy_changed = Signal(bool)  # a request is being validated / started

    def __init__(self, *, training: Any, runner: JobRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.training = training
        self._runner = runner
        self._jobs = PanelJobs(
            self, runner, on_failed=lambda _bridge, error, tb: self.failed.emit(error, tb)
        )
        self._starting = 0
        self.running: dict[int, JobBridge] = {}  # run id → bridge of its training job

    # -- public API --------------------------------------------------------------------------

    def train(self, request: TrainRequest) -> None:
        self._begin(start_training, self.training, request, self._runner, title="Train")

    def reproduce(self, run_id: int) -> None:
        self._begin(reproduce_run, self.training, run_id, self._runner, title="Reproduce")

    def export(self, run_id: int, dest: str) -> None:
        bridge = self._jobs.track(
            self._runner.submit(export_code, self.training, run_id, dest, name="Export code")
        )
        bridge.succeeded.connect(lambda path: self.exported.emit(run_id, path))

    def cancel(self, run_id: int | None = None) -> None:
        """Cancel one training run (the newest when ``run_id`` is None)."""
        if not self.running:
            return
        key = run_id if run_id is not None else max(self.running)
        bridge = self.running.get(key)
        if bridge is not None:
            bridge.cancel()

    def close_jobs(self) -> None:
        self._jobs.close()
        self.running.clear()

    # -- helpers -----------------------------------------------------------------------------

    def _begin(self, fn: Any, *args: Any, title: str) -> None:
        self._starting += 1
        self.busy_changed.emit(True)
        bridge = self._jobs.track(self._runner.submit(fn, *args, name=title))
        bridge.succeeded.connect(self._on_start_succeeded)
        bridge.finished.connect(self._on_start_finished)

    def _on_start_finished(self) -> None:
        self._starting -= 1
        self.busy_changed.emit(self._starting > 0)

    def _on_start_succeeded(self, result: tuple[int, Any]) -> None:
        run_id, job = result
        bridge = self._jobs.track(job, run_id=run_id)
        self.running[run_id] = bridge
        bridge.succeeded.connect(lambda _r: self._on_training_ended(run_id, "succeeded"))
        bridge.failed.connect(lambda _e, _tb: self._on_training_ended(run_id, "failed"))
        bridge.cancelled.connect(lambda: self._on_training_ended(run_id, "cancelled"))
        self.started.emit(run_id, bridge)

    def _on_training_ended(self, run_id: int, state: str) -> None:
        self.running.pop(run_id, None)
        self.ended.emit(run_id, state)
