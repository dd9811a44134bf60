"""The training worker: one run from a checked plan, in a child process or inline.

``train_run(store_url, plan_dict, run_id, progress=…)`` is what the job runner starts in a
child: it opens its own store connection, claims the run (the run's owner becomes this
process, so a parent or a later start-up can tell when it dies), beats a heartbeat every few
seconds, and then:

    load the dataset version → rows with a target → held-out split → K folds
    ("fold k of n", metrics per fold at step k) → mean ± std → final fit on the training
    split → held-out test metrics → model (skops, SHA-256 recorded) → plots → worker log

and ends the run finished, cancelled (``Cancelled`` from ``progress.check_cancelled``) or
failed (with the error and the traceback in the worker log). Artifacts are written through
the tracking service, so a kill at any point leaves at most a pending artifact that
``ArtifactStore.recover`` removes.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.core.errors import Cancelled, Conflict
from app.core.progress import NullProgress, Progress
from app.core.training import metrics as M
from app.core.training.request import TrainPlan, TrainRequest

if TYPE_CHECKING:
    from app.core.datasets import DatasetService
    from app.core.tracking import TrackingService

HEARTBEAT_EVERY = 5.0  # seconds; TrackingService fails a run silent for HEARTBEAT_TIMEOUT
#: Below this many rows fits use one native thread: OpenMP/BLAS threads on small data cost
#: more than they give (a 100-row boosting fit took 1-4 s with 2 busy threads, 0.1 s with one),
#: and tuning runs several workers side by side anyway.
SINGLE_THREAD_ROWS = 50_000
LOG_NAME = "worker.log"


# -- entry points ---------------------------------------------------------------------------


def train_run(
    store_url: str, plan_dict: dict[str, Any], run_id: int, *, progress: Progress
) -> dict[str, Any]:
    """Child-process entry point (``app.core.training.trainer:train_run``)."""
    from app.core.artifacts import ArtifactStore
    from app.core.datasets import DatasetService
    from app.core.store import Store
    from app.core.tracking import TrackingService

    store = Store(store_url)
    try:
        artifacts = ArtifactStore(store)
        return execute(
            TrainPlan.from_dict(plan_dict),
            run_id,
            tracking=TrackingService(store, artifacts),
            datasets=DatasetService(store, artifacts),
            progress=progress,
        )
    finally:
        store.dispose()


def execute(
    plan: TrainPlan,
    run_id: int,
    *,
    tracking: TrackingService,
    datasets: DatasetService,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train ``plan`` into the existing run ``run_id`` and end the run; returns a summary."""
    progress = progress or NullProgress()
    log = WorkerLog()
    _claim(tracking, run_id)
    beat = Heartbeat(tracking, run_id, log)
    beat.start()
    try:
        with log.capture(), _thread_limit(plan, datasets):
            result = _train(plan, run_id, tracking, datasets, progress, log)
    except (Cancelled, KeyboardInterrupt):
        log.info("Cancelled by the user.")
        _save_log(tracking, run_id, log)
        tracking.finish(run_id, "cancelled", "Cancelled by the user.")
        raise
    except BaseException as exc:
        log.info("Failed:\n" + traceback.format_exc())
        _save_log(tracking, run_id, log)
        tracking.finish(run_id, "failed", _reason(exc))
        raise
    finally:
        beat.stop()
    _save_log(tracking, run_id, log)
    tracking.finish(run_id, "finished")
    return result


def _thread_limit(plan: TrainPlan, datasets: DatasetService) -> Any:
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    rows = datasets.version_by_id(plan.dataset_version_id).rows
    return threadpool_limits(limits=1) if rows < SINGLE_THREAD_ROWS else nullcontext()


