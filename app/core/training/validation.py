"""How rows are split: a held-out test share first, then cross-validation on the rest.

Everything is a plain scikit-learn splitter seeded with the run's seed, so the exported
script and a test can rebuild the very same folds with scikit-learn alone:

    kfold       KFold(k, shuffle=True, random_state=seed)
    stratified  StratifiedKFold(k, shuffle=True, random_state=seed)
    repeated    Repeated[Stratified]KFold(n_splits=k, n_repeats=r, random_state=seed)
    timeseries  TimeSeriesSplit(k)  (rows in time order; the test share is the last rows)

The held-out split is ``train_test_split(arange(n), test_size, random_state=seed,
stratify=y)`` for classification when every class has at least two rows, else unstratified.
"""

from __future__ import annotations

from typing import Any


def make_splitter(validation: str, task: str, folds: int, repeats: int, seed: int) -> Any:
    from sklearn.model_selection import (
        KFold,
        RepeatedKFold,
        RepeatedStratifiedKFold,
        StratifiedKFold,
        TimeSeriesSplit,
    )

    classification = task != "regression"
    if validation == "timeseries":
        return TimeSeriesSplit(n_splits=folds)
    if validation == "repeated":
        cls = RepeatedStratifiedKFold if classification else RepeatedKFold
        return cls(n_splits=folds, n_repeats=repeats, random_state=seed)
    if validation == "stratified":
        return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return KFold(n_splits=folds, shuffle=True, random_state=seed)


def can_stratify(y: Any, minimum: int = 2) -> bool:
    import numpy as np

    _, counts = np.unique(np.asarray(y), return_counts=True)
    return len(counts) > 1 and int(counts.min()) >= minimum


def holdout_split(
    y: Any, *, task: str, validation: str, test_size: float, seed: int
) -> tuple[Any, Any]:
    """(train row positions, test row positions); the test part is empty for test_size 0."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    n = len(y)
    rows = np.arange(n)
    n_test = round(n * test_size)
    if test_size <= 0 or n_test == 0:
        return rows, rows[:0]
    if validation == "timeseries":
        return rows[: n - n_test], rows[n - n_test :]
    stratify = y if task != "regression" and can_stratify(y) else None
    train, test = train_test_split(rows, test_size=test_size, random_state=seed, stratify=stratify)
    return train, test


def describe(validation: str, folds: int, repeats: int, test_size: float) -> str:
    """'stratified 5-fold, 20% held out' for tags and the detail view."""
    scheme = {
        "kfold": f"{folds}-fold",
        "stratified": f"stratified {folds}-fold",
        "repeated": f"{repeats}× repeated {folds}-fold",
        "timeseries": f"time-series {folds} splits",
    }.get(validation, validation)
    held = f", {test_size:.0%} held out" if test_size > 0 else ", no held-out test"
    return scheme + held
