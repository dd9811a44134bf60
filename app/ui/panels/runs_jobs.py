"""The Runs panel's job bodies: plain functions of their inputs and a ``progress``, run on the
job runner's threads (never on the GUI thread). Loading a run's detail and a comparison live
beside their views (``runs_detail.load_detail``, ``runs_compare.load_compare``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.training.request import TrainRequest
    from app.jobs.runner import JobRunner


def for_each(fn: Callable[[int], Any], run_ids: list[int], *, progress: Any) -> list[int]:
    """``fn(run_id)`` for each run (delete, restore), cancellable between runs."""
    for n, run_id in enumerate(run_ids):
        progress.check_cancelled()
        progress.update(n / len(run_ids), f"Run {run_id}")
        fn(run_id)
    return run_ids


def start_training(training: Any, request: TrainRequest, runner: JobRunner, *, progress: Any):
    """Thread job: validate, create the run and start its child process → (run_id, Job)."""
    progress.check_cancelled()
    return training.start(request, runner)


def reproduce_run(training: Any, run_id: int, runner: JobRunner, *, progress: Any):
    progress.check_cancelled()
    return training.reproduce(run_id, runner)


def export_code(training: Any, run_id: int, dest: str, *, progress: Any) -> str:
    progress.check_cancelled()
    Path(dest).write_text(training.export_code(run_id), encoding="utf-8")
    return dest
