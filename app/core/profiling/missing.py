"""Missing values across columns, and duplicate rows.

The missing-value matrix shows a sorted random sample of rows (row order kept, so blocks of
missing values at the start or end of a file stay visible); the co-occurrence counts and the
nullity correlation are exact over every row, computed on bit-packed masks.

Duplicate rows are counted exactly over every row from one 64-bit hash per row built from the
columns' codes; a column whose values are all distinct proves there is none without hashing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from app.core.profiling.arrays import ColumnData, json_value, sample_indices


def missing_values(columns: list[ColumnData], rows: int, settings: Any) -> dict[str, Any]:
    with_missing = [d for d in columns if d.missing is not None and d.missing.any()]
    sample = sample_indices(rows, settings.missing_matrix_rows, settings.seed + 1)
    matrix = {
        "rows": [int(r) for r in sample],
        "columns": [d.name for d in columns],
        "missing": {d.name: np.flatnonzero(d.missing[sample]).tolist() for d in with_missing},
    }
    names = [d.name for d in with_missing]
    k = len(with_missing)
    counts = np.zeros((k, k), dtype=np.int64)
    packed = [np.packbits(d.missing) for d in with_missing]  # type: ignore[arg-type]
    for i in range(k):
        counts[i, i] = int(with_missing[i].missing.sum())  # type: ignore[union-attr]
        for j in range(i + 1, k):
            counts[i, j] = counts[j, i] = _popcount(packed[i] & packed[j])
    corr = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            corr[i, j] = corr[j, i] = _phi(counts[i, i], counts[j, j], counts[i, j], rows)
    rows_with_any = 0
    if k:
        any_missing = np.zeros(len(packed[0]), dtype=np.uint8)
        for p in packed:
            any_missing |= p
        rows_with_any = _popcount(any_missing)
    return {
        "matrix": matrix,
        "cooccurrence": {
            "columns": names,
            "counts": counts.tolist(),
            "correlation": [
                [None if np.isnan(v) else round(float(v), 6) for v in row] for row in corr
            ],
        },
        "rows_with_missing": rows_with_any,
    }


def _popcount(bits: np.ndarray) -> int:
    if hasattr(np, "bitwise_count"):
        return int(np.bitwise_count(bits).sum())
    return int(np.unpackbits(bits).sum())  # numpy < 2.0


def _phi(a: int, b: int, both: int, n: int) -> float:
    """Pearson correlation of two missing indicators from their counts."""
    pa_, pb = a / n, b / n
    denom = pa_ * (1 - pa_) * pb * (1 - pb)
    if denom <= 0:
        return float("nan")
    return (both / n - pa_ * pb) / denom**0.5


# -- duplicates -------------------------------------------------------------------------------

_MIX = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = x + _MIX
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def duplicate_rows(
    table: pa.Table, columns: list[ColumnData], stats: dict[str, dict], examples: int
) -> dict[str, Any]:
    rows = table.num_rows
    for data in columns:
        st = stats[data.name]
        if st.get("distinct") == rows and st["missing"] == 0:
            return {
                "count": 0,
                "share": 0.0,
                "examples": [],
                "method": f"none possible: every value of '{data.name}' differs",
            }
    with np.errstate(over="ignore"):
        h = np.zeros(rows, dtype=np.uint64)
        for data in columns:
            h = _splitmix(h ^ data.row_key())
    order = np.argsort(h, kind="stable")
    hs = h[order]
    same = hs[1:] == hs[:-1]
    count = int(same.sum())
    out: dict[str, Any] = {
        "count": count,
        "share": count / rows if rows else 0.0,
        "examples": [],
        "method": "exact (64-bit row hashes)",
    }
    if count and examples:
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        sizes = np.diff(np.append(starts, rows))
        groups = np.flatnonzero(sizes > 1)
        top = groups[np.argsort(-sizes[groups], kind="stable")[:examples]]
        first_rows = order[starts[top]]
        sample = table.take(pa.array(first_rows))
        names = table.column_names
        records = sample.to_pylist()
        out["columns"] = names
        out["examples"] = [
            {"row": int(r), "count": int(sizes[g]), "values": [json_value(rec[c]) for c in names]}
            for r, g, rec in zip(first_rows, top, records, strict=True)
        ]
    return out
