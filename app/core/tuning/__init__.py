"""Tuning: Optuna studies over the estimator catalog's search spaces, run by parallel workers.

Studies are stored in Optuna's own RDB storage on the ModelDesk store (``optuna.load_study``
and optuna-dashboard open them unchanged); every trial is also a run, a child of the study's
parent run. Importing this package is cheap: Optuna is imported by the functions that use it.
"""

from app.core.tuning.entities import StudySummary, TrialInfo
from app.core.tuning.request import SECOND_OBJECTIVES, StudyPlan, StudyRequest
from app.core.tuning.service import TuningService
from app.core.tuning.space import SpaceEdit, parse_edit

__all__ = [
    "SECOND_OBJECTIVES",
    "SpaceEdit",
    "StudyPlan",
    "StudyRequest",
    "StudySummary",
    "TrialInfo",
    "TuningService",
    "parse_edit",
]
