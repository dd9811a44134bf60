"""Arrow columns as the numpy arrays the statistics need, and the helpers they share.

``ColumnData`` is what one column's statistics leave behind for the later stages: a float
view with NaN for missing values (numeric columns), integer codes with -1 for missing values
(categorical, boolean and text columns), and the missing mask. Associations, target analysis,
the missing-value views and the duplicate-row count all read these instead of the table, so
every column is converted once.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass
class ColumnData:
    name: str
    role: str
    rows: int
    missing: np.ndarray | None = None  # bool per row; None when nothing is missing
    values: np.ndarray | None = None  # float64 per row, NaN where missing (numeric, boolean)
    codes: np.ndarray | None = None  # int32 per row, -1 where missing (categories)
    labels: pa.Array | None = None  # the value of each code (an Arrow array, not a list)
    counts: np.ndarray | None = None  # rows per code
    key: np.ndarray | None = None  # uint64 per row, equal for equal values (duplicate rows)
    usable: bool = True  # False: no value to compute with (all missing, all infinite)

    def label(self, code: int) -> Any:
        if self.labels is None or code < 0:
            return None
        return json_value(self.labels[int(code)].as_py())

    def row_key(self) -> np.ndarray:
        """A uint64 per row that is equal for equal values, missing included."""
        if self.key is not None:
            return self.key
        if self.codes is not None:
            return self.codes.astype(np.int64).view(np.uint64)
        if self.values is not None:
            v = self.values.copy()
            v[v == 0.0] = 0.0  # -0.0 and 0.0 are one value
            v[np.isnan(v)] = np.nan  # one NaN pattern
            return v.view(np.uint64)
        return np.zeros(self.rows, dtype=np.uint64)


def json_value(value: Any) -> Any:
    """A value as JSON can hold it: non-finite floats become None, dates ISO strings."""
    if value is None:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str | int | bool):
        return value
    return str(value)


def clean(obj: Any) -> Any:
    """Recursively make ``obj`` strict JSON (no NaN/inf, no numpy scalars)."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    return json_value(obj)


def is_string_type(typ: pa.DataType) -> bool:
    return (
        pa.types.is_string(typ)
        or pa.types.is_large_string(typ)
        or (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(typ))
    )


def float_values(column: pa.ChunkedArray) -> np.ndarray:
    """Any numeric column as float64 per row, NaN for missing."""
    typ = column.type
    if pa.types.is_decimal(typ) or pa.types.is_integer(typ) or pa.types.is_floating(typ):
        if not pa.types.is_float64(typ):
            column = pc.cast(column, pa.float64())
        if column.null_count:
            column = pc.fill_null(column, np.nan)
        return column.to_numpy()
    raise TypeError(f"not numeric: {typ}")


def integer_values(column: pa.ChunkedArray) -> np.ndarray:
    """The present values of an integer column as int64 (nulls dropped)."""
    if column.null_count:
        column = pc.drop_null(column)
    if not pa.types.is_int64(column.type):
        column = pc.cast(column, pa.int64())
    return column.to_numpy()


def missing_mask(column: pa.ChunkedArray) -> np.ndarray | None:
    mask = None
    if column.null_count:
        mask = pc.is_null(column).to_numpy()
    if pa.types.is_floating(column.type) and len(column):
        nan = pc.is_nan(pc.fill_null(column, 0.0)).to_numpy()
        if nan.any():
            mask = nan if mask is None else (mask | nan)
    return mask


def encode(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """Dictionary codes (-1 for missing), the distinct values, and rows per value.

    A column that is already dictionary-encoded (read so from the Parquet snapshot) keeps its
    dictionary: only the indices are counted, the strings are never materialised.
    """
    if pa.types.is_dictionary(column.type):
        encoded = column.unify_dictionaries()
        value_type = column.type.value_type
    else:
        encoded = pc.dictionary_encode(column, null_encoding="mask")
        value_type = column.type
    chunks = encoded.chunks
    if chunks:
        labels = chunks[0].dictionary
        indices = pa.chunked_array([c.indices for c in chunks], type=chunks[0].indices.type)
    else:
        labels = pa.array([], type=value_type)
        indices = pa.chunked_array([], type=pa.int32())
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    codes = indices.to_numpy().astype(np.int32, copy=False)
    counts = np.bincount(codes + 1, minlength=len(labels) + 1)[1:]
    if len(counts) and not counts.all():  # dictionary entries no row uses: drop them
        used = np.flatnonzero(counts)
        lut = np.full(len(counts) + 1, -1, dtype=np.int32)
        lut[used + 1] = np.arange(len(used), dtype=np.int32)
        codes = lut[codes + 1]
        labels = labels.take(pa.array(used))
        counts = counts[used]
    return codes, labels, counts


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of a * b without BLAS: OpenBLAS wakes its threads for every 1-D ``np.dot``, which
    costs milliseconds per call on a busy machine (more than the product itself)."""
    if len(a) > 300_000:
        return float(np.multiply(a, b).sum())
    return float(np.einsum("i,i->", a, b))


def quantile_sorted(s: np.ndarray, q: float) -> float:
    """numpy's default ('linear') quantile of an already sorted array."""
    pos = q * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    frac = pos - lo
    a, b = float(s[lo]), float(s[hi])
    return a + (b - a) * frac if frac else a


def sample_indices(rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted row numbers of a uniform sample (all rows when ``size`` covers them)."""
    if rows <= size:
        return np.arange(rows)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(rows, size=size, replace=False))


@dataclass(frozen=True)
class SampledNumbers:
    x: np.ndarray  # float64 on the sampled rows, NaN where missing or infinite
    valid: np.ndarray  # bool
    order: np.ndarray  # argsort of x (NaN last)


class Sample:
    """The sampled rows, and each numeric column's values and sort order on them, computed
    once and shared by the association and target stages (which run on different threads)."""

    def __init__(self, rows: np.ndarray, total_rows: int) -> None:
        self.rows = rows
        self.total_rows = total_rows
        self._numbers: dict[str, SampledNumbers] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.rows)

    def numbers(self, data: ColumnData) -> SampledNumbers:
        with self._lock:
            lock = self._locks.setdefault(data.name, threading.Lock())
        with lock:
            found = self._numbers.get(data.name)
            if found is None:
                assert data.values is not None
                x = data.values[self.rows]
                x = np.where(np.isfinite(x), x, np.nan)
                found = SampledNumbers(x, ~np.isnan(x), np.argsort(x))
                self._numbers[data.name] = found
            return found


def top_indices(counts: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest counts, largest first (ties by position)."""
    if len(counts) > k and counts.max() <= 1:
        return np.arange(k)
    part = np.argpartition(-counts, k - 1)[:k] if len(counts) > k else np.arange(len(counts))
    return part[np.lexsort((part, -counts[part]))]


def monotonic(values: np.ndarray) -> str | None:
    if len(values) < 2:
        return None
    d = np.diff(values)
    if (d >= 0).all():
        return "increasing" if (d > 0).all() else "non-decreasing"
    if (d <= 0).all():
        return "decreasing" if (d < 0).all() else "non-increasing"
    return None
