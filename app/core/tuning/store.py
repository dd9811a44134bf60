"""Where a study's pieces live and how a worker finds them again.

The Optuna study (trials, params, values, intermediate values) is in Optuna's tables; its
user attrs hold what a dashboard user wants to see (dataset version, target, estimators,
metric, space, parent run id). The full plan (the pinned training plan with column
treatments) is the recipe of the study's parent run, which a worker reads back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.errors import NotFound

if TYPE_CHECKING:
    from app.core.store import Store
    from app.core.tuning.request import StudyPlan


def load_study(storage: Any, name: str, *, sampler: Any = None, pruner: Any = None) -> Any:
    import optuna

    try:
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    except KeyError:
        raise NotFound(
            f"There is no study '{name}'.", hint="`modeldesk studies list` shows them."
        ) from None


def read_plan(store: Store, parent_run_id: int, name: str) -> StudyPlan:
    from sqlalchemy import select

    from app.core.store.models import RunRow
    from app.core.tuning.request import StudyPlan

    with store.session() as s:
        recipe = s.scalar(select(RunRow.recipe).where(RunRow.id == parent_run_id))
    if not recipe or "plan" not in recipe:
        raise NotFound(
            f"Study '{name}' has no ModelDesk plan (its parent run {parent_run_id} is gone).",
            hint="It was made outside ModelDesk or its runs were removed; open it with Optuna.",
        )
    return StudyPlan.from_dict(recipe["plan"])


def load_plan(
    store: Store, storage: Any, name: str, *, worker: int = 0
) -> tuple[Any, StudyPlan, int]:
    """(study with its sampler and pruner, plan, parent run id) for a worker."""
    from app.core.tuning import engine

    probe = load_study(storage, name)
    parent = probe.user_attrs.get("parent_run_id")
    if parent is None:
        raise NotFound(
            f"Study '{name}' was not made by ModelDesk (it has no parent run).",
            hint="Open it with Optuna or optuna-dashboard.",
        )
    plan = read_plan(store, int(parent), name)
    seed = None if plan.seed is None else plan.seed + 7919 * worker
    sampler = engine.make_sampler(plan.sampler, seed, parallel=plan.workers > 1)
    pruner = engine.make_pruner(plan.pruner, plan.train.request.folds)
    study = load_study(storage, name, sampler=sampler, pruner=pruner)
    return study, plan, int(parent)
