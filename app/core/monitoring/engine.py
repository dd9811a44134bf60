"""The drift engine: a reference and a current table in, a ``DriftReport`` out.

Pure computation on Arrow tables (pandas DataFrames are converted): no store, no model. The
features are compared in a thread pool, since sorting and the Arrow kernels release the GIL,
so both cores work on a large batch. Which statistic decides, and where the thresholds lie,
is ``DriftSettings``' business (see its docstring for the Evidently-like defaults).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from app.core.errors import InvalidInput
from app.core.monitoring import stats
from app.core.monitoring.report import DriftReport, FeatureDrift, worst
from app.core.monitoring.settings import DriftSettings
from app.core.monitoring.verdict import NO_IMPORTANCE, decide
from app.core.progress import NullProgress, Progress

if TYPE_CHECKING:
    import pyarrow as pa

NUMERIC, CATEGORICAL = "numeric", "categorical"
PREDICTION = "prediction"
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae", "mape"})


def as_table(data: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise InvalidInput(f"Expected an Arrow table or a pandas DataFrame, got {type(data).__name__}.")


def infer_kinds(table: pa.Table) -> dict[str, str]:
    """numeric or categorical from the Arrow type; dates and nested values are left out."""
    import pyarrow.types as t

    kinds: dict[str, str] = {}
    for f in table.schema:
        typ = f.type.value_type if t.is_dictionary(f.type) else f.type
        if t.is_boolean(typ) or t.is_string(typ) or t.is_large_string(typ):
            kinds[f.name] = CATEGORICAL
        elif t.is_integer(typ) or t.is_floating(typ) or t.is_decimal(typ):
            kinds[f.name] = NUMERIC
    return kinds


def compute_drift(
    reference: Any,
    current: Any,
    *,
    columns: Mapping[str, str] | None = None,
    prediction: str | None = None,
    settings: DriftSettings | None = None,
    reference_label: str = "reference",
    current_label: str = "current",
    metrics: dict[str, Any] | None = None,
    importance: Mapping[str, float] | None = None,
    progress: Progress | None = None,
) -> DriftReport:
    """Compare every column of ``columns`` (name → numeric|categorical; inferred from the
    reference's types when None) between the two tables. ``prediction`` names a column of
    both tables holding the model's outputs: compared like a feature, reported apart.
    ``importance`` maps features to their share of the model's importance (verdict.py)."""
    settings = settings or DriftSettings()
    progress = progress or NullProgress()
    ref, cur = as_table(reference), as_table(current)
    if ref.num_rows == 0:
        raise InvalidInput(f"The reference data ({reference_label}) has no rows.")
    if cur.num_rows == 0:
        raise InvalidInput(
            f"The current data ({current_label}) has no rows.",
            hint="There is nothing to compare yet; collect some data first.",
        )
    kinds = dict(columns) if columns is not None else infer_kinds(ref)
    if prediction is not None:
        kinds.pop(prediction, None)
    for name in kinds:
        for label, table in ((reference_label, ref), (current_label, cur)):
            if name not in table.column_names:
                raise InvalidInput(
                    f"Column '{name}' is missing from {label}.",
                    hint="The data must have every column the model was trained on.",
                )
        if kinds[name] not in (NUMERIC, CATEGORICAL):
            raise InvalidInput(
                f"Column '{name}' has kind {kinds[name]!r}; expected numeric or categorical."
            )
    if not kinds:
        raise InvalidInput("There are no numeric or categorical columns to compare.")
    jobs = [(name, kind, name) for name, kind in kinds.items()]
    if prediction is not None:
        pred_kind = NUMERIC if _is_numeric(ref.column(prediction).type) else CATEGORICAL
        jobs.append((prediction, pred_kind, PREDICTION))

    results: dict[str, FeatureDrift] = {}
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="drift") as pool:
        futures = {
            pool.submit(
                compare_column,
                shown,
                kind,
                ref.column(name),
                cur.column(name),
                settings,
                current_label,
            ): shown
            for name, kind, shown in jobs
        }
        try:
            for done, fut in enumerate(_as_completed(futures), 1):
                results[futures[fut]] = fut.result()
                progress.update(done / len(jobs), f"Compared {futures[fut]}")
                progress.check_cancelled()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    features = tuple(results[name] for name in kinds)
    pred = results.get(PREDICTION)
    return assemble(
        features,
        pred,
        settings=settings,
        reference={"label": reference_label, "rows": ref.num_rows},
        current={"label": current_label, "rows": cur.num_rows},
        metrics=metrics,
        importance=importance,
    )


