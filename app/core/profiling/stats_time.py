"""Statistics of date and timestamp columns: range, gaps, rows per calendar period, weekday
and hour of day. Values are sorted once as int64 (timestamps in their unit, dates in days).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.core.profiling.arrays import QUANTILES, ColumnData, integer_values, monotonic, top_indices
from app.core.profiling.settings import ProfileSettings

_PERIODS = (
    ("second", "s"),
    ("minute", "m"),
    ("hour", "h"),
    ("day", "D"),
    ("week", "W"),
    ("month", "M"),
    ("year", "Y"),
)
MAX_PERIODS = 120
_UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "D": 86400.0}


def datetimes(
    column: pa.ChunkedArray, stats: dict, data: ColumnData, settings: ProfileSettings
) -> None:
    typ = column.type
    if pa.types.is_date32(typ):
        unit, ints = "D", pc.cast(column, pa.int32())
    elif pa.types.is_date64(typ):
        unit, ints = "ms", pc.cast(column, pa.int64())
    else:
        unit, ints = typ.unit, pc.cast(column, pa.int64())
    present = integer_values(ints)
    full = pc.fill_null(pc.cast(ints, pa.int64()), np.iinfo(np.int64).min).to_numpy()
    data.key = full.view(np.uint64)
    n = len(present)
    lo, hi = int(present.min()), int(present.max())
    if hi - lo <= n:  # dates, or times of a short span: counted instead of sorted
        by_value = np.bincount(present - lo)
        distinct_values = np.flatnonzero(by_value) + lo
        counts = by_value[distinct_values - lo]
    else:
        s = np.sort(present)
        starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
        counts = np.diff(np.append(starts, n))
        distinct_values = s[starts]
    cum = np.cumsum(counts)  # rows up to and including each distinct value

    def at_rank(k: int) -> int:
        return int(distinct_values[np.searchsorted(cum, k, "right")])

    top = top_indices(counts, min(settings.top_values, 5))
    dt = f"datetime64[{unit}]"

    def iso(v: float | int) -> str:
        return str(np.datetime64(int(v), unit).astype(dt))

    gaps = np.diff(distinct_values)
    step = _UNIT_SECONDS.get(unit, 1.0)
    periods = _by_period(distinct_values, cum, unit)
    per_second = {"s": 1, "ms": 1000, "us": 10**6, "ns": 10**9}.get(unit)
    seconds = present // per_second if per_second else None
    has_time = seconds is not None and bool(np.any(seconds % 86400))
    days = seconds // 86400 if seconds is not None else present
    weekday = np.bincount((days + 3) % 7, minlength=7)  # 1970-01-01 was a Thursday
    stats.update(
        distinct=len(distinct_values),
        top_values=[[iso(distinct_values[i]), int(counts[i])] for i in top],
        datetime={
            "min": iso(lo),
            "max": iso(hi),
            "range_seconds": float((hi - lo) * step),
            "median": iso(at_rank((n - 1) // 2)),
            "quantiles": {f"{q:g}": iso(at_rank(round(q * (n - 1)))) for q in QUANTILES},
            "largest_gap_seconds": float(gaps.max() * step) if len(gaps) else 0.0,
            "largest_gap_after": iso(distinct_values[int(np.argmax(gaps))]) if len(gaps) else None,
            "timezone": getattr(typ, "tz", None),
            "has_time": has_time,
            "period": periods,
            "weekday": weekday.tolist(),
            "hour": (
                np.bincount(seconds // 3600 % 24, minlength=24).tolist()
                if has_time and seconds is not None
                else None
            ),
            "monotonic": monotonic(present) if stats["missing"] == 0 else None,
        },
    )
    data.values = None


def _by_period(values: np.ndarray, cum: np.ndarray, unit: str) -> dict[str, Any]:
    """Rows per calendar period (the finest of second…year with at most MAX_PERIODS), from
    the sorted distinct values and the cumulative row count up to each."""
    lo = np.datetime64(int(values[0]), unit)
    hi = np.datetime64(int(values[-1]), unit)
    name, code = _PERIODS[-1]
    for period in _PERIODS:
        code = period[1]
        count = (
            int(
                (hi.astype(f"datetime64[{code}]") - lo.astype(f"datetime64[{code}]")).astype(
                    np.int64
                )
            )
            + 1
        )
        if count <= MAX_PERIODS:
            name = period[0]
            break
    first = lo.astype(f"datetime64[{code}]")
    last = hi.astype(f"datetime64[{code}]")
    edges = np.arange(first, last + np.timedelta64(2, code))
    cut = np.searchsorted(values, edges.astype(f"datetime64[{unit}]").astype(np.int64), "left")
    before = np.concatenate(([0], cum))
    counts = np.diff(before[cut])
    return {
        "unit": name,
        "starts": [str(e) for e in edges[:-1]],
        "counts": counts.tolist(),
        "empty_periods": int(np.count_nonzero(counts == 0)),
    }
