"""What the user asks to tune (``StudyRequest``) and the checked plan made from it.

``validate_study`` checks everything — dataset, target, estimators, the edited space,
metric and direction, the second objective, sampler, pruner, budget — and raises
``InvalidInput`` naming the bad entry *before* a study or a run exists. The plan pins the
dataset version through a ``TrainPlan`` (the same plan a training run records), so every trial
is trained exactly as a run of the Runs panel would be and can be reproduced as one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput
from app.core.tuning import engine
from app.core.tuning.space import (
    Space,
    SpaceEdit,
    apply_edits,
    default_space,
    resolve_estimators,
    space_from_dict,
    space_to_dict,
    with_estimator,
)

if TYPE_CHECKING:
    from app.core.training.request import TrainPlan

#: second objectives a study can trade the score against (both minimised)
SECOND_OBJECTIVES = {
    "latency": "predict_ms_per_row",
    "model_size": "model_size_bytes",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,199}$")


@dataclass(frozen=True)
class StudyRequest:
    dataset: str  # "name" or "name@3"
    target: str
    estimators: tuple[str, ...] | str = "all"  # names/aliases, or "all"
    metric: str | None = None  # None = the task's primary metric
    direction: str | None = None  # None = from the metric
    second_objective: str | None = None  # 'latency' | 'model_size'
    space: tuple[SpaceEdit, ...] = ()
    sampler: str | None = None
    pruner: str | None = None
    n_trials: int | None = 20
    timeout: float | None = None
    workers: int = 1
    seed: int = 0
    folds: int = 5
    test_size: float = 0.2
    task: str | None = None
    exclude: tuple[str, ...] = ()
    name: str = ""
    experiment: str = "Default"
    tags: dict[str, str] = field(default_factory=dict)
    recipe: str | None = None  # "name" or "name@2": the recipe runs first in every trial


@dataclass(frozen=True)
class StudyPlan:
    """A checked request: everything a worker needs (kept in the parent run's recipe)."""

    name: str
    train: TrainPlan  # dataset pinned, task inferred; params filled per trial
    estimators: tuple[str, ...]
    space: Space
    metric: str
    direction: str  # 'maximize' | 'minimize'
    second_objective: str | None
    sampler: str
    pruner: str
    n_trials: int | None
    timeout: float | None
    workers: int
    seed: int

    @property
    def objectives(self) -> int:
        return 2 if self.second_objective else 1

    @property
    def directions(self) -> list[str]:
        return [self.direction] + (["minimize"] if self.second_objective else [])

    @property
    def objective_names(self) -> list[str]:
        return [self.metric] + (
            [SECOND_OBJECTIVES[self.second_objective]] if self.second_objective else []
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "train": self.train.to_dict(),
            "estimators": list(self.estimators),
            "space": space_to_dict(self.space),
            "metric": self.metric,
            "direction": self.direction,
            "second_objective": self.second_objective,
            "sampler": self.sampler,
            "pruner": self.pruner,
            "n_trials": self.n_trials,
            "timeout": self.timeout,
            "workers": self.workers,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyPlan:
        from app.core.training.request import TrainPlan

        return cls(
            name=data["name"],
            train=TrainPlan.from_dict(data["train"]),
            estimators=tuple(data["estimators"]),
            space=space_from_dict(data["space"]),
            metric=data["metric"],
            direction=data["direction"],
            second_objective=data.get("second_objective"),
            sampler=data["sampler"],
            pruner=data["pruner"],
            n_trials=data.get("n_trials"),
            timeout=data.get("timeout"),
            workers=int(data.get("workers", 1)),
            seed=int(data.get("seed", 0)),
        )

    def user_attrs(self, parent_run_id: int) -> dict[str, Any]:
        """What optuna-dashboard shows beside the study: plain JSON, no ModelDesk types."""
        req = self.train.request
        return {
            "dataset": req.dataset,
            "dataset_version_id": self.train.dataset_version_id,
            "target": req.target,
            "task": self.train.task,
            "estimators": list(self.estimators),
            "metric": self.metric,
            "objectives": self.objective_names,
            "sampler": self.sampler,
            "pruner": self.pruner,
            "n_trials": self.n_trials,
            "timeout": self.timeout,
            "seed": self.seed,
            "folds": req.folds,
            "validation": self.train.validation,
            "parent_run_id": parent_run_id,
            "space": space_to_dict(self.space),
        }


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput(
            f"'{name}' cannot name a study.",
            hint="Use up to 200 letters, digits, '_', '-', '.', ':' or '@', starting with a "
            "letter or digit.",
        )
    return name


def validate_study(request: StudyRequest, training: Any) -> StudyPlan:
    """The checked plan, or ``InvalidInput`` naming what is wrong. Creates nothing."""
    from app.core.training import metrics as M
    from app.core.training.request import TrainRequest

    if request.n_trials is None and request.timeout is None:
        raise InvalidInput(
            "A study needs a budget.", hint="Give a number of trials, a time, or both."
        )
    if request.n_trials is not None and not 1 <= int(request.n_trials) <= 100_000:
        raise InvalidInput(f"The number of trials must be 1 to 100,000; got {request.n_trials}.")
    if request.timeout is not None and not float(request.timeout) > 0:
        raise InvalidInput(f"The time budget must be above 0 seconds; got {request.timeout}.")
    if not 1 <= int(request.workers) <= 64:
        raise InvalidInput(f"Workers must be 1 to 64; got {request.workers}.")
    second = request.second_objective or None
    if second is not None and second not in SECOND_OBJECTIVES:
        raise InvalidInput(
            f"'{second}' is not a second objective.", hint="Use " + ", ".join(SECOND_OBJECTIVES)
        )
    objectives = 2 if second else 1
    sampler = engine.sampler_name(request.sampler, objectives=objectives)
    pruner = engine.pruner_name(request.pruner, objectives=objectives)

    train = training.validate(
        TrainRequest(
            dataset=request.dataset,
            target=request.target,
            estimator="dummy",  # the estimator varies per trial; dummy serves every task
            task=request.task,
            folds=request.folds,
            test_size=request.test_size,
            seed=request.seed,
            exclude=tuple(request.exclude),
            plots=False,
            experiment=request.experiment,
            tags=dict(request.tags),
            **({"recipe": request.recipe} if request.recipe else {}),
        )
    )
    task = train.task
    estimators = resolve_estimators(task, request.estimators)
    edits = with_estimator(request.space, estimators)
    space = apply_edits(default_space(estimators), edits)
    metric = request.metric or M.PRIMARY[task]
    if metric not in M.names(task):
        raise InvalidInput(
            f"'{metric}' is not a metric for {task}.", hint="Use " + ", ".join(M.names(task))
        )
    direction = request.direction or ("minimize" if metric in M.LOWER_IS_BETTER else "maximize")
    if direction not in ("maximize", "minimize"):
        raise InvalidInput(f"'{direction}' is not a direction.", hint="Use maximize or minimize.")
    name = check_name(request.name or _default_name(train, estimators))
    return StudyPlan(
        name=name,
        train=replace(train, request=replace(train.request, params={})),
        estimators=tuple(estimators),
        space=space,
        metric=metric,
        direction=direction,
        second_objective=second,
        sampler=sampler,
        pruner=pruner,
        n_trials=None if request.n_trials is None else int(request.n_trials),
        timeout=None if request.timeout is None else float(request.timeout),
        workers=int(request.workers),
        seed=int(request.seed),
    )


def _default_name(train: TrainPlan, estimators: list[str]) -> str:
    import time

    what = estimators[0] if len(estimators) == 1 else "automl"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = train.request.dataset.replace("@", "-v")
    return re.sub(r"[^A-Za-z0-9_.:@-]", "_", f"{base}-{train.request.target}-{what}-{stamp}")
