"""What a Dask worker runs for ModelDesk: one cross-validation fold of a run.

The worker opens the store itself and reads the dataset version's Parquet snapshot from the
artifact store (verified by SHA-256, as every reader does), so no data travels through the
scheduler; the frame is kept per worker process for the run's other folds.
"""

from __future__ import annotations

import threading
from typing import Any

#: (store URL, artifacts, snapshot SHA-256, columns, recipe) -> (X, y), the last few runs
_FRAMES: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_FRAMES_LOCK = threading.Lock()
_KEEP = 4


def _frame(store_url: str, artifacts: str, plan: Any) -> tuple[Any, Any]:
    import json

    from app.core.artifacts import ArtifactStore
    from app.core.datasets import DatasetService
    from app.core.store import Store
    from app.core.training.trainer import load_frame, prepare_xy

    key = (
        store_url,
        artifacts,
        plan.dataset_sha256,
        tuple(plan.input_columns),
        plan.request.target,
        plan.validation,
        json.dumps(plan.recipe, sort_keys=True, default=str),
    )
    with _FRAMES_LOCK:
        if key in _FRAMES:
            return _FRAMES[key]
    store = Store(store_url, artifacts_dir=artifacts, migrate=False)
    try:
        frame = load_frame(plan, DatasetService(store, ArtifactStore(store)))
    finally:
        store.dispose()
    X, y = prepare_xy(frame, plan)
    with _FRAMES_LOCK:
        while len(_FRAMES) >= _KEEP:
            _FRAMES.pop(next(iter(_FRAMES)))
        _FRAMES[key] = (X, y)
    return X, y


def fit_fold_task(
    store_url: str,
    artifacts: str,
    plan_dict: dict[str, Any],
    train_rows: Any,
    fit_rows: Any,
    val_rows: Any,
) -> dict[str, Any]:
    """``trainer.fit_fold`` on a worker, with the data read from the store there."""
    from threadpoolctl import threadpool_limits

    from app.core.training.request import TrainPlan
    from app.core.training.trainer import build_pipeline, fit_fold

    plan = TrainPlan.from_dict(plan_dict)
    X, y = _frame(store_url, artifacts, plan)
    X_train, y_train = X.iloc[train_rows], y[train_rows]
    with threadpool_limits(limits=1):
        result = fit_fold(plan, build_pipeline(plan), X_train, y_train, fit_rows, val_rows)
    from distributed import get_worker

    result["worker"] = get_worker().address  # recorded with the run: who trained the fold
    return result
