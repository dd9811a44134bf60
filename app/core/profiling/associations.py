"""Pairwise associations on a row sample: Pearson, Spearman, Cramér's V, correlation ratio.

Every pair uses the rows where both columns are present (pairwise-complete, as pandas'
``corr`` and ``scipy.stats.spearmanr(..., nan_policy="omit")`` do). Spearman ranks are
averaged over ties; a pair with missing values is re-ranked on its common rows in linear
time from each column's one sort. Cramér's V is Bergsma's bias-corrected estimate; the
correlation ratio η is sqrt(between-group / total sum of squares) of a numeric column grouped
by a categorical one. Categorical columns keep their ``max_categories`` most frequent values
by name and group the rest as one "(other)" category; near-unique columns are left out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.core.profiling.arrays import ColumnData, Sample, SampledNumbers, dot
from app.core.profiling.settings import ProfileSettings

NUMERIC_ROLES = ("numeric",)
CATEGORICAL_ROLES = ("categorical", "boolean")


def lumped_codes(
    data: ColumnData, rows: np.ndarray, max_categories: int
) -> tuple[np.ndarray, int, np.ndarray]:
    """The sampled codes renumbered by frequency (0 is the most frequent value), categories
    beyond ``max_categories`` grouped as one last code, -1 still missing.

    Returns (codes, number of codes, original code of each category kept by name).
    """
    assert data.codes is not None and data.counts is not None
    counts = data.counts
    k = len(counts)
    codes = data.codes[rows]
    if k == 0:
        return codes, 0, np.zeros(0, dtype=np.int64)
    if k > max_categories:
        top = np.argpartition(-counts, max_categories - 1)[:max_categories]
    else:
        top = np.arange(k)
    kept = top[np.lexsort((top, -counts[top]))]
    lut = np.full(k, len(kept), dtype=np.int32)
    lut[kept] = np.arange(len(kept), dtype=np.int32)
    lumped = np.where(codes < 0, -1, lut[np.maximum(codes, 0)])
    return lumped, len(kept) + (1 if k > len(kept) else 0), kept


def pick_columns(
    columns: list[ColumnData], stats: dict[str, dict], settings: ProfileSettings
) -> tuple[list[ColumnData], list[ColumnData], dict[str, str]]:
    numeric, categorical, excluded = [], [], {}
    for data in columns:
        st = stats[data.name]
        if not data.usable:
            excluded[data.name] = "no usable values"
        elif st.get("distinct", 0) <= 1:
            excluded[data.name] = "constant"
        elif data.role in NUMERIC_ROLES and data.values is not None:
            numeric.append(data)
        elif data.role in CATEGORICAL_ROLES and data.codes is not None:
            present = st["count"]
            if st["distinct"] > settings.max_categories and st["distinct"] > 0.5 * present:
                excluded[data.name] = "nearly every value differs"
            else:
                categorical.append(data)
        else:
            excluded[data.name] = f"{data.role} columns are not compared"
    return numeric, categorical, excluded


def compute(
    columns: list[ColumnData],
    stats: dict[str, dict],
    rows: np.ndarray | Sample,
    total_rows: int,
    settings: ProfileSettings,
) -> dict[str, Any]:
    sample = rows if isinstance(rows, Sample) else Sample(rows, total_rows)
    rows = sample.rows
    numeric, categorical, excluded = pick_columns(columns, stats, settings)
    nums = [_Numeric(sample.numbers(d)) for d in numeric]
    cats = [_Categorical(*lumped_codes(d, rows, settings.max_categories)) for d in categorical]
    p, c = len(nums), len(cats)
    pearson, spearman_m = np.eye(p), np.eye(p)
    for i in range(p):
        for j in range(i + 1, p):
            a, b = nums[i], nums[j]
            if a.complete and b.complete:
                r = dot(a.z, b.z)
                rho = dot(a.rank_z, b.rank_z)
            else:
                both = a.valid & b.valid
                r = _pearson(a.x[both], b.x[both])
                rho = _pearson(a.ranks_within(both, b), b.ranks_within(both, a))
            pearson[i, j] = pearson[j, i] = _clip(r)
            spearman_m[i, j] = spearman_m[j, i] = _clip(rho)
    cramers = np.eye(c)
    for i in range(c):
        for j in range(i + 1, c):
            cramers[i, j] = cramers[j, i] = cramers_v(
                cats[i].codes, cats[j].codes, cats[i].k, cats[j].k
            )
    ratio = np.zeros((p, c))
    for i, a in enumerate(nums):
        for j, g in enumerate(cats):
            if a.complete and g.complete:
                ratio[i, j] = _eta_centered(a.centered, a.sumsq, g.codes, g.k, g.sizes)
            else:
                ratio[i, j] = correlation_ratio(a.x, g.codes, g.k)
    names_n = [d.name for d in numeric]
    names_c = [d.name for d in categorical]
    pairs = _pairs(names_n, names_c, pearson, spearman_m, cramers, ratio)
    return {
        "rows": total_rows,
        "sample_rows": len(rows),
        "sampled": len(rows) < total_rows,
        "numeric": names_n,
        "categorical": names_c,
        "pearson": _matrix(pearson),
        "spearman": _matrix(spearman_m),
        "cramers_v": _matrix(cramers),
        "correlation_ratio": _matrix(ratio),
        "pairs": pairs,
        "excluded": excluded,
        "grouped": {
            d.name: settings.max_categories
            for d, g in zip(categorical, cats, strict=True)
            if g.k > settings.max_categories
        },
    }


class _Numeric:
    """A sampled numeric column with what every pair needs, computed once."""

    def __init__(self, numbers: SampledNumbers) -> None:
        x = numbers.x
        self.x = x
        self.valid = numbers.valid
        self.complete = bool(self.valid.all())
        self.order = numbers.order  # NaN sort last
        if self.complete:
            self.centered = x - x.mean()
            self.sumsq = dot(self.centered, self.centered)
            self.z = _unit(self.centered, self.sumsq)
            ranks = _ranks(x, self.order, self.valid)
            rc = ranks - ranks.mean()
            self.rank_z = _unit(rc, dot(rc, rc))
        self._own_ranks: np.ndarray | None = None

    def ranks_within(self, both: np.ndarray, other: _Numeric) -> np.ndarray:
        """This column's ranks on the rows where it and ``other`` are both present. When
        ``other`` misses nothing, those are this column's own rows: ranked once, reused."""
        if other.complete:
            if self._own_ranks is None:
                self._own_ranks = _ranks(self.x, self.order, self.valid)[self.valid]
            return self._own_ranks
        return _ranks(self.x, self.order, both)[both]


