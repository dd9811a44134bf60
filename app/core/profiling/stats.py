"""Exact per-column statistics, by role, from one Arrow column.

Nothing here is sampled: counts, missing, distinct, min/max, mean, moments and quantiles are
over every row. Numeric columns are sorted once (numpy's vectorised sort) and everything
order-based — quantiles, distinct values, top values, histogram, zeros, IQR outliers — is
read from the sorted array; integer columns of a modest range use a counting pass instead.
Text-like columns (``stats_text``) are dictionary-encoded once and their length and type
statistics computed over the distinct values, weighted by their counts; dates and times are
in ``stats_time``.

Skewness and excess kurtosis are the bias-corrected sample estimates (G1, G2) — what
``scipy.stats.skew(x, bias=False)``, ``scipy.stats.kurtosis(x, bias=False)`` and pandas
return — computed from the central moments of one pass rather than by calling scipy per
column (the same formulas, a third of the memory traffic). The standard deviation is the
sample one (ddof=1), as in pandas.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.core.profiling.arrays import (
    QUANTILES,
    ColumnData,
    dot,
    float_values,
    integer_values,
    is_string_type,
    json_value,
    missing_mask,
    monotonic,
    quantile_sorted,
    top_indices,
)
from app.core.profiling.settings import ProfileSettings
from app.core.profiling.stats_text import strings as _strings
from app.core.profiling.stats_time import datetimes as _datetime

_COUNTING_RANGE = 1 << 22  # integer columns spanning at most this many values are counted


def profile_column(
    name: str, column: pa.ChunkedArray, role: str, settings: ProfileSettings
) -> tuple[dict[str, Any], ColumnData]:
    """The statistics of one column (a JSON-able dict) and its arrays for later stages."""
    rows = len(column)
    typ = column.type
    values = None
    if pa.types.is_floating(typ):
        values = float_values(column)
        nan = np.isnan(values)
        mask = nan if nan.any() else None
    else:
        mask = missing_mask(column)
    n_missing = int(mask.sum()) if mask is not None else 0
    stats: dict[str, Any] = {
        "name": name,
        "role": role,
        "physical_type": str(typ.value_type if pa.types.is_dictionary(typ) else typ),
        "rows": rows,
        "count": rows - n_missing,
        "missing": n_missing,
        "missing_share": n_missing / rows if rows else 0.0,
        "memory_bytes": int(column.nbytes),
        "notes": [],
    }
    data = ColumnData(name, role, rows, missing=mask)
    if n_missing == rows:
        stats.update(distinct=0, distinct_share=0.0, top_values=[])
        stats["notes"].append(f"All {rows:,} values are missing.")
        data.usable = False
        if (
            is_string_type(typ)
            or pa.types.is_dictionary(typ)
            or role in ("categorical", "text", "boolean")
        ):
            data.codes = np.full(rows, -1, dtype=np.int32)
            data.counts = np.zeros(0, dtype=np.int64)
        else:
            data.values = np.full(rows, np.nan)
        return stats, data
    if pa.types.is_boolean(typ):
        _boolean_physical(column, stats, data)
    elif pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        _datetime(column, stats, data, settings)
    elif pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        if role == "boolean":
            _boolean_from_numbers(column, stats, data)
        else:
            _numeric(column, stats, data, settings, values)
    elif is_string_type(typ) or pa.types.is_dictionary(typ):
        _strings(column, stats, data, settings)
    elif pa.types.is_time(typ) or pa.types.is_duration(typ):
        unit = getattr(typ, "unit", "")
        _numeric(pc.cast(column, pa.int64()), stats, data, settings)
        stats["notes"].append(f"Values are counted in {unit or 'units'} ({typ}).")
    else:
        try:
            _strings(pc.cast(column, pa.string()), stats, data, settings)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            stats.update(distinct=None, distinct_share=None, top_values=[])
            stats["notes"].append(f"Values of type {typ} are only counted, not profiled.")
            data.usable = False
    present = stats["count"]
    if stats.get("distinct") is not None and present:
        stats["distinct_share"] = stats["distinct"] / present
    return stats, data


# -- numbers -----------------------------------------------------------------------------------


def _numeric(
    column: pa.ChunkedArray,
    stats: dict,
    data: ColumnData,
    settings: ProfileSettings,
    values: np.ndarray | None = None,
) -> None:
    typ = column.type
    data.values = float_values(column) if values is None else values
    if pa.types.is_integer(typ):
        ints = integer_values(column)
        order = monotonic(ints)
        stats["monotonic"] = order if stats["missing"] == 0 else None
        lo, hi = int(ints.min()), int(ints.max())
        if order in ("increasing", "non-decreasing"):
            _numeric_sorted(ints.astype(np.float64), 0, 0, stats, settings)
        elif hi - lo <= min(_COUNTING_RANGE, len(ints)):
            _numeric_counted(ints, lo, hi, stats, settings)
        else:
            _numeric_sorted(np.sort(ints).astype(np.float64), 0, 0, stats, settings)
        if data.missing is None:
            data.key = ints.view(np.uint64)
        return
    present = data.values[~np.isnan(data.values)] if stats["missing"] else data.values
    pos_inf = int(np.count_nonzero(present == np.inf))
    neg_inf = int(np.count_nonzero(present == -np.inf))
    finite = present[np.isfinite(present)] if (pos_inf or neg_inf) else present
    if not len(finite):
        stats.update(
            distinct=2 if (pos_inf and neg_inf) else 1,
            infinite=pos_inf + neg_inf,
            pos_infinite=pos_inf,
            neg_infinite=neg_inf,
            top_values=[[v, c] for v, c in (("inf", pos_inf), ("-inf", neg_inf)) if c],
        )
        stats["notes"].append("Every present value is infinite; no statistic can be computed.")
        data.usable = False
        return
    stats["monotonic"] = monotonic(present) if stats["missing"] == 0 else None
    scaled = _decimal_scaled(finite)
    span = int(scaled[0].max() - scaled[0].min()) if scaled is not None else None
    if scaled is not None and span is not None and span <= min(_COUNTING_RANGE, len(finite)):
        # k-decimal numbers in a modest range: counted as integers instead of sorted
        ints, scale = scaled
        _numeric_counted(ints, int(ints.min()), int(ints.max()), stats, settings, scale=scale)
        stats.update(
            distinct=stats["distinct"] + (1 if pos_inf else 0) + (1 if neg_inf else 0),
            infinite=pos_inf + neg_inf,
            pos_infinite=pos_inf,
            neg_infinite=neg_inf,
        )
    else:
        _numeric_sorted(np.sort(finite), pos_inf, neg_inf, stats, settings)
    if pos_inf or neg_inf:
        stats["notes"].append(
            f"{pos_inf + neg_inf:,} infinite values are counted apart; the statistics cover "
            "the finite ones."
        )


def _numeric_sorted(
    s: np.ndarray, pos_inf: int, neg_inf: int, stats: dict, settings: ProfileSettings
) -> None:
    n = len(s)
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    counts = np.diff(np.append(starts, n))
    distinct = len(starts) + (1 if pos_inf else 0) + (1 if neg_inf else 0)
    top = top_indices(counts, settings.top_values)
    top_values = [[json_value(s[starts[i]]), int(counts[i])] for i in top]
    quantiles = {f"{q:g}": quantile_sorted(s, q) for q in QUANTILES}
    mean, m2, m3, m4 = _moments(s)
    zeros = int(np.searchsorted(s, 0.0, "right") - np.searchsorted(s, 0.0, "left"))
    negatives = int(np.searchsorted(s, 0.0, "left"))
    edges = _edges(float(s[0]), float(s[-1]), settings.bins)
    hist = _histogram_sorted(s, edges)
    _fill_numeric(
        stats,
        n,
        float(s[0]),
        float(s[-1]),
        float(s.sum()),
        mean,
        m2,
        m3,
        m4,
        quantiles,
        distinct,
        top_values,
        zeros,
        negatives,
        edges,
        hist,
        lambda lo, hi: int(np.searchsorted(s, lo, "left") + (n - np.searchsorted(s, hi, "right"))),
    )
    stats.update(infinite=pos_inf + neg_inf, pos_infinite=pos_inf, neg_infinite=neg_inf)


def _decimal_scaled(x: np.ndarray, max_decimals: int = 4) -> tuple[np.ndarray, float] | None:
    """``(x * 10**k as int64, 10**k)`` when every value has at most ``k`` decimals, else None.

    Exact, not approximate: a double parsed from a k-decimal string d/10^k comes back as the
    same double from round(x * 10^k) / 10^k (division is correctly rounded), and that is
    checked for every value. Such columns (prices, measurements with a fixed precision) are
    then counted in one pass rather than sorted.
    """
    if not len(x) or float(np.abs(x).max()) * 10**max_decimals >= 2**52:
        return None
    head = x[:256]
    for k in range(max_decimals + 1):
        f = 10.0**k
        if np.array_equal(np.round(head * f) / f, head):
            scaled = np.round(x * f)
            if np.array_equal(scaled / f, x):
                return scaled.astype(np.int64), f
            return None
    return None


def _numeric_counted(
    ints: np.ndarray,
    lo: int,
    hi: int,
    stats: dict,
    settings: ProfileSettings,
    scale: float = 1.0,
) -> None:
    """Statistics from value counts; the values are ``ints / scale``."""
    counts = np.bincount(ints - lo)
    n = len(ints)
    present = np.flatnonzero(counts)
    values = (present + lo).astype(np.float64)
    if scale != 1.0:
        values /= scale
    weights = counts[present].astype(np.float64)
    cum = np.cumsum(counts[present])

    def at_rank(k: int) -> float:
        return float(values[np.searchsorted(cum, k, "right")])

    quantiles = {}
    for q in QUANTILES:
        pos = q * (n - 1)
        k = math.floor(pos)
        a = at_rank(k)
        frac = pos - k
        quantiles[f"{q:g}"] = a + (at_rank(min(k + 1, n - 1)) - a) * frac if frac else a
    total = dot(values, weights)
    mean = total / n
    d = values - mean
    d2 = d * d
    m2 = dot(d2, weights) / n
    m3 = dot(d2 * d, weights) / n
    m4 = dot(d2 * d2, weights) / n
    top = top_indices(counts[present], settings.top_values)
    as_value = int if scale == 1.0 else float
    top_values = [[as_value(values[i]), int(weights[i])] for i in top]
    zeros = int(counts[-lo]) if lo <= 0 <= hi else 0
    negatives = int(cum[np.searchsorted(values, 0.0) - 1]) if lo < 0 else 0
    span = hi - lo + 1
    before = np.concatenate(([0], cum))
    if span <= settings.bins and scale == 1.0:
        edges = np.arange(lo, hi + 2, dtype=np.float64) - 0.5
        hist = counts
    else:
        edges = _edges(float(values[0]), float(values[-1]), settings.bins)
        cut = np.searchsorted(values, edges, "left")
        cut[-1] = np.searchsorted(values, edges[-1], "right")
        hist = np.diff(before[cut])

    def outside(low: float, high: float) -> int:
        below = int(before[np.searchsorted(values, low, "left")])
        above = n - int(before[np.searchsorted(values, high, "right")])
        return below + above

    _fill_numeric(
        stats,
        n,
        float(values[0]),
        float(values[-1]),
        total,
        mean,
        m2,
        m3,
        m4,
        quantiles,
        len(present),
        top_values,
        zeros,
        negatives,
        edges,
        hist,
        outside,
    )
    stats.update(infinite=0, pos_infinite=0, neg_infinite=0)


def _fill_numeric(
    stats: dict,
    n: int,
    lo: float,
    hi: float,
    total: float,
    mean: float,
    m2: float,
    m3: float,
    m4: float,
    quantiles: dict,
    distinct: int,
    top_values: list,
    zeros: int,
    negatives: int,
    edges: np.ndarray,
    hist: np.ndarray,
    outside: Any,
) -> None:
    var = m2 * n / (n - 1) if n > 1 else None
    std = math.sqrt(var) if var is not None else None
    skew = kurt = None
    # m2 ** 2 can underflow to 0 for tiny spreads (1e-110): then there is no shape to report
    if n > 2 and m2**1.5 > 0:
        skew = math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5
    if n > 3 and m2 * m2 > 0:
        kurt = ((n * n - 1.0) * m4 / (m2 * m2) - 3 * (n - 1) ** 2) / ((n - 2) * (n - 3))
    q1, q3 = quantiles["0.25"], quantiles["0.75"]
    iqr = q3 - q1
    low, high = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    stats.update(
        distinct=distinct,
        top_values=top_values,
        numeric={
            "min": lo,
            "max": hi,
            "range": hi - lo,
            "sum": total,
            "mean": mean,
            "std": std,
            "variance": var,
            "cv": (std / abs(mean)) if (std is not None and mean) else None,
            "skewness": skew,
            "kurtosis": kurt,
            "quantiles": quantiles,
            "median": quantiles["0.5"],
            "iqr": iqr,
            "zeros": zeros,
            "zeros_share": zeros / n,
            "negatives": negatives,
            "negatives_share": negatives / n,
            "outliers": {"low": low, "high": high, "count": outside(low, high)},
            "histogram": {"edges": edges.tolist(), "counts": np.asarray(hist).tolist()},
        },
    )


def _moments(s: np.ndarray) -> tuple[float, float, float, float]:
    mean = float(s.mean())
    d = s - mean
    d2 = d * d
    m2 = float(d2.mean())
    m3 = dot(d2, d) / len(s)
    m4 = dot(d2, d2) / len(s)
    return mean, m2, m3, m4


def _edges(lo: float, hi: float, bins: int) -> np.ndarray:
    if hi <= lo:
        return np.array([lo - 0.5, lo + 0.5])
    return np.linspace(lo, hi, bins + 1)


def _histogram_sorted(s: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """np.histogram's counts ([a, b) bins, the last closed) of a sorted array."""
    cut = np.searchsorted(s, edges, "left")
    cut[-1] = np.searchsorted(s, edges[-1], "right")
    return np.diff(cut)


