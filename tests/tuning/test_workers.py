"""Parallel worker processes on one SQLite store, and a study that survives a killed worker."""

from __future__ import annotations

import os
import signal
import time

from app.core.tuning import StudyRequest
from app.core.tuning.service import WORKER


def _states(tuning, name: str) -> list[str]:
    return [t.state for t in tuning.trials(name)]


def test_two_workers_complete_the_budget_without_duplicates_or_losses(services, tuning, runner):
    tuning.create(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators=("logistic",),
            n_trials=10,
            folds=2,
            sampler="random",
            pruner="none",
            workers=2,
            name="pair",
        )
    )
    summary = tuning.optimize("pair", runner=runner)

    trials = tuning.trials("pair")
    assert [t.number for t in trials] == list(range(10))
    assert [t.state for t in trials] == ["COMPLETE"] * 10
    children = f"parent_run_id = {summary.parent_run_id}"
    assert services.tracking.search(filter=children, limit=None).total == 10
    assert sorted(services.tracking.get(t.run_id).trial_number for t in trials) == list(range(10))
    assert len({t.run_id for t in trials}) == 10
    # both workers took trials: their runs were written by two different processes
    from sqlalchemy import select

    from app.core.store.models import RunRow

    with services.store.session() as s:
        query = select(RunRow.owner).where(
            RunRow.study_name == "pair", RunRow.trial_number.is_not(None)
        )
        writers = set(s.scalars(query))
    assert len(writers) == 2
    assert summary.status == "finished"


def test_killed_worker_is_failed_by_heartbeat_and_resume_completes_budget(tuning, runner):
    tuning.create(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators=("rf",),
            n_trials=5,
            folds=3,
            sampler="random",
            pruner="none",
            name="crash",
        )
    )
    job = runner.submit_process(
        WORKER,
        tuning.store.url,
        "crash",
        budget=5,
        deadline=None,
        worker=0,
        heartbeat_interval=1,
        grace_period=2,
        name="victim",
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill it in the middle of a trial, after one ended
        states = _states(tuning, "crash")
        if states.count("COMPLETE") >= 1 and states.count("RUNNING") == 1:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the worker never got mid-trial: {states}")
    os.kill(job.pid, signal.SIGKILL)
    assert job.wait(30)
    orphan = next(t for t in tuning.trials("crash") if t.state == "RUNNING")

    summary = tuning.optimize("crash")  # resume in this process

    trials = {t.number: t for t in tuning.trials("crash")}
    assert trials[orphan.number].state == "FAIL"
    retry = [t for t in trials.values() if t.retried_from == orphan.number]
    assert len(retry) == 1 and retry[0].state == "COMPLETE"
    assert retry[0].params == orphan.params  # the same point, tried again
    assert summary.counts == {"COMPLETE": 5, "FAIL": 1}
    assert summary.status == "finished"


def test_a_trial_whose_worker_died_before_its_first_heartbeat_is_retried(tuning):
    """A worker killed between asking for a trial and its first heartbeat leaves a running
    trial Optuna would never call stale; resuming must not wait for it for ever."""
    import optuna

    from app.core.tuning import engine

    tuning.create(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators=("logistic",),
            n_trials=3,
            folds=2,
            sampler="random",
            pruner="none",
            name="unborn",
        )
    )
    storage = engine.open_storage(tuning.store.url, heartbeat=None)
    study = optuna.load_study(study_name="unborn", storage=storage)
    orphan = storage.create_new_trial(study._study_id)  # RUNNING, and never a heartbeat
    number = storage.get_trial(orphan).number

    started = time.monotonic()
    summary = tuning.optimize("unborn")

    trials = {t.number: t for t in tuning.trials("unborn")}
    assert trials[number].state == "FAIL"
    assert [t.state for t in trials.values() if t.retried_from == number] == ["COMPLETE"]
    assert summary.counts == {"COMPLETE": 3, "FAIL": 1}
    assert time.monotonic() - started < 60
