"""Training in a child process: progress, kill -9, cancel; no run left running, no file
left that no row points to."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlalchemy import func, select

from app.core.store.models import ArtifactRow
from app.core.training import TrainRequest
from app.jobs import JobRunner, JobState
from tests.core.test_training import make_table


@pytest.fixture
def runner():
    r = JobRunner(max_threads=2)
    yield r
    r.shutdown(timeout=10)


@pytest.fixture
def big(services) -> str:
    services.datasets.add_table(make_table(n=3000), name="big", source_kind="test")
    return "big@1"


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def assert_nothing_left_behind(services) -> None:
    assert services.artifacts.orphans() == []
    with services.store.session() as s:
        pending = s.scalar(
            select(func.count()).select_from(ArtifactRow).where(ArtifactRow.state == "pending")
        )
    assert pending == 0
    tmp = services.artifacts.tmp_dir
    assert not tmp.exists() or list(tmp.iterdir()) == []


def slow_request(dataset: str) -> TrainRequest:
    return TrainRequest(
        dataset, "label", "random_forest", params={"n_estimators": 300}, folds=5, plots=False
    )


def test_child_trains_with_fold_progress_and_reproduces(services, runner, big) -> None:
    first = services.training.train_inline(
        TrainRequest(big, "price", "elastic_net", params={"alpha": 0.1}, folds=3, plots=False)
    )
    statuses: list[str] = []
    run_id, job = services.training.reproduce(first.id, runner)
    job.subscribe(lambda event: statuses.append(event.status))
    assert services.tracking.get(run_id).status in ("queued", "running", "finished")
    assert job.wait(90)
    assert job.state is JobState.SUCCEEDED, job.traceback
    assert job.result["run_id"] == run_id and "rmse" in job.result["metrics"]
    run = wait_for(lambda: (r := services.tracking.get(run_id)).status == "finished" and r)
    assert len(services.tracking.metric_history(run_id, "cv.rmse")) == 3
    assert any(s.startswith("Fold ") and s.endswith(" of 3") for s in statuses), statuses
    assert run.artifact("model.skops") is not None and run.artifact("worker.log") is not None
    for key in ("rmse", "r2", "mae", "mape", "test.rmse", "rmse_std"):
        assert run.metrics[key] == first.metrics[key]
    assert_nothing_left_behind(services)


def test_kill_9_leaves_the_run_failed_with_the_reason(services, runner, big) -> None:
    statuses: list[str] = []
    run_id, job = services.training.start(slow_request(big), runner)
    job.subscribe(lambda event: statuses.append(event.status))
    wait_for(lambda: any(s.startswith("Fold") for s in statuses), what="the first fold")
    os.kill(job.pid, signal.SIGKILL)
    assert job.wait(30) and job.state is JobState.FAILED
    run = wait_for(
        lambda: (r := services.tracking.get(run_id)).status != "running" and r, timeout=15
    )
    assert run.status == "failed" and "SIGKILL" in run.error
    assert run.ended_at is not None
    assert_nothing_left_behind(services)


def test_cancel_leaves_the_run_cancelled(services, runner, big) -> None:
    statuses: list[str] = []
    run_id, job = services.training.start(slow_request(big), runner)
    job.subscribe(lambda event: statuses.append(event.status))
    wait_for(lambda: any(s.startswith("Fold") for s in statuses), what="the first fold")
    job.cancel()
    assert job.wait(30) and job.state is JobState.CANCELLED
    run = wait_for(
        lambda: (r := services.tracking.get(run_id)).status == "cancelled" and r, timeout=15
    )
    assert run.error == "Cancelled by the user." and run.artifact("model.skops") is None
    assert run.artifact("worker.log") is not None
    assert_nothing_left_behind(services)