def _reason(exc: BaseException) -> str:
    from app.core.errors import ModelDeskError

    if isinstance(exc, ModelDeskError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


# -- liveness and the log -------------------------------------------------------------------


def _claim(tracking: TrackingService, run_id: int) -> None:
    """Make this process the run's owner and mark it running (a queued run's first act)."""
    from sqlalchemy import update

    from app.core.artifacts import owner_tag
    from app.core.store.models import RunRow

    def write(s: Any) -> int:
        return s.execute(
            update(RunRow)
            .where(RunRow.id == run_id, RunRow.status.in_(("queued", "running")))
            .values(owner=owner_tag(), status="running", heartbeat_at=datetime.now(UTC))
        ).rowcount

    if not tracking.store.write(write):
        raise Conflict(f"Run {run_id} has already ended; the worker will not train it.")


class Heartbeat:
    """A daemon thread stamping the run's heartbeat every ``HEARTBEAT_EVERY`` seconds."""

    def __init__(self, tracking: TrackingService, run_id: int, log: WorkerLog) -> None:
        self._tracking, self._run_id, self._log = tracking, run_id, log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY):
            try:
                self._tracking.heartbeat(self._run_id)
            except Exception as exc:  # a busy store must not kill training; say so in the log
                self._log.info(f"Heartbeat not written: {exc}")


