"""Who uses a recipe: the dataset versions it made, the runs it fed, the model versions after.

This is the small feature catalog of the issue. Usage rows are written when a recipe is
applied or a run trains with it; the model versions are read from the registry's tables by
SQL (the registry may not exist in a build, and it must not import the recipes area).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from app.core.recipes.entities import Recipe, Usage, now
from app.core.recipes.steps import describe
from app.core.store.models_recipes import RecipeRow, RecipeUsageRow, RecipeVersionRow

if TYPE_CHECKING:
    from app.core.store import Store


def record_usage(
    store: Store,
    recipe_version_id: int,
    kind: str,
    *,
    dataset_version_id: int | None = None,
    run_id: int | None = None,
    input_id: int | None = None,
) -> None:
    """One usage row (idempotent: the same use is recorded once)."""

    def write(s: Any) -> None:
        exists = s.scalar(
            select(RecipeUsageRow.id).where(
                RecipeUsageRow.recipe_version_id == recipe_version_id,
                RecipeUsageRow.kind == kind,
                RecipeUsageRow.dataset_version_id == dataset_version_id,
                RecipeUsageRow.run_id == run_id,
            )
        )
        if exists is None:
            s.add(
                RecipeUsageRow(
                    recipe_version_id=recipe_version_id,
                    kind=kind,
                    dataset_version_id=dataset_version_id,
                    input_version_id=input_id,
                    run_id=run_id,
                    created_at=now(),
                )
            )

    store.write(write)


def list_usages(store: Store, version_ids: list[int] | None = None) -> list[Usage]:
    """Every usage (of the given recipe version ids only, when given), oldest first."""
    from app.core.store.models import DatasetRow, DatasetVersionRow

    with store.session() as s:
        query = select(RecipeUsageRow).order_by(RecipeUsageRow.id)
        if version_ids is not None:
            query = query.where(RecipeUsageRow.recipe_version_id.in_(version_ids))
        out = []
        refs: dict[int | None, str | None] = {None: None}

        def dref(vid: int | None) -> str | None:
            if vid not in refs:
                row = s.get(DatasetVersionRow, vid)
                ds = s.get(DatasetRow, row.dataset_id) if row else None
                refs[vid] = f"{ds.name}@{row.version}" if row and ds else None
            return refs[vid]

        for u in s.scalars(query):
            rv = s.get(RecipeVersionRow, u.recipe_version_id)
            recipe_row = s.get(RecipeRow, rv.recipe_id)
            out.append(
                Usage(
                    kind=u.kind,
                    recipe=f"{recipe_row.name}@{rv.version}",
                    dataset=dref(u.dataset_version_id),
                    input=dref(u.input_version_id),
                    run_id=u.run_id,
                    created_at=u.created_at,
                )
            )
        return out


def model_versions(store: Store, run_ids: list[int]) -> dict[int, list[str]]:
    """name@version of registered models per run (empty before the registry exists)."""
    if not run_ids:
        return {}
    try:
        with store.session() as s:
            rows = s.execute(
                text(
                    "SELECT mv.run_id, rm.name, mv.version FROM model_versions mv "
                    "JOIN registered_models rm ON rm.id = mv.model_id"
                )
            ).all()
    except Exception:  # the registry's tables are not there (yet): no model versions
        return {}
    out: dict[int, list[str]] = {}
    for run_id, name, version in rows:
        if run_id in run_ids:
            out.setdefault(run_id, []).append(f"{name}@{version}")
    return out


def build_catalog(
    recipes: list[Recipe], usages: list[Usage], models: dict[int, list[str]]
) -> list[dict[str, Any]]:
    """Every recipe's latest version: steps, needed and produced columns, its users."""
    out = []
    for recipe in recipes:
        if not recipe.versions:
            continue
        latest = recipe.latest
        mine = [u for u in usages if u.recipe.split("@")[0] == recipe.name]
        out.append(
            {
                "name": recipe.name,
                "description": recipe.description,
                "latest": latest.version,
                "versions": len(recipe.versions),
                "steps": [describe(s) for s in latest.steps],
                "needs": latest.needs,
                "produces": latest.produces,
                "datasets": sorted({u.dataset for u in mine if u.dataset}),
                "runs": sorted({u.run_id for u in mine if u.run_id is not None}),
                "model_versions": sorted(
                    {m for u in mine if u.run_id in models for m in models[u.run_id]}
                ),
            }
        )
    return out
