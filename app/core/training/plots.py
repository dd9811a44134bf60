"""Diagnostic plots of a fitted model as PNG bytes (matplotlib's Agg canvas, no pyplot).

``make_plots`` returns ``{file name: png bytes}`` for the task: confusion matrix, ROC and
precision-recall curves, calibration curve (classification); residuals and predicted vs
actual (regression); permutation importance and partial dependence of the top features
(both). Each plot is drawn on a bounded sample so the set stays under a few seconds; one
that cannot be drawn is skipped with a note, never failing the run. ``curve_data`` is the
ROC/PR data as JSON for overlaying runs in the compare view.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Sequence
from typing import Any

MAX_ROWS = 2000  # rows used for permutation importance and partial dependence
DPI = 100


def _figure(width: float = 5.0, height: float = 4.0) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def make_plots(
    pipeline: Any,
    X: Any,
    y: Any,
    *,
    task: str,
    classes: Sequence[Any],
    y_pred: Any,
    scores: Any | None,
    proba: bool,
    seed: int,
    notes: list[str],
    check: Callable[[], None] = lambda: None,
    importance: dict[str, Any] | None = None,
) -> dict[str, bytes]:
    """The plots for ``pipeline`` evaluated on rows ``X``/``y`` (predictions given);
    ``importance`` is the run's stored permutation importance (computed here when None)."""
    import numpy as np

    y = np.asarray(y)
    jobs: list[tuple[str, Callable[[], Any]]] = []
    if task == "regression":
        jobs += [
            ("residuals.png", lambda: _residuals(y, y_pred, "residual_vs_predicted")),
            ("predicted_vs_actual.png", lambda: _residuals(y, y_pred, "actual_vs_predicted")),
        ]
    else:
        jobs.append(("confusion_matrix.png", lambda: _confusion(y, y_pred, classes)))
        if scores is not None:
            jobs += [
                ("roc_curve.png", lambda: _curves(y, scores, classes, "roc")),
                ("pr_curve.png", lambda: _curves(y, scores, classes, "pr")),
            ]
            if proba and task == "binary":
                jobs.append(("calibration.png", lambda: _calibration(y, scores, classes)))
    ranked: dict[str, Any] = {}
    jobs.append(
        (
            "permutation_importance.png",
            lambda: _importance(pipeline, X, y, seed, importance, ranked),
        )
    )
    jobs.append(("partial_dependence.png", lambda: _partial_dependence(pipeline, X, task, ranked)))
    from threadpoolctl import threadpool_limits

    out: dict[str, bytes] = {}
    for name, draw in jobs:
        check()
        try:
            # Many predictions on a few rows: OpenMP threads only add start-up and contention.
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore")
                fig = draw()
        except Exception as exc:  # a plot is a nicety: note why it is missing, go on
            notes.append(f"Plot {name} skipped: {type(exc).__name__}: {exc}")
            continue
        if fig is not None:
            out[name] = _png(fig)
    return out


def _confusion(y: Any, y_pred: Any, classes: Sequence[Any]) -> Any:
    from sklearn.metrics import ConfusionMatrixDisplay

    fig = _figure()
    ax = fig.add_subplot()
    ConfusionMatrixDisplay.from_predictions(
        y, y_pred, labels=list(classes), ax=ax, colorbar=False, xticks_rotation="vertical"
    )
    ax.set_title("Confusion matrix")
    return fig


def _one_vs_rest(y: Any, scores: Any, classes: Sequence[Any]) -> list[tuple[str, Any, Any]]:
    import numpy as np

    scores = np.asarray(scores)
    if len(classes) == 2:
        positive = scores[:, 1] if scores.ndim == 2 else scores
        return [(str(classes[1]), np.asarray(y) == classes[1], positive)]
    return [
        (str(c), np.asarray(y) == c, scores[:, i])
        for i, c in enumerate(classes)
        if (np.asarray(y) == c).any()
    ]


def _curves(y: Any, scores: Any, classes: Sequence[Any], kind: str) -> Any:
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    fig = _figure()
    ax = fig.add_subplot()
    for label, truth, score in _one_vs_rest(y, scores, classes)[:10]:
        if kind == "roc":
            RocCurveDisplay.from_predictions(truth, score, ax=ax, name=label)
        else:
            PrecisionRecallDisplay.from_predictions(truth, score, ax=ax, name=label)
    if kind == "roc":
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set_title("ROC curve" if kind == "roc" else "Precision-recall curve")
    ax.legend(fontsize=7)
    return fig


