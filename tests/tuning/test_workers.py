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
        trials = tuning.trials("crash")
        states = [t.state for t in trials]
        running = [t for t in trials if t.state == "RUNNING"]
        # mid-trial means its point is drawn: a trial killed as it starts has no params, and
        # its retry rightly draws a new point (tested below with the same-point assertion)
        if states.count("COMPLETE") >= 1 and len(running) == 1 and running[0].params:
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


def test_workers_end_with_a_killed_tune_and_resume_completes_the_budget(
    services, tuning, store_url
):
    """kill -9 of `modeldesk tune --workers 2`: its workers must not run on without it."""
    import subprocess
    import sys
    from pathlib import Path

    import psutil

    cli = [sys.executable, "-m", "app", "tune", "bc", "--target", "target", "--estimators",
           "rf", "--trials", "8", "--cv", "3", "--sampler", "random", "--pruner", "none",
           "--workers", "2", "--study", "orphans", "--store", store_url]  # fmt: skip
    tune = subprocess.Popen(
        cli, cwd=Path(__file__).parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        parent = psutil.Process(tune.pid)
        deadline = time.monotonic() + 180
        while True:  # both workers at work, one trial done
            assert tune.poll() is None, tune.stderr.read().decode()
            names = {s.study_name for s in tuning.storage.get_all_studies()}
            states = _states(tuning, "orphans") if "orphans" in names else []
            workers = [p for p in parent.children() if "spawn_main" in " ".join(p.cmdline())]
            if states.count("COMPLETE") >= 1 and len(workers) == 2 and "RUNNING" in states:
                break
            assert time.monotonic() < deadline, f"the study never got going: {states}"
            time.sleep(0.1)
        children = parent.children(recursive=True)
        tune.kill()
        tune.wait(30)
        deadline = time.monotonic() + 30
        while alive := [p for p in children if _running(p)]:
            assert time.monotonic() < deadline, f"workers outlived their parent: {alive}"
            time.sleep(0.1)
    finally:
        tune.kill()
    ended = len([s for s in _states(tuning, "orphans") if s != "RUNNING"])

    # resume: the dead workers' trials are failed and retried
    summary = tuning.optimize("orphans", workers=1)

    trials = tuning.trials("orphans")
    assert summary.counts.get("COMPLETE") == 8 and "RUNNING" not in summary.counts
    retried = [t for t in trials if t.retried_from is not None]
    assert retried and all(t.state == "COMPLETE" for t in retried)
    assert len(trials) < ended + 8 + len(retried) + 1  # nothing ran twice beyond the retries
    assert summary.status == "finished"


def _running(proc) -> bool:
    import psutil

    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
