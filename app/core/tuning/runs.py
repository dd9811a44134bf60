"""Trials as runs: each trial becomes one run, a child of the study's parent run.

A trial's run is written once, when the trial ends, in ONE transaction (the run row, its
parameters, tags, every per-fold and summary metric): per-trial bookkeeping is what a study
pays thousands of times, and a run that only appears complete can never be left "running" by
a killed worker. The run carries ``study_name`` and ``trial_number``; the trial carries the
run id in its user attrs (``run_id``), so the link goes both ways. Its recipe is the training
plan with the trial's parameters, so ``TrainingService.reproduce`` trains it again as a full
run (with the model) that can be registered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, text, update

from app.core.artifacts import owner_tag
from app.core.store.models import RunLatestMetricRow, RunMetricRow, RunParamRow, RunRow, RunTagRow
from app.core.tracking.environment import capture_environment

if TYPE_CHECKING:
    from app.core.store import Store
    from app.core.tuning.request import StudyPlan

RECIPE_KIND_STUDY = "study"
RUN_ATTR = "run_id"  # trial user attr: the run that records the trial
ERROR_ATTR = "error"  # trial user attr: why a failed trial failed (as its run says)
#: Optuna's own table of trial user attrs (the value is JSON, as Optuna writes it)
_TRIAL_ATTR = text(
    "INSERT INTO trial_user_attributes (trial_id, key, value_json) VALUES (:tid, :key, :value)"
)


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def trial_recipe(plan: StudyPlan, estimator: str, params: Mapping[str, Any], number: int) -> dict:
    """The training recipe of one trial (what ``TrainingService.plan_of`` reads back)."""
    from app.core.training.service import RECIPE_KIND, RECIPE_VERSION

    req = replace(
        plan.train.request,
        estimator=estimator,
        params=dict(params),
        name=f"{plan.name} · trial {number}",
        study_name=plan.name,
        trial_number=number,
    )
    return {
        "kind": RECIPE_KIND,
        "version": RECIPE_VERSION,
        "plan": replace(plan.train, request=req).to_dict(),
    }


def write_trial_run(
    store: Store,
    plan: StudyPlan,
    *,
    parent_run_id: int | None,
    number: int,
    estimator: str,
    params: Mapping[str, Any],
    status: str,
    error: str | None,
    started: float,
    points: Sequence[tuple[str, float, int]],
    tags: Mapping[str, str],
    optuna_trial_id: int | None = None,
) -> int:
    """Insert the ended run of one trial with everything it logged; returns its id.

    With ``optuna_trial_id`` the run id (and a failed trial's error) go into the trial's user
    attrs (``run_id``, ``error``) in the same transaction: Optuna's tables share the database,
    and ``set_trial_user_attr`` would be a second write transaction (with its own reads) for
    every trial.
    """
    from app.core.training.validation import describe

    now = time.time()
    req = plan.train.request
    values = {
        "name": f"{plan.name} · trial {number} · {estimator}",
        "experiment": req.experiment,
        "dataset_version_id": plan.train.dataset_version_id,
        "target": req.target,
        "task": plan.train.task,
        "estimator": estimator,
        "status": status,
        "seed": req.seed,
        "recipe": trial_recipe(plan, estimator, params, number),
        "env": capture_environment(),
        "note": "",
        "error": error,
        "owner": owner_tag(),
        "parent_run_id": parent_run_id,
        "study_name": plan.name,
        "trial_number": number,
        "started_at": datetime.fromtimestamp(started, UTC),
        "ended_at": datetime.fromtimestamp(now, UTC),
        "heartbeat_at": datetime.fromtimestamp(now, UTC),
    }
    all_tags = {
        "dataset": req.dataset,
        "validation": describe(plan.train.validation, req.folds, req.repeats, req.test_size),
        "study": plan.name,
        **tags,
    }
    latest: dict[str, tuple[int, float]] = {}
    for key, value, step in points:
        if key not in latest or step >= latest[key][0]:
            latest[key] = (step, float(value))

    def write(s: Any) -> int:
        conn = s.connection()
        run_id = conn.execute(insert(RunRow.__table__), values).inserted_primary_key[0]
        if params:
            conn.execute(
                insert(RunParamRow.__table__),
                [{"run_id": run_id, "key": k, "value": _param_text(v)} for k, v in params.items()],
            )
        conn.execute(
            insert(RunTagRow.__table__),
            [{"run_id": run_id, "key": k, "value": str(v)} for k, v in all_tags.items()],
        )
        if points:
            conn.execute(
                insert(RunMetricRow.__table__),
                [
                    {"run_id": run_id, "key": k, "step": step, "value": float(v), "ts": now}
                    for k, v, step in points
                ],
            )
            conn.execute(
                insert(RunLatestMetricRow.__table__),
                [
                    {"run_id": run_id, "key": k, "step": step, "value": v}
                    for k, (step, v) in latest.items()
                ],
            )
        if optuna_trial_id is not None:
            attrs = {RUN_ATTR: run_id, **({ERROR_ATTR: error} if error else {})}
            conn.execute(
                _TRIAL_ATTR,
                [
                    {"tid": optuna_trial_id, "key": k, "value": json.dumps(v)}
                    for k, v in attrs.items()
                ],
            )
        return run_id

    return store.write(write)


def set_parent_state(
    store: Store,
    run_id: int,
    status: str,
    *,
    error: str | None = None,
    metrics: Mapping[str, float] | None = None,
) -> None:
    """Move the study's parent run between running and ended, with the best values so far.

    A study can be resumed after it ended, so its parent run may go back to running; the
    tracking service only ever ends runs, hence this small direct update.
    """
    from sqlalchemy import delete

    now = datetime.now(UTC)
    ended = None if status == "running" else now

    def write(s: Any) -> None:
        conn = s.connection()
        conn.execute(
            update(RunRow.__table__)
            .where(RunRow.__table__.c.id == run_id)
            .values(status=status, error=error, ended_at=ended, heartbeat_at=now, owner=owner_tag())
        )
        if metrics:
            table = RunLatestMetricRow.__table__
            conn.execute(
                delete(table).where(table.c.run_id == run_id, table.c.key.in_(list(metrics)))
            )
            conn.execute(
                insert(table),
                [{"run_id": run_id, "key": k, "step": 0, "value": v} for k, v in metrics.items()],
            )

    store.write(write)
