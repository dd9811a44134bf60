"""A recipe as the first step of a model: what the training plan needs to know of it.

``plan_recipe`` resolves the request's recipe, checks that the dataset has the columns it
needs, and runs it on a sample to learn the schema it produces (which the column plan is
then made from). The model's pipeline takes the raw columns (``inputs``), so raw rows go
into the served model and the recipe runs inside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput
from app.core.recipes import runtime

if TYPE_CHECKING:
    from app.core.datasets import DatasetService, DatasetVersion
    from app.core.schema import ColumnInfo
    from app.core.training.preprocessing import ColumnPlan
    from app.core.training.request import TrainRequest

#: rows the recipe is tried on to learn its output schema
SAMPLE_ROWS = 20_000


def _treatment(info: ColumnInfo) -> str:
    return {
        "numeric": "numeric",
        "datetime": "date",
        "boolean": "onehot",
        "categorical": "onehot",
    }.get(info.role, "recipe")


def plan_recipe(
    request: TrainRequest, version: DatasetVersion, datasets: DatasetService
) -> tuple[dict[str, Any], list[ColumnPlan], tuple[ColumnInfo, ...]]:
    """(recipe dict for the plan, raw input columns, the schema the recipe produces)."""
    import pyarrow as pa

    from app.core.errors import NotFound
    from app.core.recipes.service import RecipeService, user_error
    from app.core.schema import infer_schema
    from app.core.training.preprocessing import ColumnPlan

    service = RecipeService(datasets.store, datasets.artifacts, datasets)
    try:
        rv = service.resolve(str(request.recipe))
    except NotFound as exc:
        raise InvalidInput(exc.message, hint=exc.hint) from exc
    names = [c.name for c in version.schema]
    service.check_columns(rv, names, f"dataset {version.ref}")
    raw = [c for c in version.schema if c.name != request.target]
    sample = service.sample(version, SAMPLE_ROWS)
    try:
        sample = runtime.apply_rows(sample, rv.steps)
        sample = sample[sample[request.target].notna()]
        y = sample[request.target].to_numpy()
        out = runtime.RecipeTransformer(rv.steps).fit_transform(
            sample[[c.name for c in raw]].reset_index(drop=True), y
        )
    except runtime.RecipeError as exc:
        raise user_error(exc, f"Recipe {rv.ref} on {version.ref}: ") from None
    if request.target in out.columns:
        out = out.drop(columns=[request.target])
    out[request.target] = y
    table = pa.Table.from_pandas(out.reset_index(drop=True), preserve_index=False)
    schema = tuple(infer_schema(table))
    inputs = [ColumnPlan(c.name, c.role, _treatment(c)) for c in raw]
    recipe = {"id": rv.id, "name": rv.name, "version": rv.version, "steps": rv.steps}
    return recipe, inputs, schema
