"""Leakage scores: how well one feature alone predicts the target on rows it did not see.

Each row's target is predicted from *other* rows (leave-one-out), so no row grades itself:

* a numeric (or date) feature: from the target of the row nearest in the feature's value
  (1-nearest-neighbour in one dimension: another row of the same value, else a row of the
  closer of the next lower and next higher values, picked at random so that the file's row
  order cannot leak in); rows where the feature is missing form one group, as below;
* a categorical feature: from the other rows of the same category (the majority class, or
  the mean), falling back to the overall majority or mean for a category seen once.

No bins: a quantile binning of a small sample puts class boundaries inside bins and leaves
bins without training rows, which caps a perfect leak well below 1 (0.94 on breast-cancer's
569 rows with 100 bins on half of them; 0.87 on iris with 7). The nearest neighbour of a
row in a feature computed from the target has that target whatever the sample size, so a
leak scores ≈ 1 on 150 rows as on a million. For an honest feature the score is
conservative: both the row and its neighbour carry the noise, so it expects about
2·R² − 1 for a numeric target and an error rate up to twice the best classifier's for a
class target (Cover & Hart). On scikit-learn's small data sets the strongest honest features
score at most 0.93 (iris petal length and width, over 30 seeds of the tie order; breast
cancer's best 0.71, wine's 0.52), leaks planted as ``3 × target + N(0, 0.01)`` 1.000; the
default threshold 0.95 lies between.

The score is the held-out gain over always guessing the training majority class (Goodman–
Kruskal λ) for a class target and the held-out R² for a numeric one, floored at 0. Cost:
a few passes over the feature's values on the profile's row sample, already sorted for the
associations (only dates are sorted here).
"""

from __future__ import annotations

import math

import numpy as np


def nearest_targets(
    x_sorted: np.ndarray, positions: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, their nearest neighbours' rows) for the valid values ``x_sorted`` (ascending)
    sitting at ``positions`` of the analysed rows.

    A value held by several rows: a random other row of the same value. A value held by one
    row: a random row of the nearer neighbouring value. Random, because the order of equal
    values is the file's row order, which may itself follow the target. No sort: O(n).
    """
    n = len(x_sorted)
    if n < 2:
        return positions[:0], positions[:0]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(x_sorted[1:], x_sorted[:-1], out=new[1:])
    starts = np.flatnonzero(new)  # one run per distinct value
    run = np.cumsum(new) - 1
    lengths = np.diff(np.append(starts, n))
    size = lengths[run]
    first = starts[run]
    u = rng.random(n)
    same = first + (np.arange(n) - first + 1 + (u * (size - 1)).astype(np.int64)) % size
    gaps = np.diff(x_sorted[starts])
    left = np.concatenate(([np.inf], gaps))
    right = np.concatenate((gaps, [np.inf]))
    k = len(starts)
    nearer = np.clip(np.where(left <= right, np.arange(k) - 1, np.arange(k) + 1), 0, k - 1)[run]
    other = starts[nearer] + (rng.random(n) * lengths[nearer]).astype(np.int64)
    neighbour = np.where(size >= 2, same, other)
    return positions, positions[neighbour]


def sort_valid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted valid values, their positions in ``x``) for a feature without a shared sort."""
    valid = np.flatnonzero(~np.isnan(x))
    order = valid[np.argsort(x[valid], kind="stable")]
    return x[order], order


def class_score(
    y: np.ndarray,
    ky: int,
    *,
    nearest: tuple[np.ndarray, np.ndarray] | None = None,
    groups: np.ndarray | None = None,
) -> float:
    """λ of the leave-one-out predictions: ``nearest`` (rows, neighbour rows) predicted from
    the neighbour's class, every other row with a ``groups`` code ≥ 0 from its group."""
    keep = y >= 0
    pred = np.full(len(y), -1, dtype=np.int64)
    overall = np.bincount(y[keep], minlength=ky)
    if nearest is not None:
        rows, nb = nearest
        pred[rows] = y[nb]
    if groups is not None:
        todo = (pred < 0) & (groups >= 0) & keep
        if todo.any():
            pred[todo] = _group_majority(groups[todo], y[todo], ky, overall)
    scored = keep & (pred >= 0)
    if scored.sum() < 2:
        return math.nan
    base = float(np.bincount(y[scored], minlength=ky).max() / scored.sum())
    if base >= 1.0:
        return math.nan
    accuracy = float((pred[scored] == y[scored]).mean())
    return max(0.0, (accuracy - base) / (1.0 - base))


def _group_majority(g: np.ndarray, y: np.ndarray, ky: int, overall: np.ndarray) -> np.ndarray:
    """Each row's group's majority class without the row itself (the overall majority
    without it for a row alone in its group)."""
    kg = int(g.max()) + 1
    if kg * ky > 4 * len(g):  # sparse codes (many categories, few in the sample): renumber
        uniq, g = np.unique(g, return_inverse=True)
        kg = len(uniq)
    own = np.bincount(g * ky + y, minlength=kg * ky).reshape(kg, ky)[g]  # rows × classes
    rows = np.arange(len(g))
    own[rows, y] -= 1
    alone = own.sum(axis=1) == 0
    own[alone] = overall
    own[rows[alone], y[alone]] -= 1
    return own.argmax(axis=1)


def regression_score(
    y: np.ndarray,
    *,
    nearest: tuple[np.ndarray, np.ndarray] | None = None,
    groups: np.ndarray | None = None,
) -> float:
    """R² of the leave-one-out predictions (see ``class_score``), floored at 0."""
    n = len(y)
    if n < 3:
        return math.nan
    pred = np.full(n, np.nan)
    if nearest is not None:
        rows, nb = nearest
        pred[rows] = y[nb]
    if groups is not None:
        todo = np.isnan(pred) & (groups >= 0)
        if todo.any():
            g = groups[todo]
            kg = int(g.max()) + 1
            count = np.bincount(g, minlength=kg)[g] - 1
            total = np.bincount(g, weights=y[todo], minlength=kg)[g] - y[todo]
            overall = (y.sum() - y[todo]) / (n - 1)
            pred[todo] = np.where(count > 0, total / np.maximum(count, 1), overall)
    scored = ~np.isnan(pred)
    if scored.sum() < 2:
        return math.nan
    ys = y[scored]
    sst = float(((ys - ys.mean()) ** 2).sum())
    if sst == 0:
        return math.nan
    resid = ys - pred[scored]
    return max(0.0, 1.0 - float((resid * resid).sum()) / sst)
