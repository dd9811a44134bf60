"""The Prepare panel's job bodies (run on the runner's threads, never on the GUI thread):
list the datasets and recipes, read the sample or the whole version, save and apply a
recipe. No Qt here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.ui.panels.prepare_preview import SAMPLE_ROWS

if TYPE_CHECKING:
    from app.core.datasets import DatasetService, DatasetVersion
    from app.core.recipes import RecipeService


def list_sources(datasets: DatasetService, recipes: RecipeService, *, progress: Any) -> Any:
    versions = [v for ds in datasets.list() for v in reversed(ds.versions)]
    return versions, recipes.list()


def load_sample(recipes: RecipeService, version: DatasetVersion, *, progress: Any) -> Any:
    return recipes.sample(version, SAMPLE_ROWS)


def load_full(datasets: DatasetService, version: DatasetVersion, *, progress: Any) -> Any:
    return datasets.load_table(version).to_pandas()


def save_recipe(recipes: RecipeService, name: str, steps: list[dict], *, progress: Any) -> Any:
    return recipes.save(name, steps)


def apply_recipe(
    recipes: RecipeService, dataset: str, recipe: str, out: str | None, *, progress: Any
) -> Any:
    return recipes.apply(dataset, recipe, name=out, progress=progress)
