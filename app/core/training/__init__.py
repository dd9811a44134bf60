"""Training: the estimator catalog, preprocessing from a schema, validation, metrics, plots,
the child-process worker and ``TrainingService``.

Importing this package is cheap (no scikit-learn); each module imports what it needs inside
the functions that use it.
"""

from app.core.training.catalog import (
    ESTIMATORS,
    EstimatorSpec,
    ParamSpec,
    SearchDim,
    coerce_params,
    for_task,
)
from app.core.training.request import TrainRequest

__all__ = [
    "ESTIMATORS",
    "EstimatorSpec",
    "ParamSpec",
    "SearchDim",
    "TrainRequest",
    "coerce_params",
    "for_task",
]