def _as_completed(futures: Mapping[Any, str]) -> Any:
    from concurrent.futures import as_completed

    return as_completed(futures)


def assemble(
    features: tuple[FeatureDrift, ...],
    prediction: FeatureDrift | None,
    *,
    settings: DriftSettings,
    reference: dict[str, Any],
    current: dict[str, Any],
    metrics: dict[str, Any] | None = None,
    importance: Mapping[str, float] | None = None,
    importance_source: dict[str, Any] | None = None,
) -> DriftReport:
    """The overall status from the per-feature decisions (``verdict.decide``). ``importance``
    (feature → share of the model's permutation importance) arms the importance rule; each
    feature carries its share."""
    if importance is not None:
        features = tuple(replace(f, importance=importance.get(f.name, 0.0)) for f in features)
    v = decide(features, prediction, metrics, settings, importance)
    notes = () if importance is not None else (NO_IMPORTANCE,)
    return DriftReport(
        status=v.status,
        dataset_drift=v.dataset_drift,
        drift_share=v.drift_share,
        n_drifted=v.n_drifted,
        features=features,
        reference=reference,
        current=current,
        settings=settings.to_dict(),
        created_at=datetime.now(UTC).isoformat(),
        prediction=prediction,
        metrics=metrics,
        notes=notes,
        rules=v.rules,
        verdict=v.text,
        importance=None
        if importance is None
        else {**(importance_source or {}), "threshold": settings.importance_share},
    )


def _is_numeric(typ: pa.DataType) -> bool:
    import pyarrow.types as t

    return t.is_integer(typ) or t.is_floating(typ) or t.is_decimal(typ)


# -- one column -------------------------------------------------------------------------------


def compare_column(
    name: str,
    kind: str,
    ref_col: pa.ChunkedArray,
    cur_col: pa.ChunkedArray,
    settings: DriftSettings,
    current_label: str = "current",
) -> FeatureDrift:
    if kind == NUMERIC:
        return _numeric(name, ref_col, cur_col, settings, current_label)
    return _categorical(name, ref_col, cur_col, settings)