def _calibration(y: Any, scores: Any, classes: Sequence[Any]) -> Any:
    import numpy as np
    from sklearn.calibration import CalibrationDisplay

    fig = _figure()
    ax = fig.add_subplot()
    CalibrationDisplay.from_predictions(
        np.asarray(y) == classes[1],
        np.asarray(scores)[:, 1],
        n_bins=10,
        ax=ax,
        name=str(classes[1]),
    )
    ax.set_title("Calibration curve")
    return fig


def _residuals(y: Any, y_pred: Any, kind: str) -> Any:
    from sklearn.metrics import PredictionErrorDisplay

    fig = _figure()
    ax = fig.add_subplot()
    PredictionErrorDisplay.from_predictions(
        y, y_pred, kind=kind, ax=ax, subsample=MAX_ROWS, random_state=0
    )
    ax.set_title("Residuals" if kind == "residual_vs_predicted" else "Predicted vs actual")
    return fig


def _importance(
    pipeline: Any, X: Any, y: Any, seed: int, doc: dict[str, Any] | None, keep: dict[str, Any]
) -> Any:
    import numpy as np

    from app.core.training.importance import compute

    doc = doc or compute(pipeline, X, y, seed)
    names_all = list(doc["features"])
    means = np.asarray([doc["features"][n]["mean"] for n in names_all])
    stds = np.asarray([doc["features"][n]["std"] for n in names_all])
    order = np.argsort(means)[::-1][:15]
    names = [names_all[i] for i in order]
    keep["ranked"] = names
    fig = _figure(5.0, 0.8 + 0.3 * len(order))
    ax = fig.add_subplot()
    ax.barh(names[::-1], means[order][::-1], xerr=stds[order][::-1], color="#4C72B0")
    ax.set_xlabel("Drop in score when shuffled")
    ax.set_title("Permutation importance")
    return fig


def _partial_dependence(pipeline: Any, X: Any, task: str, importance: dict[str, Any]) -> Any:
    import pandas as pd
    from sklearn.inspection import PartialDependenceDisplay

    ranked = importance.get("ranked") or [str(c) for c in X.columns]
    top = [c for c in ranked if pd.api.types.is_numeric_dtype(X[c]) and X[c].nunique() > 1][:3]
    if not top:
        return None
    Xs = X.iloc[:150]
    fig = _figure(4.0 * len(top), 3.5)
    target = {"target": pipeline.classes_[1]} if task == "binary" else {}
    if task == "multiclass":
        target = {"target": pipeline.classes_[0]}
    PartialDependenceDisplay.from_estimator(
        pipeline, Xs, top, grid_resolution=20, ax=fig.subplots(1, len(top)), **target
    )
    fig.suptitle("Partial dependence" + (f" (class {target['target']})" if target else ""))
    return fig


def curve_data(y: Any, scores: Any | None, classes: Sequence[Any], task: str) -> dict[str, Any]:
    """ROC and PR points (per class when multiclass) for the compare view's overlays."""
    import numpy as np
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    if task == "regression" or scores is None:
        return {}

    def thin(values: Any) -> list[float]:
        values = np.asarray(values, dtype=float)
        if len(values) > 200:
            values = values[np.linspace(0, len(values) - 1, 200).astype(int)]
        return [round(float(v), 6) for v in values]

    roc: dict[str, Any] = {}
    pr: dict[str, Any] = {}
    for label, truth, score in _one_vs_rest(y, scores, classes):
        if truth.all() or not truth.any():
            continue
        fpr, tpr, _ = roc_curve(truth, score)
        precision, recall, _ = precision_recall_curve(truth, score)
        roc[label] = {"fpr": thin(fpr), "tpr": thin(tpr), "auc": float(auc(fpr, tpr))}
        pr[label] = {
            "recall": thin(recall),
            "precision": thin(precision),
            "average_precision": float(average_precision_score(truth, score)),
        }
    if task == "binary" and roc:
        return {"roc": next(iter(roc.values())), "pr": next(iter(pr.values()))}
    return {"roc": roc, "pr": pr}
