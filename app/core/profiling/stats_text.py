"""Statistics of text-like columns: values, lengths and what kinds of values they hold.

The column is dictionary-encoded once; lengths and kinds (number, date, boolean, text) are
computed over its distinct values and weighted by their counts, so a million rows of a few
thousand distinct strings cost what the few thousand cost.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.core.profiling.arrays import ColumnData, dot, encode, json_value, top_indices
from app.core.profiling.settings import ProfileSettings

_NUMBER = r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$"
_DATE = r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*$|^\s*\d{1,2}[-/.]\d{1,2}[-/.]\d{4}\s*$"  # noqa: E501
_BOOL_WORDS = ("true", "false", "yes", "no")
TRUE_WORDS = {"true", "yes", "y", "t", "1"}


def strings(
    column: pa.ChunkedArray, stats: dict, data: ColumnData, settings: ProfileSettings
) -> None:
    codes, labels, counts = encode(column)
    data.codes, data.labels, data.counts = codes, labels, counts
    distinct = len(labels)
    stats["distinct"] = distinct
    top = top_indices(counts, settings.top_values)
    stats["top_values"] = [[json_value(labels[int(i)].as_py()), int(counts[i])] for i in top]
    if stats["role"] == "boolean":
        words = [str(v).strip().lower() for v in labels.to_pylist()]
        trues = int(sum(c for w, c in zip(words, counts, strict=True) if w in TRUE_WORDS))
        present = int(counts.sum())
        stats["boolean"] = {
            "true": trues,
            "false": present - trues,
            "true_share": trues / present if present else None,
            "balance": (min(trues, present - trues) / max(trues, present - trues))
            if present
            else None,
        }
        data.values = np.where(codes < 0, np.nan, 0.0)
        is_true = np.array([w in TRUE_WORDS for w in words], dtype=bool)
        if len(is_true):
            data.values[codes >= 0] = is_true[codes[codes >= 0]].astype(np.float64)
    lengths = pc.utf8_length(labels).to_numpy(zero_copy_only=False).astype(np.int64)
    stats["text"] = _length_stats(lengths, counts) | {
        "kinds": _kinds(labels, counts),
        "examples": [json_value(v) for v in labels.slice(0, 5).to_pylist()],
    }


def _length_stats(lengths: np.ndarray, counts: np.ndarray) -> dict[str, Any]:
    n = int(counts.sum())
    if not n:
        return {}
    by_length = np.bincount(lengths, weights=counts).astype(np.int64)
    cum = np.cumsum(by_length)
    present = np.flatnonzero(by_length)
    median = int(np.searchsorted(cum, (n - 1) // 2, "right"))
    hist_len = by_length[: int(lengths.max()) + 1]
    if len(hist_len) > 60:  # long texts: 50 equal-width bins of lengths
        edges = np.linspace(0, len(hist_len), 51)
        counts_b, _ = np.histogram(np.arange(len(hist_len)), bins=edges, weights=hist_len)
        histogram = {"edges": edges.tolist(), "counts": counts_b.astype(np.int64).tolist()}
    else:
        histogram = {
            "edges": (np.arange(len(hist_len) + 1) - 0.5).tolist(),
            "counts": hist_len.tolist(),
        }
    return {
        "length_min": int(present[0]),
        "length_max": int(present[-1]),
        "length_mean": dot(lengths.astype(np.float64), counts.astype(np.float64)) / n,
        "length_median": median,
        "empty": int(by_length[0]) if len(by_length) else 0,
        "length_histogram": histogram,
    }


def _kinds(labels: pa.Array, counts: np.ndarray) -> dict[str, int]:
    """How many values (rows) look like numbers, dates, booleans or other text."""
    if not len(labels):
        return {}
    number = pc.match_substring_regex(labels, _NUMBER).to_numpy(zero_copy_only=False)
    date = pc.match_substring_regex(labels, _DATE).to_numpy(zero_copy_only=False)
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(labels))
    boolean = pc.is_in(lowered, pa.array(_BOOL_WORDS)).to_numpy(zero_copy_only=False)
    kinds = np.full(len(labels), 3)
    kinds[boolean] = 2
    kinds[date] = 1
    kinds[number] = 0
    totals = np.bincount(kinds, weights=counts, minlength=4).astype(np.int64)
    return {
        k: int(v) for k, v in zip(("number", "date", "boolean", "text"), totals, strict=True) if v
    }
