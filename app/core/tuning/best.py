"""The best trials of a study get a model on their own runs, so they can be registered.

A trial scores its parameters by cross-validation and keeps no model: fold models are fitted
on part of the training rows, and saving one for each of thousands of trials would cost more
than the search. When a study ends, each best trial (the best one, or every Pareto-optimal
one of a multi-objective study) is fitted once more exactly as a training run's final model
is: its parameters, on the same training split (the study's seed), scored on the held-out
test rows that no trial ever saw. The model, its ``model.json`` and the test metrics are
added to the trial's own run in one transaction, so the run is registrable like any trained
run (``modeldesk models register RUN NAME``, the Runs panel, ``TuningService.register_best``)
and a kill mid-way leaves at most a pending artifact that start-up recovery removes.

    save_models(store, datasets, artifacts, run_ids, progress) → the runs that hold one now
    save_models_worker(store_url, run_ids, progress=…)         → the same in a child process
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput, NotFound
from app.core.progress import NullProgress, Progress

if TYPE_CHECKING:
    from app.core.artifacts import ArtifactStore
    from app.core.datasets import DatasetService
    from app.core.store import Store
    from app.core.training.request import TrainPlan

BEST_TAG = "best_of_study"  # run tag: the study whose best trial this run is
WORKER = "app.core.tuning.best:save_models_worker"


def has_model(store: Store, run_id: int) -> bool:
    from sqlalchemy import select

    from app.core.store.models import RunArtifactRow
    from app.core.training import model_io

    query = select(RunArtifactRow.id).where(
        RunArtifactRow.run_id == run_id, RunArtifactRow.name == model_io.MODEL_NAME
    )
    with store.session() as s:
        return s.scalar(query) is not None


def save_models(
    store: Store,
    datasets: DatasetService,
    artifacts: ArtifactStore,
    run_ids: Sequence[int],
    *,
    study_name: str,
    progress: Progress | None = None,
) -> list[int]:
    """Fit and attach the model of each trial run that has none yet; returns ``run_ids``."""
    progress = progress or NullProgress()
    todo = [rid for rid in run_ids if not has_model(store, rid)]
    frames: dict[int, tuple[Any, Any]] = {}
    for i, run_id in enumerate(todo):
        progress.check_cancelled()
        progress.update(i / max(1, len(todo)), f"Saving the model of run {run_id}")
        plan = _plan_of(store, run_id)
        if plan.dataset_version_id not in frames:
            from app.core.training.trainer import load_frame, prepare_xy

            frames[plan.dataset_version_id] = prepare_xy(load_frame(plan, datasets), plan)
        X, y = frames[plan.dataset_version_id]
        model, meta, metrics = _fit_final(plan, X, y)
        _attach(store, artifacts, run_id, model, meta, metrics, study_name)
    return list(run_ids)


def save_models_worker(
    store_url: str, run_ids: list[int], *, study_name: str, progress: Progress
) -> list[int]:
    """Child-process entry point (``app.core.tuning.best:save_models_worker``)."""
    from app.core.artifacts import ArtifactStore
    from app.core.datasets import DatasetService
    from app.core.store import Store

    store = Store(store_url)
    try:
        artifacts = ArtifactStore(store)
        datasets = DatasetService(store, artifacts)
        return save_models(
            store, datasets, artifacts, run_ids, study_name=study_name, progress=progress
        )
    finally:
        store.dispose()


def _plan_of(store: Store, run_id: int) -> TrainPlan:
    from sqlalchemy import select

    from app.core.store.models import RunRow
    from app.core.training.request import TrainPlan

    with store.session() as s:
        recipe = s.scalar(select(RunRow.recipe).where(RunRow.id == run_id))
    if recipe is None:
        raise NotFound(f"No run with id {run_id}.")
    if "plan" not in recipe:
        raise InvalidInput(f"Run {run_id} is not a trial of a ModelDesk study.")
    return TrainPlan.from_dict(recipe["plan"])


def _fit_final(plan: TrainPlan, X: Any, y: Any) -> tuple[bytes, dict, dict[str, float]]:
    """The final model of a training run with ``plan``: fit on the training split, scored on
    the held-out rows (none when the plan holds none out)."""
    from threadpoolctl import threadpool_limits

    from app.core.training import metrics as M
    from app.core.training import model_io
    from app.core.training.trainer import build_pipeline, model_meta
    from app.core.training.validation import holdout_split

    req = plan.request
    train_rows, test_rows = holdout_split(
        y, task=plan.task, validation=plan.validation, test_size=req.test_size, seed=req.seed
    )
    X_train, y_train = X.iloc[train_rows], y[train_rows]
    model = build_pipeline(plan)
    with threadpool_limits(limits=1):
        t0 = time.perf_counter()
        model.fit(X_train, y_train)
        metrics = {"train_seconds": time.perf_counter() - t0}
        if len(test_rows):
            X_test = X.iloc[test_rows]
            scores = M.predict_scores(model, X_test) if plan.task != "regression" else None
            test = M.evaluate(
                plan.task,
                y[test_rows],
                model.predict(X_test),
                scores,
                classes=getattr(model, "classes_", ()),
                proba=M.has_proba(model),
            )
            metrics.update({f"test.{k}": v for k, v in test.items()})
    data, untrusted = model_io.dump(model)
    sha = hashlib.sha256(data).hexdigest()
    metrics["model_size_bytes"] = float(len(data))
    return data, model_meta(plan, model, X_train, sha, len(data), untrusted), metrics


def _attach(
    store: Store,
    artifacts: ArtifactStore,
    run_id: int,
    model: bytes,
    meta: dict,
    metrics: Mapping[str, float],
    study_name: str,
) -> None:
    """The model, its description and the test metrics on the (ended) trial run, at once.

    Metrics the trial already recorded are kept: a second objective such as
    ``model_size_bytes`` is the trial's value, which the study ranked.
    """
    from sqlalchemy import delete, insert, select

    from app.core.store.models import (
        RunArtifactRow,
        RunLatestMetricRow,
        RunMetricRow,
        RunTagRow,
    )
    from app.core.training import model_io

    model_file = artifacts.put_bytes(model, kind="model")
    meta_file = artifacts.put_bytes(
        json.dumps(meta, indent=1, default=str).encode(), kind="model-meta"
    )
    tags = {"model_sha256": model_file.sha256, BEST_TAG: study_name}
    now = time.time()

    def write(s: Any) -> None:
        known = set(
            s.scalars(select(RunLatestMetricRow.key).where(RunLatestMetricRow.run_id == run_id))
        )
        fresh = {k: float(v) for k, v in metrics.items() if k not in known}
        for name, kind, art in (
            (model_io.MODEL_NAME, "model", model_file),
            (model_io.META_NAME, "model-meta", meta_file),
        ):
            s.execute(
                delete(RunArtifactRow).where(
                    RunArtifactRow.run_id == run_id, RunArtifactRow.name == name
                )
            )
            s.execute(
                insert(RunArtifactRow).values(
                    run_id=run_id, kind=kind, name=name, sha256=art.sha256, size=art.size
                )
            )
            art.mark_stored(s)
        if fresh:
            s.execute(
                insert(RunMetricRow),
                [
                    {"run_id": run_id, "key": k, "step": 0, "value": v, "ts": now}
                    for k, v in fresh.items()
                ],
            )
            s.execute(
                insert(RunLatestMetricRow),
                [{"run_id": run_id, "key": k, "step": 0, "value": v} for k, v in fresh.items()],
            )
        s.execute(delete(RunTagRow).where(RunTagRow.run_id == run_id, RunTagRow.key.in_(tags)))
        s.execute(
            insert(RunTagRow), [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()]
        )

    store.write(write)
