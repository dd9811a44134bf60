"""A team store on PostgreSQL: a study created on one machine, then two `modeldesk tune`
processes (as on two machines: each its own home, the artifact folder a shared one, as a
network share would be) join it and run exactly its budget between them. On PostgreSQL the
budget lock is the database's advisory lock, which every machine sees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.core.tuning import StudyRequest

from .conftest import bc_table

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def team_url(postgres_url):
    """A database of its own on the throwaway server, dropped at the end."""
    from tests.contract.backends import create_database, database_url, drop_database

    name = create_database(postgres_url, "md_team")
    yield database_url(postgres_url, name)
    drop_database(postgres_url, name)


def _machine(tmp_path: Path, name: str) -> dict[str, str]:
    """The environment of one 'machine': its own home and data folder, the team's artifacts."""
    home = tmp_path / name
    home.mkdir()
    return {
        **os.environ,
        "MODELDESK_ARTIFACTS": str(tmp_path / "shared-artifacts"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
    }


def test_two_machines_share_one_study_budget_on_postgresql(team_url, tmp_path, monkeypatch):
    import optuna

    from app.bootstrap import build_services

    monkeypatch.setenv("MODELDESK_ARTIFACTS", str(tmp_path / "shared-artifacts"))
    services = build_services(team_url)
    try:
        services.datasets.add_table(bc_table(), name="bc", source_kind="test")
        services.tuning.create(
            StudyRequest(
                dataset="bc",
                target="target",
                estimators=("logistic",),
                n_trials=10,
                folds=2,
                sampler="random",
                pruner="none",
                name="team",
            )
        )
    finally:
        services.close()

    command = [sys.executable, "-m", "app", "tune", "--study", "team", "--store", team_url]
    workers = [
        subprocess.Popen(
            [*command, "--json"],
            cwd=ROOT,
            env=_machine(tmp_path, f"machine-{i}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (1, 2)
    ]
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert json.loads(out)["name"] == "team"

    study = optuna.load_study(study_name="team", storage=team_url)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 10  # exactly the budget: no trial taken twice, none missing
    assert [t.number for t in trials] == list(range(10))
    assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
    services = build_services(team_url)
    try:
        run_ids = [t.user_attrs["run_id"] for t in trials]
        assert len(set(run_ids)) == 10
        runs = [services.tracking.get(int(r)) for r in run_ids]
        assert {(r.study_name, r.status) for r in runs} == {("team", "finished")}
        assert sorted(r.trial_number for r in runs) == list(range(10))
    finally:
        services.close()


def test_the_budget_lock_on_postgresql_excludes_other_connections(team_url):
    """What keeps two machines from both taking the budget's last trial: while one holds the
    study's lock, another connection waits; a second study's lock is independent."""
    from sqlalchemy import create_engine

    from app.core.tuning.budget_lock import AdvisoryLock, lock_key

    engines = [create_engine(team_url) for _ in range(2)]
    first = AdvisoryLock(engines[0], lock_key("team"))
    second = AdvisoryLock(engines[1], lock_key("team"))
    other = AdvisoryLock(engines[1], lock_key("another study"))
    got = threading.Event()
    try:
        first.acquire()
        other.acquire()  # another study's lock is free
        other.release()
        waiter = threading.Thread(target=lambda: (second.acquire(), got.set()), daemon=True)
        waiter.start()
        assert not got.wait(1.0)  # blocked while the first holds it
        first.release()
        assert got.wait(10)
        second.release()
    finally:
        for lock in (first, second, other):
            lock.close()
        for engine in engines:
            engine.dispose()
