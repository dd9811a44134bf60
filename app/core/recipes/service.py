"""``RecipeService``: named, versioned recipes; preview; apply to a dataset; the catalog.

    save(name, steps)          → RecipeVersion (identical steps return the latest version)
    resolve("name" | "name@3") → RecipeVersion
    preview(frame, steps, upto) → Preview: the sample before and after one step, what changed
    apply(dataset, recipe)      → a new dataset version whose lineage names the recipe
    catalog()                   → every recipe, its steps, needed/produced columns, its users
    export_json / import_json / export_python

Recipe versions are immutable JSON: a change is saved as the next version, so a model trained
with ``churn-features@2`` always meant the same steps. The snapshots it returns are in
``entities``, the preview machinery in ``preview``, the usage queries in ``usage``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from app.core.errors import InvalidInput, NotFound
from app.core.progress import NullProgress, Progress, SubProgress
from app.core.recipes import runtime
from app.core.recipes.entities import (
    Recipe,
    RecipeVersion,
    Usage,
    now,
    parse_ref,
    steps_sha256,
    user_error,
    version_from_row,
)
from app.core.recipes.preview import PrefixCache, Preview, compare, preview_steps
from app.core.recipes.steps import validate_steps
from app.core.recipes.usage import build_catalog, list_usages, model_versions, record_usage
from app.core.store.models_recipes import RecipeRow, RecipeVersionRow

if TYPE_CHECKING:
    import pandas as pd

    from app.core.artifacts import ArtifactStore
    from app.core.datasets import DatasetService, DatasetVersion
    from app.core.store import Store

FORMAT = "modeldesk-recipe"
FORMAT_VERSION = 1

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "PrefixCache",
    "Preview",
    "Recipe",
    "RecipeService",
    "RecipeVersion",
    "Usage",
    "compare",
    "parse_ref",
    "preview_steps",
    "steps_sha256",
    "user_error",
]


def recipe_name(name: Any) -> str:
    """A usable recipe name (the dataset rules: no '@', no control characters, not empty)."""
    import re

    clean = name.strip() if isinstance(name, str) else ""
    if not clean:
        raise InvalidInput("A recipe needs a name.", hint="Give it one, e.g. churn-features.")
    if len(clean) > 200 or re.search(r"[@\x00-\x1f\x7f]", clean):
        raise InvalidInput(
            f"The recipe name '{clean[:60]}' is too long or contains '@' or a control character.",
            hint="'@' separates a name from its version (name@2); choose another name.",
        )
    return clean


class RecipeService:
    def __init__(self, store: Store, artifacts: ArtifactStore, datasets: DatasetService) -> None:
        self.store = store
        self.artifacts = artifacts
        self.datasets = datasets

    # -- saving and reading ----------------------------------------------------------------

    def save(
        self,
        name: str,
        steps: list[dict[str, Any]],
        *,
        description: str | None = None,
        note: str = "",
    ) -> RecipeVersion:
        """Store ``steps`` as the next version of ``name`` (created if new).

        Steps identical to the latest version's are not stored again: that version returns.
        """
        name = recipe_name(name)
        clean = validate_steps(steps)
        sha = steps_sha256(clean)

        def write(s: Any) -> int:
            recipe = s.scalar(select(RecipeRow).where(RecipeRow.name == name))
            if recipe is None:
                recipe = RecipeRow(name=name, description=description or "", created_at=now())
                s.add(recipe)
                s.flush()
            elif description is not None:
                recipe.description = description
            latest = s.scalar(
                select(RecipeVersionRow)
                .where(RecipeVersionRow.recipe_id == recipe.id)
                .order_by(RecipeVersionRow.version.desc())
                .limit(1)
            )
            if latest is not None and latest.steps_sha256 == sha:
                return latest.id
            number = (
                s.scalar(
                    select(func.max(RecipeVersionRow.version)).where(
                        RecipeVersionRow.recipe_id == recipe.id
                    )
                )
                or 0
            ) + 1
            row = RecipeVersionRow(
                recipe_id=recipe.id,
                version=number,
                steps=clean,
                steps_sha256=sha,
                note=note,
                created_at=now(),
            )
            s.add(row)
            s.flush()
            return row.id

        return self.version_by_id(self.store.write(write, recount=4))  # a racer took it

    def list(self) -> list[Recipe]:
        with self.store.session() as s:
            recipes = list(s.scalars(select(RecipeRow).order_by(RecipeRow.name)))
            rows = s.scalars(select(RecipeVersionRow).order_by(RecipeVersionRow.version))
            by_recipe: dict[int, list[RecipeVersion]] = {}
            names = {r.id: r for r in recipes}
            for row in rows:
                r = names[row.recipe_id]
                by_recipe.setdefault(row.recipe_id, []).append(version_from_row(row, r))
            return [
                Recipe(r.id, r.name, r.description, r.created_at, tuple(by_recipe.get(r.id, [])))
                for r in recipes
            ]

    def get(self, name: str) -> Recipe:
        for recipe in self.list():
            if recipe.name == name:
                return recipe
        raise NotFound(
            f"No recipe named '{name}'.", hint="`modeldesk recipes list` shows the recipes."
        )

    def resolve(self, ref: str) -> RecipeVersion:
        name, number = parse_ref(ref)
        recipe = self.get(name)
        if number is None:
            return recipe.latest
        for v in recipe.versions:
            if v.version == number:
                return v
        raise NotFound(
            f"Recipe '{name}' has no version {number}.",
            hint=f"Its versions are {', '.join(str(v.version) for v in recipe.versions)}.",
        )

    def version_by_id(self, version_id: int) -> RecipeVersion:
        with self.store.session() as s:
            row = s.get(RecipeVersionRow, version_id)
            if row is None:
                raise NotFound(f"No recipe version with id {version_id}.")
            return version_from_row(row, s.get(RecipeRow, row.recipe_id))

    # -- using -----------------------------------------------------------------------------

    def check_columns(self, recipe: RecipeVersion, columns: list[str], where: str) -> None:
        """``InvalidInput`` naming the columns ``recipe`` needs that ``where`` lacks."""
        missing = [c for c in recipe.needs if c not in columns]
        if missing:
            raise InvalidInput(
                f"Recipe {recipe.ref} needs column{'s' if len(missing) > 1 else ''} "
                + ", ".join(f"'{c}'" for c in missing)
                + f", which {where} lacks.",
                hint="Pick a dataset version that has "
                + ("them" if len(missing) > 1 else "it")
                + ", or edit the recipe (`modeldesk recipes show "
                + f"{recipe.ref}` lists what it reads). {where.capitalize()} has: "
                + ", ".join(columns[:40])
                + (" …" if len(columns) > 40 else "")
                + ".",
            )

    def sample(self, dataset: DatasetVersion | str, rows: int = 1000) -> pd.DataFrame:
        """The first ``rows`` rows of a version, read without loading the rest."""
        import pyarrow.parquet as pq

        version = self.datasets.resolve(dataset) if isinstance(dataset, str) else dataset
        path = self.datasets.snapshot_path(version)
        if not path.exists():
            raise NotFound(f"The snapshot of {version.ref} is missing.")
        parquet = pq.ParquetFile(path)
        batches = []
        got = 0
        for batch in parquet.iter_batches(batch_size=rows):
            batches.append(batch)
            got += batch.num_rows
            if got >= rows:
                break
        import pyarrow as pa

        table = pa.Table.from_batches(batches, schema=parquet.schema_arrow).slice(0, rows)
        return table.to_pandas()

    def preview(
        self, frame: pd.DataFrame, steps: list[dict[str, Any]], upto: int | None = None
    ) -> Preview:
        return preview_steps(frame, validate_steps(steps), upto)

    def apply(
        self,
        dataset: str,
        recipe: str,
        *,
        name: str | None = None,
        progress: Progress | None = None,
    ) -> DatasetVersion:
        """Apply ``recipe`` to every row of ``dataset``; the result is a new dataset version
        (of ``name``, by default the same dataset) whose lineage names the recipe."""
        import pyarrow as pa

        progress = progress or NullProgress()
        version = self.datasets.resolve(dataset)
        rv = self.resolve(recipe)
        self.check_columns(rv, [c.name for c in version.schema], f"dataset {version.ref}")
        progress.update(0.05, f"Reading {version.ref}")
        frame = self.datasets.load_table(version).to_pandas()
        progress.check_cancelled()
        progress.update(0.3, f"Applying {rv.ref}")
        try:
            out = runtime.apply_recipe(frame, rv.steps)
        except runtime.RecipeError as exc:
            raise user_error(exc, f"Recipe {rv.ref} on {version.ref}: ") from None
        progress.check_cancelled()
        if len(out) == 0 and len(frame) > 0:
            raise InvalidInput(
                f"Recipe {rv.ref} leaves none of the {len(frame):,} rows of {version.ref}; "
                "nothing was stored.",
                hint="Loosen its row steps (filter, sample, drop duplicates, drop rows without "
                "target) and try again.",
            )
        table = pa.Table.from_pandas(out.reset_index(drop=True), preserve_index=False)
        identity = hashlib.sha256(
            f"{version.snapshot_sha256}|{rv.steps_sha256}".encode()
        ).hexdigest()
        result = self.datasets.add_table(
            table,
            name=name or version.name,
            source_kind="recipe",
            source_path=f"recipe {rv.ref} applied to {version.ref}",
            source_sha256=identity,
            format="recipe",
            options={"recipe": {"name": rv.name, "version": rv.version}, "input": version.ref},
            parent_version_id=version.id,
            progress=SubProgress(progress, 0.6, 1.0),
        )
        self._link(rv.id, "dataset", dataset_version_id=result.version.id, input_id=version.id)
        return result.version

    def record_run(self, run_id: int, recipe_version_id: int, input_version_id: int | None) -> None:
        self._link(recipe_version_id, "run", run_id=run_id, input_id=input_version_id)

    def _link(self, recipe_version_id: int, kind: str, **ids: int | None) -> None:
        record_usage(self.store, recipe_version_id, kind, **ids)

    def usages(self, ref: str | None = None) -> list[Usage]:
        """Datasets made and runs trained with a recipe (all versions, or ``name@V``)."""
        wanted = None
        if ref is not None:
            name, number = parse_ref(ref)
            recipe = self.get(name)
            wanted = [v.id for v in recipe.versions if number is None or v.version == number]
        return list_usages(self.store, wanted)

    def catalog(self) -> list[dict[str, Any]]:
        """Every recipe's latest version: steps, needed and produced columns, its users."""
        usages = self.usages()
        runs = [u.run_id for u in usages if u.run_id is not None]
        return build_catalog(self.list(), usages, model_versions(self.store, runs))

    # -- export and import -----------------------------------------------------------------

    def export_json(self, ref: str) -> dict[str, Any]:
        rv = self.resolve(ref)
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": rv.name,
            "version": rv.version,
            "description": rv.description,
            "note": rv.note,
            "steps": rv.steps,
        }

    def import_json(self, data: Any, *, name: str | None = None) -> RecipeVersion:
        """Store an exported recipe as the next version of its name (or ``name``).

        Everything is checked (format, name, every step) before anything is written."""
        hint = "Export one with `modeldesk recipes export NAME -o FILE.json`."
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = "a list" if isinstance(data, list) else type(data).__name__
            if isinstance(data, dict):
                found = f"format {data.get('format')!r}" if "format" in data else "no 'format'"
            raise InvalidInput(
                f"This is not a ModelDesk recipe file (it has {found}; a recipe file is an "
                f'object with "format": "{FORMAT}").',
                hint=hint,
            )
        version = data.get("format_version", 1)
        if isinstance(version, bool) or not isinstance(version, int):
            raise InvalidInput(
                f"'format_version' must be a whole number; got {version!r}.", hint=hint
            )
        if version > FORMAT_VERSION:
            raise InvalidInput(
                f"This recipe file is format {version}; this ModelDesk reads up to "
                f"{FORMAT_VERSION}.",
                hint="Upgrade ModelDesk, or export the recipe again from the version used.",
            )
        target = name or data.get("name")
        if not target or not isinstance(target, str):
            raise InvalidInput("The recipe file has no name.", hint="Give one with --name.")
        if "steps" not in data:
            raise InvalidInput("The recipe file has no 'steps' list.", hint=hint)
        for key in ("description", "note"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise InvalidInput(f"'{key}' must be text; got {data[key]!r}.")
        return self.save(
            target,
            data["steps"],
            description=data.get("description") or None,
            note=data.get("note") or f"imported from {data.get('name')}@{data.get('version')}",
        )

    def export_python(self, ref: str) -> str:
        from app.core.recipes.codegen import render_module

        return render_module(self.resolve(ref))
