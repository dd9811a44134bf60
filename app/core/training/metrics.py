"""Scores of a fitted model on some rows, computed as scikit-learn's scorers compute them.

Each metric here equals the scorer named in ``SCORERS`` (sign flipped for the ``neg_``
ones), so ``cross_validate`` with those scorers gives the same per-fold numbers; the exported
code of a run relies on that. A metric that cannot be computed for some rows (ROC AUC when a
fold holds a single class, log loss without probabilities) is left out rather than stored
as NaN.

Stored names: ``<metric>`` is the cross-validation mean, ``<metric>_std`` its standard
deviation, ``cv.<metric>`` the per-fold values (step = fold number, from 1), and
``test.<metric>`` the score on the held-out test rows.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

CLASSIFICATION = (
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "pr_auc",
    "log_loss",
)
REGRESSION = ("rmse", "mae", "r2", "mape")
#: how the worker names per-fold values, held-out scores and spreads
CV_PREFIX, TEST_PREFIX, STD_SUFFIX = "cv.", "test.", "_std"
#: the metric lists sort by and the CLI prints first
PRIMARY = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae", "mape"})
#: how long something took: never the same twice, so never a difference when reproducing
TIMING_SUFFIXES = ("_seconds", "_ms_per_row", "_ms")


def is_timing(key: str) -> bool:
    """``train_seconds``, ``fit_seconds``, ``predict_ms_per_row`` (with any prefix/_std)."""
    base = key.removeprefix(CV_PREFIX).removeprefix(TEST_PREFIX).removesuffix(STD_SUFFIX)
    return base.endswith(TIMING_SUFFIXES)


def scorers(task: str) -> dict[str, str]:
    """Our metric name → scikit-learn scorer name (``neg_`` ones are negated)."""
    if task == "regression":
        return {
            "rmse": "neg_root_mean_squared_error",
            "mae": "neg_mean_absolute_error",
            "r2": "r2",
            "mape": "neg_mean_absolute_percentage_error",
        }
    out = {name: name for name in CLASSIFICATION[:8]}
    if task == "binary":
        out.update(roc_auc="roc_auc", pr_auc="average_precision", log_loss="neg_log_loss")
    else:
        out.update(roc_auc="roc_auc_ovr", log_loss="neg_log_loss")
    return out


def names(task: str) -> tuple[str, ...]:
    return REGRESSION if task == "regression" else CLASSIFICATION


def predict_scores(model: Any, X: Any) -> Any | None:
    """Class probabilities if the model has them, else its decision function, else None."""
    if hasattr(model, "predict_proba"):
        try:
            return model.predict_proba(X)
        except (AttributeError, NotImplementedError):
            pass
    if hasattr(model, "decision_function"):
        return model.decision_function(X)
    return None


def has_proba(model: Any) -> bool:
    try:
        return hasattr(model, "predict_proba")
    except AttributeError:  # available_if raised: the final step has no predict_proba
        return False


def evaluate(
    task: str,
    y_true: Any,
    y_pred: Any,
    scores: Any | None = None,
    *,
    classes: Sequence[Any] = (),
    proba: bool = True,
) -> dict[str, float]:
    """The task's metrics for predictions (and scores: probabilities or decision values)."""
    import numpy as np
    from sklearn import metrics as m

    out: dict[str, float] = {}

    def put(name: str, fn: Any) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = float(fn())
        except (ValueError, IndexError, TypeError):
            return
        if math.isfinite(value):
            out[name] = value

    if task == "regression":
        put("rmse", lambda: m.root_mean_squared_error(y_true, y_pred))
        put("mae", lambda: m.mean_absolute_error(y_true, y_pred))
        put("r2", lambda: m.r2_score(y_true, y_pred))
        put("mape", lambda: m.mean_absolute_percentage_error(y_true, y_pred))
        return out
    put("accuracy", lambda: m.accuracy_score(y_true, y_pred))
    put("balanced_accuracy", lambda: m.balanced_accuracy_score(y_true, y_pred))
    for avg in ("macro", "weighted"):
        put(f"precision_{avg}", lambda a=avg: m.precision_score(y_true, y_pred, average=a))
        put(f"recall_{avg}", lambda a=avg: m.recall_score(y_true, y_pred, average=a))
        put(f"f1_{avg}", lambda a=avg: m.f1_score(y_true, y_pred, average=a))
    if scores is None:
        return out
    scores = np.asarray(scores)
    classes = list(classes)
    if task == "binary":
        positive = scores[:, 1] if scores.ndim == 2 else scores
        truth = np.asarray(y_true) == classes[1]
        put("roc_auc", lambda: m.roc_auc_score(truth, positive))
        put("pr_auc", lambda: m.average_precision_score(truth, positive))
        if proba:
            put("log_loss", lambda: m.log_loss(y_true, scores, labels=classes))
        return out
    if proba:
        put("roc_auc", lambda: m.roc_auc_score(y_true, scores, multi_class="ovr", labels=classes))
        put("log_loss", lambda: m.log_loss(y_true, scores, labels=classes))
        put("pr_auc", lambda: _macro_average_precision(y_true, scores, classes))
    return out


def _macro_average_precision(y_true: Any, scores: Any, classes: Sequence[Any]) -> float:
    import numpy as np
    from sklearn.metrics import average_precision_score

    truth = np.asarray(y_true)
    values = [
        average_precision_score(truth == c, scores[:, i])
        for i, c in enumerate(classes)
        if (truth == c).any()
    ]
    return float(np.mean(values))


def summarize(per_fold: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """``{m: mean, m_std: std}`` over the folds where ``m`` could be computed."""
    import numpy as np

    keys = dict.fromkeys(k for fold in per_fold for k in fold)
    out: dict[str, float] = {}
    for key in keys:
        values = [fold[key] for fold in per_fold if key in fold]
        out[key] = float(np.mean(values))
        out[f"{key}_std"] = float(np.std(values))
    return out