class WorkerLog:
    """What the worker did, with times; warnings raised while training land here too."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._logger = logging.getLogger("app.core.training")

    def info(self, message: str) -> None:
        stamp = f"[{time.monotonic() - self._t0:8.2f}s] "
        with self._lock:
            self._buffer.write(stamp + message.rstrip() + "\n")
        self._logger.debug(message)

    def text(self) -> str:
        with self._lock:
            return self._buffer.getvalue()

    @contextmanager
    def capture(self) -> Iterator[None]:
        def show(message: Any, category: Any, filename: str, lineno: int, *_: Any) -> None:
            self.info(f"{category.__name__}: {message} ({filename}:{lineno})")

        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = show
            yield


def _save_log(tracking: TrackingService, run_id: int, log: WorkerLog) -> None:
    try:
        tracking.log_artifact(run_id, LOG_NAME, log.text().encode("utf-8"), kind="log")
    except Exception as exc:  # the run's verdict matters more than its log
        logging.getLogger(__name__).warning("worker log of run %s not stored: %s", run_id, exc)


# -- the data -------------------------------------------------------------------------------


def load_frame(plan: TrainPlan, datasets: DatasetService) -> Any:
    """The dataset version as pandas, with only the columns the plan uses."""
    import pyarrow as pa

    version = datasets.version_by_id(plan.dataset_version_id)
    if version.snapshot_sha256 != plan.dataset_sha256:
        raise Conflict(
            f"Dataset version {version.ref} no longer holds the data this run was planned on.",
            hint="Train again on the current version.",
        )
    req = plan.request
    wanted = list(
        dict.fromkeys([*plan.input_columns, req.target, *filter(None, [req.time_column])])
    )
    table = datasets.load_table(version, columns=wanted)
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    return table.to_pandas()


def prepare_xy(frame: Any, plan: TrainPlan) -> tuple[Any, Any]:
    """(X, y): rows with a target, in time order for time series; y numeric for regression.

    The exported script repeats these steps line for line.
    """
    import pandas as pd

    req = plan.request
    if plan.recipe:  # its row steps are training-only: they run here, never in the model
        from app.core.recipes.runtime import apply_rows

        frame = apply_rows(frame, plan.recipe["steps"])
    frame = frame[frame[req.target].notna()]
    if plan.validation == "timeseries" and req.time_column:
        frame = frame.sort_values(req.time_column, kind="stable")
    frame = frame.reset_index(drop=True)
    X = frame[plan.input_columns]
    if plan.task == "regression":
        y = pd.to_numeric(frame[req.target]).astype("float64").to_numpy()
    else:
        y = frame[req.target].to_numpy(dtype=object)
        kinds = {type(v) for v in y}
        if len(kinds) == 1:  # one Python type: let numpy pick a plain dtype (bool, int, str)
            y = y.astype(type(y[0]) if kinds <= {bool, int, float, str} else object)
    return X, y


def build_pipeline(plan: TrainPlan) -> Any:
    from app.core.training.catalog import get
    from app.core.training.preprocessing import build_pipeline as assemble

    req = plan.request
    estimator = get(req.estimator).build(plan.task, req.params, req.seed)
    pipeline = assemble(plan.columns, estimator)
    if plan.recipe:  # raw rows in: the recipe runs first, fitted on the training rows only
        from app.core.recipes.runtime import RecipeTransformer

        recipe = RecipeTransformer(
            steps=plan.recipe["steps"], name=plan.recipe["name"], version=plan.recipe["version"]
        )
        pipeline.steps.insert(0, ("recipe", recipe))
    return pipeline


# -- training -------------------------------------------------------------------------------


def _train(
    plan: TrainPlan,
    run_id: int,
    tracking: TrackingService,
    datasets: DatasetService,
    progress: Progress,
    log: WorkerLog,
) -> dict[str, Any]:
    import numpy as np
    from sklearn.base import clone

    from app.core.training.validation import describe, holdout_split, make_splitter

    req = plan.request
    log.info(
        f"Run {run_id}: {req.estimator} on {req.dataset} predicting '{req.target}' "
        f"({plan.task}); {describe(plan.validation, req.folds, req.repeats, req.test_size)}; "
        f"seed {req.seed}."
    )
    log.info("Parameters: " + json.dumps(req.params, default=str))
    for note in plan.notes:
        log.info("Note: " + note)
    progress.update(0.0, "Loading data")
    frame = load_frame(plan, datasets)
    X, y = prepare_xy(frame, plan)
    del frame
    log.info(f"{len(X):,} rows with a target, {X.shape[1]} feature columns.")
    progress.check_cancelled()

    train_rows, test_rows = holdout_split(
        y, task=plan.task, validation=plan.validation, test_size=req.test_size, seed=req.seed
    )
    X_train, y_train = X.iloc[train_rows], y[train_rows]
    X_test, y_test = X.iloc[test_rows], y[test_rows]
    log.info(f"{len(train_rows):,} training rows, {len(test_rows):,} held-out test rows.")
    template = build_pipeline(plan)
    splitter = make_splitter(plan.validation, plan.task, req.folds, req.repeats, req.seed)
    folds = list(splitter.split(X_train, y_train))
    per_fold: list[dict[str, float]] = []
    workers: set[str] = set()
    oof: dict[int, tuple[Any, Any]] = {}
    results = _fold_results(plan, datasets, template, X_train, y_train, train_rows, folds, progress)
    for k, (_, val_rows) in enumerate(folds, start=1):
        progress.check_cancelled()
        progress.update(0.05 + 0.7 * (k - 1) / len(folds), f"Fold {k} of {len(folds)}")
        fold = next(results)
        values, pred, scores, fit_s = fold["values"], fold["pred"], fold["scores"], fold["fit_s"]
        if "worker" in fold:
            workers.add(fold["worker"])
        per_fold.append(values)
        tracking.log_metrics(run_id, {f"cv.{key}": v for key, v in values.items()}, step=k)
        if not len(test_rows):  # no held-out rows: plots use out-of-fold predictions
            for i, row in enumerate(val_rows):
                oof[int(row)] = (pred[i], None if scores is None else scores[i])
        shown = ", ".join(f"{key} {v:.4f}" for key, v in list(values.items())[:4])
        log.info(f"Fold {k} of {len(folds)}: fit {fit_s:.2f}s; {shown}")
    summary = M.summarize(per_fold)
    if workers:  # the folds ran on a Dask cluster: say where
        tracking.set_tags(run_id, {"cluster.workers": ",".join(sorted(workers))})
    progress.check_cancelled()

    progress.update(0.75, "Final fit on the training split")
    final = clone(template)
    if "record_curve" in final.steps[-1][1].get_params():  # an iterative learner's curve
        final.steps[-1][1].set_params(record_curve=True)
    t0 = time.perf_counter()
    final.fit(X_train, y_train)
    train_seconds = time.perf_counter() - t0
    classes = list(getattr(final, "classes_", []))
    proba = M.has_proba(final)
    test_values: dict[str, float] = {}
    timing_rows = (X_test if len(test_rows) else X_train).iloc[:1000]
    t0 = time.perf_counter()
    final.predict(timing_rows)
    predict_ms_per_row = 1000.0 * (time.perf_counter() - t0) / max(1, len(timing_rows))
    if len(test_rows):
        test_pred = final.predict(X_test)
        test_scores = M.predict_scores(final, X_test) if plan.task != "regression" else None
        test_values = M.evaluate(
            plan.task, y_test, test_pred, test_scores, classes=classes, proba=proba
        )
        eval_X, eval_y, eval_pred, eval_scores = X_test, y_test, test_pred, test_scores
        eval_note = "held-out test rows"
    else:
        covered = sorted(oof)
        eval_X, eval_y = X_train.iloc[covered], y_train[covered]
        eval_pred = np.asarray([oof[r][0] for r in covered])
        eval_scores = (
            None
            if plan.task == "regression" or oof[covered[0]][1] is None
            else np.asarray([oof[r][1] for r in covered])
        )
        eval_note = "out-of-fold predictions on the training rows"
    extra = {"train_seconds": train_seconds, "predict_ms_per_row": predict_ms_per_row}
    _log_curve(tracking, run_id, final, extra, log)
    progress.check_cancelled()

    progress.update(0.85, "Saving the model")
    from app.core.training import model_io

    data, untrusted = model_io.dump(final)
    extra["model_size_bytes"] = float(len(data))
    tracking.log_batch(
        run_id,
        [(k, v, 0, time.time()) for k, v in {**summary, **extra}.items()]
        + [(f"test.{k}", v, 0, time.time()) for k, v in test_values.items()],
    )
    model_art = tracking.log_artifact(run_id, model_io.MODEL_NAME, data, kind="model")
    meta = model_meta(plan, final, X_train, model_art.sha256, model_art.size, untrusted)
    tracking.log_artifact(
        run_id,
        model_io.META_NAME,
        json.dumps(meta, indent=1, default=str).encode(),
        kind="model-meta",
    )
    tracking.set_tags(run_id, {"model_sha256": model_art.sha256})
    log.info(f"Model saved: {len(data):,} bytes, SHA-256 {model_art.sha256}.")

    importance = _importance(req, final, eval_X, eval_y, run_id, tracking, progress, log)
    _shap_summary(req, final, eval_X, run_id, tracking, log)
    if req.plots:
        from app.core.training import plots

        progress.update(0.9, "Drawing plots")
        notes: list[str] = []
        images = plots.make_plots(
            final,
            eval_X,
            eval_y,
            task=plan.task,
            classes=classes,
            y_pred=eval_pred,
            scores=eval_scores,
            proba=proba,
            seed=req.seed,
            notes=notes,
            check=progress.check_cancelled,
            importance=importance,
        )
        for note in notes:
            log.info(note)
        log.info(f"Plots drawn on the {eval_note}: {', '.join(images) or 'none'}.")
        for name, png in images.items():
            tracking.log_artifact(run_id, name, png, kind="plot")
        curves = plots.curve_data(eval_y, eval_scores, classes, plan.task)
        if curves:
            tracking.log_artifact(run_id, "curves.json", json.dumps(curves).encode(), kind="curve")
    progress.update(1.0, "Done")
    primary = M.PRIMARY[plan.task]
    log.info(
        f"Cross-validated {primary}: {summary.get(primary, float('nan')):.4f} ± "
        f"{summary.get(primary + '_std', float('nan')):.4f}"
        + (f"; test {test_values[primary]:.4f}" if primary in test_values else "")
    )
    return {
        "run_id": run_id,
        "status": "finished",
        "task": plan.task,
        "metrics": summary,
        "test": test_values,
        "folds": per_fold,
        "model_sha256": model_art.sha256,
        "notes": list(plan.notes),
    }


def fit_fold(
    plan: TrainPlan, template: Any, X_train: Any, y_train: Any, fit_rows: Any, val_rows: Any
) -> dict[str, Any]:
    """One cross-validation fold: fit a clone on ``fit_rows``, score ``val_rows``. The same
    function runs here and on a Dask worker (``app.core.cluster_tasks``)."""
    from sklearn.base import clone

    model = clone(template)
    t0 = time.perf_counter()
    model.fit(X_train.iloc[fit_rows], y_train[fit_rows])
    fit_s = time.perf_counter() - t0
    X_val = X_train.iloc[val_rows]
    pred = model.predict(X_val)
    scores = M.predict_scores(model, X_val) if plan.task != "regression" else None
    values = M.evaluate(
        plan.task,
        y_train[val_rows],
        pred,
        scores,
        classes=getattr(model, "classes_", ()),
        proba=M.has_proba(model),
    )
    return {"values": values, "pred": pred, "scores": scores, "fit_s": fit_s}


def _fold_results(
    plan: TrainPlan,
    datasets: DatasetService,
    template: Any,
    X_train: Any,
    y_train: Any,
    train_rows: Any,
    folds: list[tuple[Any, Any]],
    progress: Progress,
) -> Iterator[dict[str, Any]]:
    """The folds' results in order: here, one by one, or on the Dask cluster that
    ``MODELDESK_CLUSTER`` names (``app.core.cluster``), all at once."""
    from app.core.cluster import Cluster, cluster_from_env

    spec = cluster_from_env()
    if spec is None:
        for fit_rows, val_rows in folds:
            yield fit_fold(plan, template, X_train, y_train, fit_rows, val_rows)
        return
    cluster = Cluster(spec)
    try:
        yield from cluster.folds(datasets.store, plan, train_rows, folds, progress)
    finally:
        cluster.close()


def _importance(
    req: TrainRequest,
    final: Any,
    X: Any,
    y: Any,
    run_id: int,
    tracking: TrackingService,
    progress: Progress,
    log: WorkerLog,
) -> dict[str, Any] | None:
    """Permutation importance stored as the run's ``importance.json`` (Monitor weighs drift
    by it). Skipped for tuning trials without plots; a failure is a note, never the run's."""
    if req.trial_number is not None and not req.plots:
        return None
    from app.core.training import importance

    progress.update(0.87, "Permutation importance")
    try:
        doc = importance.compute(final, X, y, req.seed)
    except Exception as exc:  # importance is a nicety: note why it is missing, go on
        log.info(f"Permutation importance skipped: {type(exc).__name__}: {exc}")
        return None
    tracking.log_artifact(run_id, importance.NAME, json.dumps(doc).encode(), kind="importance")
    return doc