# -- booleans ----------------------------------------------------------------------------------


def _boolean_physical(column: pa.ChunkedArray, stats: dict, data: ColumnData) -> None:
    filled = pc.fill_null(column, False).to_numpy(zero_copy_only=False)
    codes = filled.astype(np.int32)
    if data.missing is not None:
        codes[data.missing] = -1
    trues = int(np.count_nonzero(codes == 1))
    _fill_boolean(stats, data, codes, trues, stats["count"] - trues, pa.array([False, True]))


def _boolean_from_numbers(column: pa.ChunkedArray, stats: dict, data: ColumnData) -> None:
    values = float_values(column)
    codes = np.where(values == 1, 1, 0).astype(np.int32)
    if data.missing is not None:
        codes[data.missing] = -1
    trues = int(np.count_nonzero(codes == 1))
    _fill_boolean(stats, data, codes, trues, stats["count"] - trues, pa.array([0, 1]))


def _fill_boolean(
    stats: dict, data: ColumnData, codes: np.ndarray, trues: int, falses: int, labels: pa.Array
) -> None:
    data.codes, data.labels = codes, labels
    data.counts = np.array([falses, trues])
    data.values = np.where(codes < 0, np.nan, codes.astype(np.float64))
    present = trues + falses
    stats["distinct"] = int(trues > 0) + int(falses > 0)
    top = sorted(((labels[1].as_py(), trues), (labels[0].as_py(), falses)), key=lambda t: -t[1])
    stats["top_values"] = [[json_value(v), c] for v, c in top if c]
    stats["boolean"] = {
        "true": trues,
        "false": falses,
        "true_share": trues / present if present else None,
        "balance": min(trues, falses) / max(trues, falses) if present else None,
    }