def _floats(col: pa.ChunkedArray, name: str, label: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if col.type != pa.float64():
        try:
            col = pc.cast(col, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidInput(
                f"Column '{name}' of {label} holds values that are not numbers ({exc}).",
                hint="The model expects numbers in this column.",
            ) from exc
    values = col.to_numpy()
    return values[np.isfinite(values)]


def _missing(total_ref: int, kept_ref: int, total_cur: int, kept_cur: int) -> dict[str, float]:
    r = 1 - kept_ref / total_ref if total_ref else 0.0
    c = 1 - kept_cur / total_cur if total_cur else 0.0
    return {"reference": r, "current": c, "change": c - r}


def _numeric(
    name: str, ref_col: pa.ChunkedArray, cur_col: pa.ChunkedArray, st: DriftSettings, label: str
) -> FeatureDrift:
    ref = np.sort(_floats(ref_col, name, "the reference"))
    cur = np.sort(_floats(cur_col, name, label))
    missing = _missing(len(ref_col), ref.size, len(cur_col), cur.size)
    rows = {"reference": int(ref.size), "current": int(cur.size)}
    small = ref.size <= st.small_sample
    method, threshold = ("ks", st.p_value) if small else ("wasserstein", st.distance)
    if ref.size == 0 or cur.size == 0:
        return _decide(name, NUMERIC, method, None, threshold, {}, missing, rows, {}, {}, st)
    if _few_values(ref, cur):
        # a numeric column with ≤ 5 distinct values is a coded category: Evidently compares it
        # as one (chi-square / Jensen–Shannon), since distances between codes mean nothing
        return _few_valued(name, ref, cur, missing, rows, small, st)
    ks, wd = stats.ks_and_wasserstein(ref, cur)
    std = float(ref.std())
    values = {
        "psi": stats.numeric_psi(ref, cur, st.psi_bins),
        "ks_statistic": ks.statistic,
        "ks_p_value": ks.p_value,
        "wasserstein": wd,
        "wasserstein_normed": wd / max(std, 1e-3),
        "mean_shift_std": (float(cur.mean()) - float(ref.mean())) / max(std, 1e-12),
    }
    value = ks.p_value if small else values["wasserstein_normed"]
    summary = {"reference": stats.numeric_summary(ref), "current": stats.numeric_summary(cur)}
    hist = stats.histogram(ref, cur, st.histogram_bins)
    return _decide(
        name, NUMERIC, method, value, threshold, values, missing, rows, hist, summary, st
    )


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if values.size else values


def _few_values(ref: np.ndarray, cur: np.ndarray, limit: int = 5) -> bool:
    a = _distinct_sorted(ref[:: max(1, ref.size // 10_000)])  # cheap refusal first
    if a.size > limit:
        return False
    return np.union1d(_distinct_sorted(ref), _distinct_sorted(cur)).size <= limit


def _few_valued(
    name: str,
    ref: np.ndarray,
    cur: np.ndarray,
    missing: dict[str, float],
    rows: dict[str, int],
    small: bool,
    st: DriftSettings,
) -> FeatureDrift:
    def counts(values: np.ndarray) -> dict[str, int]:
        keys, n = np.unique(values, return_counts=True)
        return {category_key(float(k)): int(c) for k, c in zip(keys, n, strict=True)}

    cs = stats.categorical_stats(counts(ref), counts(cur))
    ks, wd = stats.ks_and_wasserstein(ref, cur)
    values = {
        "psi": cs.psi,
        "chi2": cs.chi2,
        "chi2_p_value": cs.chi2_p,
        "jensenshannon": cs.js,
        "ks_statistic": ks.statistic,
        "ks_p_value": ks.p_value,
        "wasserstein": wd,
    }
    method, threshold, value = (
        ("chi2", st.p_value, cs.chi2_p) if small else ("jensenshannon", st.distance, cs.js)
    )
    summary = {"reference": stats.numeric_summary(ref), "current": stats.numeric_summary(cur)}
    hist = stats.category_histogram(cs)
    return _decide(
        name, NUMERIC, method, value, threshold, values, missing, rows, hist, summary, st
    )


def _counts(col: pa.ChunkedArray) -> tuple[dict[str, int], int]:
    import pyarrow.compute as pc

    vc = pc.value_counts(col)
    keys = vc.field("values").to_pylist()
    counts = vc.field("counts").to_pylist()
    out: dict[str, int] = {}
    for k, n in zip(keys, counts, strict=True):
        if k is None or (isinstance(k, float) and math.isnan(k)):
            continue
        key = category_key(k)
        out[key] = out.get(key, 0) + int(n)
    return out, sum(out.values())


def category_key(value: Any) -> str:
    """One spelling per category whatever the source typed it as (1, 1.0 and '1' meet)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    return str(value)


def _categorical(
    name: str, ref_col: pa.ChunkedArray, cur_col: pa.ChunkedArray, st: DriftSettings
) -> FeatureDrift:
    ref, n_ref = _counts(ref_col)
    cur, n_cur = _counts(cur_col)
    missing = _missing(len(ref_col), n_ref, len(cur_col), n_cur)
    rows = {"reference": n_ref, "current": n_cur}
    small = n_ref <= st.small_sample
    method, threshold = ("chi2", st.p_value) if small else ("jensenshannon", st.distance)
    if n_ref == 0 or n_cur == 0:
        return _decide(name, CATEGORICAL, method, None, threshold, {}, missing, rows, {}, {}, st)
    cs = stats.categorical_stats(ref, cur)
    unseen_rows = sum(cs.unseen.values())
    values = {
        "psi": cs.psi,
        "chi2": cs.chi2,
        "chi2_p_value": cs.chi2_p,
        "jensenshannon": cs.js,
        "unseen": dict(sorted(cs.unseen.items(), key=lambda kv: -kv[1])[:20]),
        "unseen_share": unseen_rows / n_cur,
        "categories": {"reference": len(ref), "current": len(cur)},
    }
    value = cs.chi2_p if small else cs.js
    hist = stats.category_histogram(cs)
    summary = {
        "reference": {
            "categories": len(ref),
            "top": hist["categories"][0] if hist["categories"] else None,
        },
        "current": {"categories": len(cur)},
    }
    return _decide(
        name, CATEGORICAL, method, value, threshold, values, missing, rows, hist, summary, st
    )


def _decide(
    name: str,
    kind: str,
    method: str,
    value: float | None,
    threshold: float,
    values: dict[str, Any],
    missing: dict[str, float],
    rows: dict[str, int],
    hist: dict[str, Any],
    summary: dict[str, Any],
    st: DriftSettings,
) -> FeatureDrift:
    """One feature's verdict: the deciding statistic first, then PSI, missing and unseen."""
    levels: list[str] = []
    reasons: list[str] = []
    p_value = method in ("ks", "chi2")
    drift = False
    if value is None:
        if rows["current"] == 0:
            reasons.append("no values in the current data")
            levels.append("alert" if rows["reference"] else "ok")
    else:
        drift = value < threshold if p_value else value >= threshold
        if drift:
            rel = "<" if p_value else "≥"
            what = "p-value" if p_value else "distance"
            reasons.append(f"{method} {what} {value:.3g} {rel} {threshold:g}")
            levels.append("alert")
    psi = values.get("psi")
    if psi is not None and min(rows["reference"], rows["current"]) >= st.psi_min_rows:
        if psi >= st.psi_alert:
            levels.append("alert")
            reasons.append(f"PSI {psi:.3g} ≥ {st.psi_alert:g}")
        elif psi >= st.psi_warning:
            levels.append("warning")
            reasons.append(f"PSI {psi:.3g} ≥ {st.psi_warning:g}")
    change = missing["change"]
    if change >= st.missing_alert or change >= st.missing_warning:
        level = "alert" if change >= st.missing_alert else "warning"
        levels.append(level)
        reasons.append(f"missing share rose by {change:.1%}")
    unseen = values.get("unseen_share")
    if unseen is not None and unseen > 0 and (unseen >= st.unseen_warning):
        levels.append("alert" if unseen >= st.unseen_alert else "warning")
        reasons.append(f"{unseen:.1%} of rows in categories unseen in training")
    return FeatureDrift(
        name=name,
        kind=kind,
        method=method,
        value=None if value is None else float(value),
        threshold=float(threshold),
        drift_detected=bool(drift),
        status=worst(levels),
        reasons=tuple(reasons),
        stats=values,
        missing=missing,
        rows=rows,
        histogram=hist,
        summary=summary,
    )


# -- metrics on labelled data -------------------------------------------------------------------


def compare_metrics(
    current: Mapping[str, float],
    training: Mapping[str, float],
    tolerance: float,
    primary: str | None = None,
) -> dict[str, Any]:
    """Each metric the model reached in training against the same metric on the new rows.

    A relative loss beyond ``tolerance`` warns, beyond twice that alerts, unless it lies
    within two fold standard deviations (``<metric>_std`` in ``training``): noise is no
    decay. Only the ``primary`` metric (the promotion metric) sets the overall status;
    the others are shown for context, as one bad log loss must not page anybody."""
    rows = []
    for metric, now in current.items():
        before = training.get(metric)
        if before is None or not math.isfinite(before):
            rows.append(
                {"metric": metric, "training": None, "current": now, "change": None, "status": "ok"}
            )
            continue
        loss = (now - before) if metric in LOWER_IS_BETTER else (before - now)
        rel = loss / abs(before) if before else loss
        spread = training.get(f"{metric}_std") or 0.0
        status = "alert" if rel > 2 * tolerance else "warning" if rel > tolerance else "ok"
        if loss <= 2 * spread:
            status = "ok"
        rows.append(
            {
                "metric": metric,
                "training": before,
                "current": now,
                "change": now - before,
                "status": status,
                "primary": metric == primary,
            }
        )
    deciding = [r for r in rows if r.get("primary")] or ([] if primary else rows)
    return {"rows": rows, "primary": primary, "status": worst(r["status"] for r in deciding)}