class _Categorical:
    def __init__(self, codes: np.ndarray, k: int, _kept: np.ndarray) -> None:
        self.codes, self.k = codes, k
        self.complete = bool((codes >= 0).all())
        self.sizes = np.bincount(np.maximum(codes, 0), minlength=k)


def _unit(centered: np.ndarray, sumsq: float) -> np.ndarray:
    return centered / math.sqrt(sumsq) if sumsq > 0 else np.full(len(centered), np.nan)


def _clip(v: float) -> float:
    return max(-1.0, min(1.0, v)) if math.isfinite(v) else math.nan


def _eta_centered(
    centered: np.ndarray, sumsq: float, codes: np.ndarray, k: int, sizes: np.ndarray
) -> float:
    if sumsq <= 0:
        return math.nan
    sums = np.bincount(codes, weights=centered, minlength=k)
    nz = sizes > 0
    between = float((sums[nz] ** 2 / sizes[nz]).sum())
    return math.sqrt(max(0.0, min(1.0, between / sumsq)))


def _matrix(m: np.ndarray) -> list[list[float | None]]:
    return [[None if not math.isfinite(v) else round(float(v), 6) for v in row] for row in m]


def _pairs(
    names_n: list[str],
    names_c: list[str],
    pearson: np.ndarray,
    spearman: np.ndarray,
    cramers: np.ndarray,
    ratio: np.ndarray,
) -> list[dict[str, Any]]:
    """Every pair once with its strongest measure, strongest first."""
    out = []
    for i, a in enumerate(names_n):
        for j in range(i + 1, len(names_n)):
            values = {"pearson": pearson[i, j], "spearman": spearman[i, j]}
            method = max(values, key=lambda k: abs(values[k]) if math.isfinite(values[k]) else -1)
            out.append(
                {
                    "a": a,
                    "b": names_n[j],
                    "method": method,
                    "value": _f(values[method]),
                    "pearson": _f(pearson[i, j]),
                    "spearman": _f(spearman[i, j]),
                }
            )
    for i, a in enumerate(names_c):
        for j in range(i + 1, len(names_c)):
            out.append({"a": a, "b": names_c[j], "method": "cramers_v", "value": _f(cramers[i, j])})
    for i, a in enumerate(names_n):
        for j, b in enumerate(names_c):
            out.append({"a": a, "b": b, "method": "correlation_ratio", "value": _f(ratio[i, j])})
    out.sort(key=lambda d: -abs(d["value"]) if d["value"] is not None else 1.0)
    return out


