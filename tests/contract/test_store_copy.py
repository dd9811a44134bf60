"""``modeldesk store copy``: a personal SQLite store with datasets, runs, a study, registered
versions and an audit log, copied into an empty PostgreSQL database; on the copy the audit
chain verifies, ``load_model`` predicts as on the source, Optuna opens the study, new rows
get new ids; an interrupted copy resumes; a destination with other data is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.errors import Cancelled, Conflict
from tests.registry.conftest import numeric_table, train

pytestmark = pytest.mark.postgres


def _rows():
    import pandas as pd

    return pd.DataFrame({"x1": [2.0, -2.0], "x2": [1.0, -1.0], "x3": [0.0, 0.0]})


@pytest.fixture
def personal(tmp_path: Path):
    """A personal store holding one of everything (closed again: the copy opens it)."""
    from app.bootstrap import build_services
    from app.core.tuning import StudyRequest

    url = f"sqlite:///{tmp_path / 'personal' / 'modeldesk.db'}"
    svc = build_services(url)
    svc.datasets.add_table(numeric_table(), name="numeric", source_kind="test")
    good = train(svc, "numeric@1", "random_forest", n_estimators=8)
    train(svc, "numeric@1", "dummy")
    svc.registry.register(good.id, "churn")
    svc.registry.set_alias("churn", "champion", 1)
    svc.tuning.create(
        StudyRequest(
            dataset="numeric",
            target="label",
            estimators=("knn",),
            n_trials=3,
            folds=2,
            seed=0,
            name="knn-study",
        )
    )
    svc.tuning.optimize("knn-study")
    predicted = list(svc.registry.load_model("churn@champion").predict(_rows()))
    svc.close()
    return url, predicted


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def _counts(url: str, artifacts: Path | None = None) -> dict[str, int]:
    from sqlalchemy import func, select

    from app.core.store import Store
    from app.core.store.models import Base

    store = Store(url, artifacts_dir=artifacts)
    out = {}
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name != "store_copies":
                out[table.name] = conn.execute(select(func.count()).select_from(table)).scalar()
    store.dispose()
    return out


def test_a_copied_store_verifies_loads_and_tunes_on_postgresql(personal, empty_pg, tmp_path):
    import optuna

    from app.bootstrap import build_services

    source, predicted = personal
    team_artifacts = tmp_path / "team-artifacts"
    out = _cli("store", "copy", source, empty_pg, "--artifacts", str(team_artifacts), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["studies"] == 1 and report["artifacts"] > 0
    assert "modeldesk-test@" not in out.stdout  # the password never shows
    env = {"MODELDESK_ARTIFACTS": str(team_artifacts)}

    # the audit chain verifies on the copy, and records the copy itself
    verified = _cli("audit", "verify", "--store", empty_pg, env=env)
    assert verified.returncode == 0, verified.stderr
    log = _cli("audit", "log", "--store", empty_pg, "--json", env=env)
    actions = [e["action"] for e in json.loads(log.stdout)["entries"]]
    assert "alias.set" in actions and actions[-1] == "store.copied"

    # every row came over, and the model loads and predicts as on the source
    source_counts, copy_counts = _counts(source), _counts(empty_pg, team_artifacts)
    assert copy_counts["audit_log"] == source_counts["audit_log"] + 1
    copy_counts["audit_log"] -= 1
    assert copy_counts == source_counts
    from app.core.registry import load_model
    from app.core.store import Store

    team = Store(empty_pg, artifacts_dir=team_artifacts)
    assert list(load_model("churn@champion", store=team).predict(_rows())) == predicted
    team.dispose()

    # Optuna opens the study on the copy, trials and values intact
    theirs = optuna.load_study(study_name="knn-study", storage=source)
    ours = optuna.load_study(study_name="knn-study", storage=empty_pg)
    assert [t.values for t in ours.trials] == [t.values for t in theirs.trials]
    assert [t.params for t in ours.trials] == [t.params for t in theirs.trials]

    # the team store keeps working: new ids follow the copied ones
    svc = build_services(empty_pg, artifacts_dir=team_artifacts)
    try:
        before = max(r.id for r in svc.tracking.search().runs)
        run = train(svc, "numeric@1", "dummy")
        assert run.id > before
        svc.registry.register(run.id, "churn")
        assert svc.registry.audit_verify().ok
    finally:
        svc.close()

    # a second copy of the same source: nothing to do
    again = _cli("store", "copy", source, empty_pg, "--artifacts", str(team_artifacts))
    assert again.returncode == 0 and "already copied" in again.stdout


class _StopAfter:
    """Progress that cancels after ``n`` checks: an interruption in the middle of a table."""

    def __init__(self, n: int) -> None:
        self.left = n

    def update(self, fraction=None, status=None) -> None:
        pass

    def check_cancelled(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise Cancelled("stopped")


def test_an_interrupted_copy_resumes_and_other_data_is_refused(personal, empty_pg, tmp_path):
    from app.core.store_copy import copy_store

    source, _ = personal
    team_artifacts = tmp_path / "team-artifacts"
    with pytest.raises(Cancelled):
        copy_store(source, empty_pg, artifacts_dir=team_artifacts, progress=_StopAfter(40), batch=3)
    partial = _counts(empty_pg, team_artifacts)
    assert 0 < sum(partial.values()) < sum(_counts(source).values())
    report = copy_store(source, empty_pg, artifacts_dir=team_artifacts, batch=3)
    assert report.resumed
    counts = _counts(empty_pg, team_artifacts)
    counts["audit_log"] -= 1  # the copy's own entry
    assert counts == _counts(source)

    # another store into this one (it holds data, and not an open copy of that store)
    other = tmp_path / "other.db"
    from app.core.store import Store

    Store(f"sqlite:///{other}").dispose()
    out = _cli("store", "copy", str(other), empty_pg, "--artifacts", str(team_artifacts))
    assert out.returncode == 1
    assert out.stderr.startswith("error: The destination store") and "already holds data" in (
        out.stderr
    )
    with pytest.raises(Conflict):
        copy_store(str(other), empty_pg, artifacts_dir=team_artifacts)


def test_a_missing_source_is_named_and_nothing_is_created(empty_pg, tmp_path):
    missing = tmp_path / "nowhere" / "modeldesk.db"
    out = _cli("store", "copy", str(missing), empty_pg)
    assert out.returncode == 1
    assert out.stderr.startswith(f"error: There is no store at {missing}."), out.stderr
    assert not missing.parent.exists()
