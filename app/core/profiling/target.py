"""Target analysis: class balance or distribution, what each feature says about the target,
and which features leak it.

* Balance and distribution are exact (from the target column's own statistics).
* Mutual information is the plug-in estimate in nats with the Miller–Madow bias correction,
  on the row sample: numeric features
  in 20 quantile bins, categories by name (the most frequent ``max_categories``, the rest
  grouped), missing values as a category of their own; a numeric target is binned the same
  way. ``normalized`` divides by the target's entropy (Theil's uncertainty coefficient).
* Leakage (``leakage.py``): each feature alone predicts the target of every row from the
  other rows (its nearest neighbour in the feature, or the rest of its category), without
  bins. The score is the held-out gain over always guessing the majority class (Goodman–
  Kruskal λ) for a class target, the held-out R² for a numeric one. A score at or above the
  leakage threshold is a warning, as is a |correlation| with a numeric or two-class target
  (point-biserial): such a feature is most likely computed from the target, or known only
  after it. ``leak_seconds`` (wall) and ``leak_cpu_seconds`` are what the check cost.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from app.core.errors import InvalidInput
from app.core.profiling import leakage
from app.core.profiling.arrays import ColumnData, Sample, json_value, quantile_sorted
from app.core.profiling.associations import lumped_codes
from app.core.profiling.settings import ProfileSettings

MI_BINS = 20
PLOT_BINS = 20
PLOT_GROUPS = 10
SCATTER_POINTS = 400
MAX_CLASSES_AUTO = 10
SKIPPED_ROLES = ("identifier", "text")


def check_target(
    name: str, stats: dict[str, Any], data: ColumnData, settings: ProfileSettings
) -> str:
    """The task for this target, or an ``InvalidInput`` that says why it cannot be one."""
    role = stats["role"]
    if stats["count"] == 0:
        raise InvalidInput(
            f"The target column '{name}' has no values: all {stats['rows']:,} rows are missing.",
            hint="Pick a column that holds what you want to predict.",
        )
    if not data.usable:
        raise InvalidInput(
            f"The target column '{name}' has no usable value ({'; '.join(stats['notes'])})",
            hint="Pick a column with finite values.",
        )
    if stats.get("distinct", 0) < 2:
        raise InvalidInput(
            f"The target column '{name}' holds a single value; there is nothing to predict.",
            hint="Pick a column whose values vary.",
        )
    if role == "datetime":
        raise InvalidInput(
            f"The target column '{name}' holds dates; dates cannot be a target.",
            hint="Pick a numeric or categorical column.",
        )
    if role == "identifier":
        raise InvalidInput(
            f"The target column '{name}' looks like an identifier (its values are all different).",
            hint="Pick the column you want to predict.",
        )
    if settings.task != "auto":
        if settings.task == "regression" and data.values is None:
            raise InvalidInput(
                f"The target column '{name}' is not numeric; it cannot be a regression target.",
                hint="Use task classification.",
            )
        return settings.task
    if role in ("categorical", "boolean", "text"):
        return "classification"
    integral = stats["physical_type"].startswith(("int", "uint"))
    if integral and stats["distinct"] <= MAX_CLASSES_AUTO:
        return "classification"
    return "regression"


def analyse(
    target: ColumnData,
    target_stats: dict[str, Any],
    task: str,
    features: list[ColumnData],
    stats: dict[str, dict],
    rows: np.ndarray | Sample,
    settings: ProfileSettings,
) -> dict[str, Any]:
    sample = rows if isinstance(rows, Sample) else Sample(rows, target.rows)
    rows = sample.rows
    keep = ~_missing(target, rows)
    present = rows[keep]
    rng = np.random.default_rng(settings.seed + 2)
    out: dict[str, Any] = {
        "column": target.name,
        "task": task,
        "sample_rows": len(present),
        "rows": target.rows,
        "sampled": len(present) < target_stats["count"],
        "mi_bins": MI_BINS,
        "leak_method": "nearest neighbour, leave-one-out",
    }
    if task == "classification":
        y, labels = _class_codes(target, present, settings)
        out["classes"] = _classes(target, target_stats, settings)
        counts = [c["count"] for c in out["classes"]]
        out["imbalance_ratio"] = min(counts) / max(counts) if counts and max(counts) else None
        out["minority_share"] = min(counts) / sum(counts) if counts else None
        y_bins, ky = y, len(labels)
    else:
        yv = target.values[present]  # type: ignore[index]
        yv = np.where(np.isfinite(yv), yv, np.nan)
        keep_y = ~np.isnan(yv)
        present, yv = present[keep_y], yv[keep_y]
        keep[keep] = keep_y
        out["sample_rows"] = len(present)
        out["distribution"] = {
            k: target_stats.get("numeric", {}).get(k)
            for k in ("min", "max", "mean", "std", "median", "quantiles", "histogram", "skewness")
        }
        y_bins, ky = _bins(yv, MI_BINS)
        labels = []
    h_y = _entropy(np.bincount(y_bins, minlength=ky))
    y_order = np.argsort(yv) if task == "regression" else None
    binary = task == "classification" and ky == 2
    leak_seconds = leak_cpu = 0.0
    results = []
    for data in features:
        if data.name == target.name:
            continue
        if data.role in SKIPPED_ROLES or not data.usable:
            continue
        fx = _feature_values(data, present, sample, keep)
        if fx is None:
            continue
        x_num, (x_codes, kx), (shared, groups) = fx
        mi = _mutual_information(x_codes, kx, y_bins, ky)
        entry: dict[str, Any] = {
            "name": data.name,
            "role": data.role,
            "mutual_information": _r(mi),
            "normalized": _r(mi / h_y) if h_y > 0 else None,
        }
        t0, c0 = time.perf_counter(), time.thread_time()
        nearest = None
        if x_num is not None:
            nearest = leakage.nearest_targets(*(shared or leakage.sort_valid(x_num)), rng)
        if task == "classification":
            score = leakage.class_score(y, ky, nearest=nearest, groups=groups)
            if binary and x_num is not None:
                entry["point_biserial"] = _r(_point_biserial(x_num, y))
        else:
            score = leakage.regression_score(yv, nearest=nearest, groups=groups)
        leak_seconds += time.perf_counter() - t0
        leak_cpu += time.thread_time() - c0
        entry["leakage_score"] = _r(score)
        if task == "classification":
            entry["plot"] = _class_plot(data, x_num, present, y, labels, settings)
        else:
            entry["plot"] = _regression_plot(data, x_num, x_codes, present, yv, y_order, rng)  # type: ignore[arg-type]
        results.append(entry)
    out["leak_seconds"], out["leak_cpu_seconds"] = leak_seconds, leak_cpu
    results.sort(key=lambda e: -(e["mutual_information"] or 0.0))
    out["features"] = results
    return out


# -- encodings --------------------------------------------------------------------------------


def _missing(data: ColumnData, rows: np.ndarray) -> np.ndarray:
    if data.missing is None:
        return np.zeros(len(rows), dtype=bool)
    return data.missing[rows]


def _class_codes(
    target: ColumnData, rows: np.ndarray, settings: ProfileSettings
) -> tuple[np.ndarray, list[Any]]:
    if target.codes is not None:
        codes, k, kept = lumped_codes(target, rows, settings.max_categories)
        labels = [target.label(i) for i in kept]
        if k > len(kept):
            labels.append("(other)")
        return codes, labels
    values = target.values[rows]  # type: ignore[index]
    uniq, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int32), [json_value(v) for v in uniq]


def _classes(
    target: ColumnData, stats: dict[str, Any], settings: ProfileSettings
) -> list[dict[str, Any]]:
    if target.counts is not None and target.labels is not None:
        counts = target.counts
        order = np.argsort(-counts, kind="stable")[: settings.max_categories]
        pairs = [(target.label(i), int(counts[i])) for i in order]
        rest = int(counts.sum()) - sum(c for _, c in pairs)
        if rest:
            pairs.append(("(other)", rest))
    else:
        values = target.values[~np.isnan(target.values)]  # type: ignore[index]
        uniq, counts = np.unique(values, return_counts=True)
        pairs = sorted(
            ((json_value(v), int(c)) for v, c in zip(uniq, counts, strict=True)),
            key=lambda t: -t[1],
        )
    total = sum(c for _, c in pairs) or 1
    return [{"value": v, "count": c, "share": c / total} for v, c in pairs]


def _feature_values(
    data: ColumnData, rows: np.ndarray, sample: Sample, keep: np.ndarray
) -> tuple[np.ndarray | None, tuple[np.ndarray, int], tuple[Any, np.ndarray]] | None:
    """(numeric values or None, (MI codes, number of codes), (the valid values sorted with
    their positions when the sort is shared, else None; group codes, -1 where the nearest
    neighbour decides)) of a feature on ``rows`` (the sample's rows where ``keep``)."""
    x = None
    ordered = positions = None
    if data.role == "datetime" and data.key is not None:
        ints = data.key[rows].view(np.int64)
        x = ints.astype(np.float64)
        x[ints == np.iinfo(np.int64).min] = np.nan
    elif data.values is not None and data.role == "numeric":
        numbers = sample.numbers(data)  # sorted once, shared with the associations
        x = numbers.x[keep]
        in_sample = numbers.order[(numbers.valid & keep)[numbers.order]]
        ordered = numbers.x[in_sample]
        positions = (np.cumsum(keep) - 1)[in_sample]  # where each sorted value sits in x
    if x is not None:
        coarse = _binnings(x, MI_BINS, ordered=ordered, positions=positions)[0]
        missing_group = np.where(np.isnan(x), 0, -1)  # rows without a value: one group
        shared = None if ordered is None else (ordered, positions)
        return x, coarse, (shared, missing_group)
    if data.codes is not None:
        codes, k, _ = lumped_codes(data, rows, 50)
        full = data.codes[rows].astype(np.int64)
        missing_code = len(data.counts) if data.counts is not None else 0
        groups = np.where(full < 0, missing_code, full)
        return None, (np.where(codes < 0, k, codes), k + 1), (None, groups)
    return None


def _point_biserial(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r between a feature and a two-class target coded 0/1."""
    valid = ~np.isnan(x) & (y >= 0)
    if valid.sum() < 3:
        return math.nan
    a, b = x[valid], y[valid].astype(np.float64)
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum()) / den if den > 0 else math.nan


def _bins(x: np.ndarray, bins: int) -> tuple[np.ndarray, int]:
    """Quantile-bin codes of ``x``; NaN gets the last code. Returns (codes, number of codes)."""
    return _binnings(x, bins)[0]


def _binnings(
    x: np.ndarray,
    *bins: int,
    ordered: np.ndarray | None = None,
    positions: np.ndarray | None = None,
) -> list[tuple[np.ndarray, int]]:
    """Quantile-bin codes of ``x`` for each number of bins, from one sort; NaN gets the last
    code. Equal values always share a bin (edges are values, not ranks).

    ``ordered`` are x's valid values already sorted and ``positions`` where each of them sits
    in ``x``: then the codes are laid out along the sorted values (a few binary searches)
    instead of searching every value among the edges.
    """
    valid = ~np.isnan(x)
    if not valid.any():
        return [(np.zeros(len(x), dtype=np.int64), 1) for _ in bins]
    s = np.sort(x[valid]) if ordered is None else ordered
    n = len(s)
    out = []
    for b in bins:
        pos = np.linspace(0, 1, b + 1)[1:-1] * (n - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n - 1)
        edges = np.unique(s[lo] + (s[hi] - s[lo]) * (pos - lo))
        if positions is None:
            codes = np.searchsorted(edges, x, side="right").astype(np.int64)
        else:  # a value's code is how many edges are <= it
            cuts = np.searchsorted(s, edges, side="left")
            sizes = np.diff(np.concatenate(([0], cuts, [n])))
            codes = np.empty(len(x), dtype=np.int64)
            codes[positions] = np.repeat(np.arange(len(edges) + 1), sizes)
        codes[~valid] = len(edges) + 1
        out.append((codes, len(edges) + 2))
    return out


# -- measures ---------------------------------------------------------------------------------


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _mutual_information(x: np.ndarray, kx: int, y: np.ndarray, ky: int) -> float:
    """Plug-in MI in nats minus the Miller–Madow bias (cells - 1) / 2n, floored at 0: without
    the correction a feature with more bins looks more informative than it is."""
    keep = y >= 0
    x, y = x[keep], y[keep]
    n = len(x)
    if not n:
        return 0.0
    joint = np.bincount(x * ky + y, minlength=kx * ky).reshape(kx, ky).astype(np.float64)
    px = joint.sum(axis=1, keepdims=True)
    py = joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    mi = float((joint[nz] / n * np.log(joint[nz] * n / (px * py)[nz])).sum())
    bias = (int((px > 0).sum()) - 1) * (int((py > 0).sum()) - 1) / (2.0 * n)
    return max(0.0, mi - bias)


def _r(v: float) -> float | None:
    return round(float(v), 6) if v is not None and math.isfinite(v) else None


# -- plot data --------------------------------------------------------------------------------


def _group_codes(
    data: ColumnData, x_num: np.ndarray | None, rows: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Feature groups for the per-feature plots: bins of a number, or the top categories."""
    if x_num is not None:
        valid = ~np.isnan(x_num)
        if not valid.any():
            return np.full(len(rows), -1), []
        lo, hi = float(np.min(x_num[valid])), float(np.max(x_num[valid]))
        edges = np.linspace(lo, hi, PLOT_BINS + 1) if hi > lo else np.array([lo, lo + 1])
        codes = np.clip(np.searchsorted(edges, x_num, "right") - 1, 0, len(edges) - 2)
        codes[~valid] = -1
        return codes, [f"{edges[i]:.4g}" for i in range(len(edges))]
    codes, k, kept = lumped_codes(data, rows, PLOT_GROUPS)
    labels = [str(data.label(i)) for i in kept]
    if k > len(kept):
        labels.append("(other)")
    return codes, labels


def _class_plot(
    data: ColumnData,
    x_num: np.ndarray | None,
    rows: np.ndarray,
    y: np.ndarray,
    labels: list[Any],
    settings: ProfileSettings,
) -> dict[str, Any]:
    groups, group_labels = _group_codes(data, x_num, rows)
    ky = int(y.max()) + 1 if len(y) else 0
    shown = min(ky, PLOT_GROUPS)
    y_shown = np.where(y < shown, y, shown)  # classes beyond the first ten as one
    kg = max(len(group_labels) - (1 if x_num is not None else 0), 1)
    keep = (groups >= 0) & (y >= 0)
    table = np.bincount(
        groups[keep] * (shown + 1) + y_shown[keep], minlength=kg * (shown + 1)
    ).reshape(kg, shown + 1)
    class_names = [str(v) for v in labels[:shown]]
    if table[:, shown].any():
        class_names.append("(other)")
    else:
        table = table[:, :shown]
    kind = "histogram" if x_num is not None else "categories"
    return {"kind": kind, "groups": group_labels, "classes": class_names, "counts": table.tolist()}


def _regression_plot(
    data: ColumnData,
    x_num: np.ndarray | None,
    x_codes: np.ndarray,
    rows: np.ndarray,
    y: np.ndarray,
    y_order: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Target quantiles per feature group (quantile bins of a number, top categories)."""
    if x_num is not None:
        valid = ~np.isnan(x_num)
        groups = np.where(valid, x_codes, -1)
        labels: list[str] = []
    else:
        groups, labels = _group_codes(data, None, rows)
    keep = groups >= 0
    k = int(groups.max()) + 1 if keep.any() else 0
    # Rows in target order, then stably by group (a radix sort of small integers): the
    # target comes out sorted within each group without sorting it again.
    by_y = y_order[keep[y_order]]
    g = groups[by_y].astype(np.int16 if k < 32_000 else np.int64)
    perm = by_y[np.argsort(g, kind="stable")]
    g_sorted = groups[perm]
    ys = y[perm]
    bounds = np.searchsorted(g_sorted, np.arange(k + 1))
    x_means = (
        np.bincount(groups[keep], weights=x_num[keep], minlength=k)
        / np.maximum(np.bincount(groups[keep], minlength=k), 1)
        if x_num is not None
        else None
    )
    out = []
    for g in range(k):
        seg = ys[bounds[g] : bounds[g + 1]]
        if not len(seg):
            continue
        q = [quantile_sorted(seg, p) for p in (0.05, 0.25, 0.5, 0.75, 0.95)]
        item = {"count": len(seg), "mean": float(seg.mean()), "q": q}
        if x_num is not None:
            item["x"] = float(x_means[g])  # type: ignore[index]
        else:
            item["group"] = labels[g] if g < len(labels) else str(g)
        out.append(item)
    if x_num is None:
        return {"kind": "boxes", "boxes": out}
    pick = np.flatnonzero(valid)
    if len(pick) > SCATTER_POINTS:
        pick = rng.choice(pick, SCATTER_POINTS, replace=False)
    return {
        "kind": "binned",
        "bins": out,
        "scatter": [[float(x_num[i]), float(y[i])] for i in pick],
    }
