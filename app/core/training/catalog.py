"""The estimator catalog: what can be trained, its parameters, and where tuning searches.

Each ``EstimatorSpec`` carries the typed parameters a form is generated from
(``ParamSpec``: kind, default, valid bounds, choices, help), a ``build(task, params, seed)``
that returns an unfitted scikit-learn estimator, and the Optuna search space kept beside it
(``space``: data the Tuning panel can edit; ``search_space(trial, task)`` samples it).

Tasks are ``binary``, ``multiclass`` and ``regression``; a spec lists the task *kinds* it
serves (``classification``, ``regression``). Parameters whose meaning would be "no limit" in
scikit-learn (``max_depth=None``) are integers where 0 means no limit, so every form field
has one type.
"""

from __future__ import annotations

from app.core.errors import InvalidInput
from app.core.training import estimators_boost
from app.core.training.estimators import SPECS as SKLEARN_SPECS
from app.core.training.params import (
    KINDS,
    TASKS,
    Builder,
    EstimatorSpec,
    ParamSpec,
    SearchDim,
    coerce_params,
    task_kind,
)

__all__ = [
    "DEFAULT_ESTIMATOR",
    "ESTIMATORS",
    "KINDS",
    "TASKS",
    "Builder",
    "EstimatorSpec",
    "ParamSpec",
    "SearchDim",
    "coerce_params",
    "for_task",
    "get",
    "missing",
    "task_kind",
]

#: scikit-learn's, then the optional libraries' that are installed (``estimators_boost``)
SPECS = (*SKLEARN_SPECS, *estimators_boost.SPECS)
ESTIMATORS: dict[str, EstimatorSpec] = {spec.name: spec for spec in SPECS}

#: the estimator used when none is named
DEFAULT_ESTIMATOR = "random_forest"


def get(name: str) -> EstimatorSpec:
    try:
        return ESTIMATORS[name]
    except KeyError:
        if name in estimators_boost.MISSING:
            raise InvalidInput(
                f"The estimator '{name}' needs a library that is not installed.",
                hint=f"Add it with: {estimators_boost.MISSING[name]}",
            ) from None
        raise InvalidInput(
            f"There is no estimator '{name}'.",
            hint="Known estimators: " + ", ".join(ESTIMATORS),
        ) from None


def for_task(task: str) -> list[EstimatorSpec]:
    """The estimators that can be trained for ``task`` (binary, multiclass, regression)."""
    kind = task_kind(task)
    return [spec for spec in SPECS if kind in spec.tasks]


def missing() -> dict[str, str]:
    """Estimators whose library is not installed → the pip command that adds it."""
    return dict(estimators_boost.MISSING)