def _f(v: float) -> float | None:
    return round(float(v), 6) if math.isfinite(v) else None


# -- measures ---------------------------------------------------------------------------------


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2:
        return math.nan
    da = a - a.mean()
    db = b - b.mean()
    denom = math.sqrt(dot(da, da) * dot(db, db))
    if denom == 0:
        return math.nan
    return max(-1.0, min(1.0, dot(da, db) / denom))


def _ranks(x: np.ndarray, order: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties averaged) of ``x`` among the rows in ``keep``.

    ``order`` is x's argsort; the kept rows in sorted order are read off it in linear time.
    Rows outside ``keep`` get NaN.
    """
    sub = order[keep[order]]
    v = x[sub]
    m = len(v)
    out = np.full(len(x), np.nan)
    if not m:
        return out
    tie = v[1:] == v[:-1]
    if not tie.any():  # no ties: the ranks are 1..m in sorted order
        out[sub] = np.arange(1.0, m + 1.0)
        return out
    starts = np.flatnonzero(np.concatenate(([True], ~tie)))
    ends = np.append(starts[1:], m)
    avg = (starts + ends - 1) / 2.0 + 1.0
    out[sub] = np.repeat(avg, ends - starts)
    return out


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho of two float arrays over their common non-NaN rows."""
    both = ~np.isnan(a) & ~np.isnan(b)
    ra = _ranks(a, np.argsort(a), both)[both]
    rb = _ranks(b, np.argsort(b), both)[both]
    return _pearson(ra, rb)


def contingency(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> np.ndarray:
    both = (a >= 0) & (b >= 0)
    table = np.bincount(a[both].astype(np.int64) * kb + b[both], minlength=ka * kb)
    table = table.reshape(ka, kb)
    return table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]


def cramers_v_table(table: np.ndarray) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013) of a contingency table."""
    n = float(table.sum())
    r, k = table.shape
    if n < 2 or r < 2 or k < 2:
        return math.nan
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float((((table - expected) ** 2) / expected).sum())
    phi2 = chi2 / n
    phi2corr = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    rcorr = r - (r - 1) ** 2 / (n - 1)
    kcorr = k - (k - 1) ** 2 / (n - 1)
    denom = min(kcorr - 1, rcorr - 1)
    if denom <= 0:
        return math.nan
    return min(1.0, math.sqrt(phi2corr / denom))


def cramers_v(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> float:
    return cramers_v_table(contingency(a, b, ka, kb))


def correlation_ratio(x: np.ndarray, codes: np.ndarray, k: int) -> float:
    """η of numeric ``x`` grouped by ``codes`` (rows where either is missing are dropped)."""
    both = ~np.isnan(x) & (codes >= 0)
    xv, cv = x[both], codes[both]
    if len(xv) < 2:
        return math.nan
    n_g = np.bincount(cv, minlength=k)
    sums = np.bincount(cv, weights=xv, minlength=k)
    mean = xv.mean()
    nonzero = n_g > 0
    between = float((n_g[nonzero] * (sums[nonzero] / n_g[nonzero] - mean) ** 2).sum())
    d = xv - mean
    total = dot(d, d)
    if total == 0:
        return math.nan
    return math.sqrt(max(0.0, min(1.0, between / total)))