def _shap_summary(
    req: TrainRequest, final: Any, X: Any, run_id: int, tracking: TrackingService, log: WorkerLog
) -> None:
    """The global SHAP summary as ``shap.json`` where the model is a tree model (see
    ``shap_summary``); skipped like importance for tuning trials without plots."""
    if req.trial_number is not None and not req.plots:
        return
    from app.core.training import shap_summary
    from app.serving.explain import ExplainError

    try:
        doc = shap_summary.compute(final, X, req.seed)
    except ExplainError as exc:
        log.info(f"No SHAP summary: {exc}")
        return
    tracking.log_artifact(run_id, shap_summary.NAME, json.dumps(doc).encode(), kind="shap")
    log.info(f"SHAP summary ({doc['method']}) on {doc['rows']} rows.")


def _log_curve(
    tracking: TrackingService, run_id: int, final: Any, extra: dict[str, float], log: WorkerLog
) -> None:
    """An iterative learner's per-iteration losses of the final fit as step metrics
    (``curve.train.logloss`` at step 1, 2, …: the learning curve of the run)."""
    model = final.steps[-1][1] if hasattr(final, "steps") else final
    curve = getattr(model, "curve_", None)
    if not curve:
        return
    now = time.time()
    tracking.log_batch(
        run_id,
        [
            (f"curve.{name}", v, step, now)
            for name, values in curve.items()
            for step, v in enumerate(values, start=1)
        ],
    )
    best = getattr(model, "best_iteration_", None)
    if best is not None:
        extra["best_iteration"] = float(best + 1)
        log.info(f"Early stopping kept {best + 1} rounds.")


def model_meta(
    plan: TrainPlan, final: Any, X_train: Any, sha256: str, size: int, untrusted: list[str]
) -> dict[str, Any]:
    """What ``model.json`` says about a fitted pipeline (the registry and images read it)."""
    from app.core.training import model_io

    return {
        "format": "skops",
        "flavour": getattr(final.steps[-1][1], "flavour", None) or "sklearn",
        "sha256": sha256,
        "size": size,
        "trusted_types": untrusted,
        "task": plan.task,
        "target": plan.request.target,
        "classes": [_plain(c) for c in getattr(final, "classes_", [])],
        "inputs": model_io.describe_inputs(
            X_train, [c.to_dict() for c in (plan.inputs if plan.recipe else plan.columns)]
        ),
        "recipe": (
            {"name": plan.recipe["name"], "version": plan.recipe["version"]}
            if plan.recipe
            else None
        ),
        "input_example": model_io.input_example(X_train),
        "versions": _versions(),
    }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _versions() -> dict[str, str]:
    import platform

    import numpy
    import pandas
    import sklearn
    import skops

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
    }
