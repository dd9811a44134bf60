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

from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput

if TYPE_CHECKING:
    from app.core.datasets import DatasetService
    from app.core.training.request import TrainPlan


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


# -- the folds a plan will fit on, checked before any run exists ------------------------------


def fold_fit_sizes(
    y: Any, *, task: str, validation: str, folds: int, repeats: int, test_size: float, seed: int
) -> list[int]:
    """The number of rows each fold fits on, after refusing folds a model cannot train on.

    ``y`` is the target in training order (rows with a target; time order for time series).
    Raises ``InvalidInput`` when stratification asks for more folds than the smallest class
    has training rows, or when a fold would train on rows of a single class.
    """
    import numpy as np

    y = np.asarray(y)
    classification = task != "regression"
    labels: Any = ()
    if classification:  # integer codes in sorted label order split exactly as the labels do
        labels, y = _codes(y)
    train_rows, _ = holdout_split(
        y, task=task, validation=validation, test_size=test_size, seed=seed
    )
    y_train = y[train_rows]
    held = f" (after the {test_size:.0%} held out for testing)" if len(train_rows) < len(y) else ""
    if classification and validation in ("stratified", "repeated"):
        counts = np.bincount(y_train, minlength=len(labels))
        present = np.flatnonzero(counts)
        smallest = int(present[counts[present].argmin()])
        if counts[smallest] < folds:
            fits = int(counts[smallest])
            raise InvalidInput(
                f"{folds} folds is more than the {fits} training row(s) of class "
                f"'{labels[smallest]}'{held}: stratified cross-validation puts rows of every "
                f"class in each fold.",
                hint=(
                    f"The largest cv allowed is {fits}."
                    if fits >= 2
                    else "Add rows of that class, leave it out, or use kfold validation."
                ),
            )
    splits = _splits(y_train, task, validation, folds, repeats, seed)
    if classification:
        _refuse_single_class_folds(y_train, labels, splits, task, validation, folds, seed)
    return [len(fit) for fit, _ in splits]


def _codes(y: Any) -> tuple[Any, Any]:
    """(sorted labels, integer code per row); labels of mixed types sort as text."""
    import numpy as np

    try:
        return np.unique(y, return_inverse=True)
    except TypeError:
        return np.unique(y.astype(str), return_inverse=True)


def _splits(y_train: Any, task: str, validation: str, folds: int, repeats: int, seed: int) -> list:
    import numpy as np

    splitter = make_splitter(validation, task, folds, repeats, seed)
    return list(splitter.split(np.zeros((len(y_train), 1)), y_train))


def _refuse_single_class_folds(
    y_train: Any, labels: Any, splits: list, task: str, validation: str, folds: int, seed: int
) -> None:
    import numpy as np

    def one_class(fit: Any) -> bool:
        return bool((np.bincount(y_train[fit], minlength=len(labels)) > 0).sum() < 2)

    for k, (fit, _) in enumerate(splits, start=1):
        if not one_class(fit):
            continue
        hint = "Use stratified validation, which puts rows of every class in each fold"
        if validation == "timeseries":
            fewer = next(
                (
                    n
                    for n in range(folds - 1, 1, -1)
                    if not any(
                        one_class(f) for f, _ in _splits(y_train, task, validation, n, 1, seed)
                    )
                ),
                None,
            )
            if fewer:
                hint += f", or fewer folds (at most {fewer})"
        which = {"timeseries": "time-series", "repeated": "repeated"}.get(validation, "K-fold")
        rows = f"the first {len(fit)} rows" if validation == "timeseries" else f"{len(fit)} rows"
        label = labels[y_train[fit[0]]]
        raise InvalidInput(
            f"Fold {k} of {len(splits)} of the {which} validation trains on {rows}, all of "
            f"class '{label}': a classifier needs at least two classes to learn from.",
            hint=hint + ".",
        )


def target_in_training_order(plan: TrainPlan, datasets: DatasetService) -> Any:
    """The target as the worker will see it: rows with a target, in time order if asked.

    Reads only the target (and time) column, unless a recipe's row steps need every input.
    """
    from dataclasses import replace

    from app.core.training.trainer import load_frame, prepare_xy

    if plan.recipe:
        _, y = prepare_xy(load_frame(plan, datasets), plan)
        return y
    bare = replace(plan, columns=(), inputs=())  # no features: load the target (and time)
    _, y = prepare_xy(load_frame(bare, datasets), bare)
    return y
