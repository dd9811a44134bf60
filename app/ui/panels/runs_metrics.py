"""How a run's metric keys fold into rows: value, spread over folds, per-fold values, test.

The training worker logs, for each metric ``K``: every fold's value as ``cv.K`` at step k,
the mean as ``K`` and the standard deviation as ``K_std`` (step 0), the held-out score as
``test.K``, and a few extras (``train_seconds``…). A run logged from a script may instead log
``K`` at several steps. ``summarize_metrics`` turns either into one ``MetricRow`` per ``K``.
Plain Python, no Qt.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.core.training.metrics import CLASSIFICATION, CV_PREFIX, STD_SUFFIX, TEST_PREFIX

#: the order metrics are listed in; others follow alphabetically, extras last
ORDER = (*CLASSIFICATION, "r2", "rmse", "mae", "mape")
#: the metrics plots show first when there is no room for all
HEADLINE = ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "pr_auc", "log_loss",
            "r2", "rmse", "mae", "mape")  # fmt: skip
EXTRAS = ("train_seconds", "predict_ms_per_row", "model_size_bytes")
LOWER_IS_BETTER = ("loss", "error", "rmse", "mse", "mae", "mape", "seconds", "_ms", "size")


@dataclass(frozen=True)
class MetricRow:
    key: str
    value: float | None  # the logged value: the mean over folds for a trained run
    std: float | None
    folds: tuple[float, ...]
    test: float | None


def lower_is_better(key: str) -> bool:
    name = key.lower()
    return any(word in name for word in LOWER_IS_BETTER)


def history_keys(metrics: Mapping[str, float]) -> list[str]:
    """The keys whose step history is worth reading (fold values, multi-step metrics)."""
    return [k for k in metrics if not k.endswith(STD_SUFFIX) and not k.startswith(TEST_PREFIX)]


def headline(keys: Sequence[str], limit: int) -> list[str]:
    """Up to ``limit`` of ``keys``: the headline metrics first, then the others in order."""
    first = [k for k in HEADLINE if k in keys]
    return (first + [k for k in keys if k not in first])[:limit]


def base_key(key: str) -> str | None:
    """'cv.f1' → 'f1', 'test.f1' → 'f1', 'f1_std' → 'f1' when f1 is a row; else the key."""
    if key.startswith(CV_PREFIX):
        return key[len(CV_PREFIX) :]
    if key.startswith(TEST_PREFIX):
        return key[len(TEST_PREFIX) :]
    return key


def summarize_metrics(
    metrics: Mapping[str, float], history: Mapping[str, Sequence[float]]
) -> list[MetricRow]:
    """One row per metric, in ``ORDER``; ``history`` maps a key to its values in step order."""
    keys: set[str] = set()
    for key in metrics:
        base = base_key(key)
        if key.endswith(STD_SUFFIX) and key[: -len(STD_SUFFIX)] in metrics:
            continue
        keys.add(base or key)
    rows = []
    for key in keys:
        folds = list(history.get(CV_PREFIX + key, ()))
        if not folds and len(history.get(key, ())) > 1:
            folds = list(history[key])
        value = metrics.get(key)
        if value is None and folds:
            value = statistics.fmean(folds)
        std = metrics.get(key + STD_SUFFIX)
        if std is None and len(folds) > 1:
            std = statistics.pstdev(folds)
        rows.append(MetricRow(key, value, std, tuple(folds), metrics.get(TEST_PREFIX + key)))
    return sorted(rows, key=metric_order)


def metric_order(row: MetricRow) -> tuple[int, int, str]:
    if row.key in EXTRAS:
        return (2, EXTRAS.index(row.key), row.key)
    if row.key in ORDER:
        return (0, ORDER.index(row.key), row.key)
    return (1, 0, row.key)
