"""Scoring one trial's parameters by cross-validation, fold by fold, as a training run does.

``CrossValidation(plan, datasets)`` loads the dataset version once per worker and cuts the
same held-out split and folds as the training worker (``app.core.training.validation`` with the
study's seed), so a trial with the catalog defaults scores exactly what a default training run
scores. Calling it with a trial fits each fold, reports the running mean of the metric as the
intermediate value at step k (what the pruners compare) and asks whether to prune.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput
from app.core.tuning.space import sample

if TYPE_CHECKING:
    from app.core.datasets import DatasetService
    from app.core.tuning.request import StudyPlan


@dataclass
class Outcome:
    """What one trial produced; the trial loop turns it into the trial's values and a run."""

    estimator: str
    params: dict[str, Any]
    values: list[float] = field(default_factory=list)
    points: list[tuple[str, float, int]] = field(default_factory=list)  # key, value, step
    pruned_at: int | None = None  # the fold after which the pruner stopped the trial


class CrossValidation:
    def __init__(self, plan: StudyPlan, datasets: DatasetService) -> None:
        from app.core.training.trainer import load_frame, prepare_xy
        from app.core.training.validation import holdout_split, make_splitter

        self.plan = plan
        train = plan.train
        req = train.request
        X, y = prepare_xy(load_frame(train, datasets), train)
        rows, _ = holdout_split(
            y, task=train.task, validation=train.validation, test_size=req.test_size, seed=req.seed
        )
        self.X, self.y = X.iloc[rows].reset_index(drop=True), y[rows]
        splitter = make_splitter(train.validation, train.task, req.folds, req.repeats, req.seed)
        self.folds = list(splitter.split(self.X, self.y))
        self.prune = plan.objectives == 1 and plan.pruner != "none"

    def __call__(self, trial: Any, check: Callable[[], None]) -> Outcome:
        import numpy as np
        from sklearn.base import clone

        from app.core.training import metrics as M
        from app.core.training.catalog import get
        from app.core.training.trainer import build_pipeline

        plan, train = self.plan, self.plan.train
        name, params = sample(trial, plan.space, train.task)
        params = get(name).resolve(params)
        # the training worker's own assembly: preprocessing (and a recipe, when the plan has
        # one) before the estimator, exactly as a run of these parameters is built
        trial_plan = replace(train, request=replace(train.request, estimator=name, params=params))
        template = build_pipeline(trial_plan)
        out = Outcome(name, params)
        per_fold: list[dict[str, float]] = []
        scores: list[float] = []
        predict_seconds, predicted_rows, fit_seconds = 0.0, 0, 0.0
        model = None
        for k, (fit_rows, val_rows) in enumerate(self.folds, start=1):
            check()
            model = clone(template)
            t0 = time.perf_counter()
            model.fit(self.X.iloc[fit_rows], self.y[fit_rows])
            fit_seconds += time.perf_counter() - t0
            X_val = self.X.iloc[val_rows]
            t0 = time.perf_counter()
            pred = model.predict(X_val)
            predict_seconds += time.perf_counter() - t0
            predicted_rows += len(val_rows)
            fold_scores = M.predict_scores(model, X_val) if train.task != "regression" else None
            values = M.evaluate(
                train.task,
                self.y[val_rows],
                pred,
                fold_scores,
                classes=getattr(model, "classes_", ()),
                proba=M.has_proba(model),
            )
            if plan.metric not in values:
                raise InvalidInput(
                    f"{plan.metric} could not be computed on fold {k} for {name}.",
                    hint="Choose another metric, or more rows per fold.",
                )
            per_fold.append(values)
            out.points += [(f"{M.CV_PREFIX}{key}", v, k) for key, v in values.items()]
            scores.append(values[plan.metric])
            if self.prune:
                trial.report(float(np.mean(scores)), k)
                if trial.should_prune():
                    out.pruned_at = k
                    break
        summary = M.summarize(per_fold)
        extra = {
            "fit_seconds": fit_seconds,
            "predict_ms_per_row": 1000.0 * predict_seconds / max(1, predicted_rows),
        }
        if plan.second_objective == "model_size" and model is not None:
            extra["model_size_bytes"] = float(len(pickle.dumps(model, protocol=5)))
        out.points += [(key, v, 0) for key, v in {**summary, **extra}.items()]
        out.values = [summary[plan.metric]]
        if plan.second_objective:
            from app.core.tuning.request import SECOND_OBJECTIVES

            out.values.append(extra[SECOND_OBJECTIVES[plan.second_objective]])
        return out
