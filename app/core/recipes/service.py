"""``RecipeService``: named, versioned recipes; preview; apply to a dataset; the catalog.

    save(name, steps)          → RecipeVersion (identical steps return the latest version)
    resolve("name" | "name@3") → RecipeVersion
    preview(frame, steps, upto) → Preview: the sample before and after one step, what changed
    apply(dataset, recipe)      → a new dataset version whose lineage names the recipe
    catalog()                   → every recipe, its steps, needed/produced columns, its users
    export_json / import_json / export_python

Recipe versions are immutable JSON: a change is saved as the next version, so a model trained
with ``churn-features@2`` always meant the same steps.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import InvalidInput, NotFound
from app.core.progress import NullProgress, Progress, SubProgress
from app.core.recipes import runtime
from app.core.recipes.steps import column_flow, describe, validate_steps
from app.core.store.models_recipes import RecipeRow, RecipeUsageRow, RecipeVersionRow

if TYPE_CHECKING:
    import pandas as pd

    from app.core.artifacts import ArtifactStore
    from app.core.datasets import DatasetService, DatasetVersion
    from app.core.store import Store

FORMAT = "modeldesk-recipe"
FORMAT_VERSION = 1


def _now() -> datetime:
    return datetime.now(UTC)


def steps_sha256(steps: list[dict[str, Any]]) -> str:
    text = json.dumps(steps, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def parse_ref(ref: str) -> tuple[str, int | None]:
    name, sep, version = ref.strip().rpartition("@")
    if not sep:
        return ref.strip(), None
    if not version.isdigit():
        raise InvalidInput(
            f"'{ref}' is not a recipe reference.", hint="Write NAME or NAME@VERSION."
        )
    return name.strip(), int(version)


def user_error(exc: runtime.RecipeError, where: str = "") -> InvalidInput:
    """A runtime error as the error people see (the runtime cannot import ours)."""
    return InvalidInput(f"{where}{exc}", hint="Edit the step, or fix the data it reads.")


@dataclass(frozen=True)
class RecipeVersion:
    id: int
    recipe_id: int
    name: str
    version: int
    steps: list[dict[str, Any]]
    steps_sha256: str
    note: str
    description: str
    created_at: datetime

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def needs(self) -> list[str]:
        return column_flow(self.steps)[0]

    @property
    def produces(self) -> list[str]:
        return column_flow(self.steps)[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "description": self.description,
            "note": self.note,
            "steps": self.steps,
            "descriptions": [describe(s) for s in self.steps],
            "needs": self.needs,
            "produces": self.produces,
            "steps_sha256": self.steps_sha256,
            "created_at": self.created_at.isoformat(),
        }

    def transformer(self) -> runtime.RecipeTransformer:
        return runtime.RecipeTransformer(steps=self.steps, name=self.name, version=self.version)


@dataclass(frozen=True)
class Recipe:
    id: int
    name: str
    description: str
    created_at: datetime
    versions: tuple[RecipeVersion, ...] = field(default=())

    @property
    def latest(self) -> RecipeVersion:
        return self.versions[-1]


@dataclass(frozen=True)
class Usage:
    kind: str  # dataset | run
    recipe: str  # name@version
    dataset: str | None  # the version made (kind dataset)
    input: str | None  # the version it was applied to
    run_id: int | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "recipe": self.recipe,
            "dataset": self.dataset,
            "input": self.input,
            "run_id": self.run_id,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Preview:
    """The sample before and after the chosen step, and what the step changed."""

    before: pd.DataFrame
    after: pd.DataFrame
    changed: tuple[str, ...]  # columns whose values differ
    added: tuple[str, ...]
    removed: tuple[str, ...]
    summary: dict[str, dict[str, int]]  # before/after → rows, columns, missing
    seconds: float
    upto: int


def _summary(frame: pd.DataFrame) -> dict[str, int]:
    return {
        "rows": len(frame),
        "columns": frame.shape[1],
        "missing": int(frame.isna().to_numpy().sum()),
    }


def compare(before: pd.DataFrame, after: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """(changed, added, removed) columns between two frames of the same rows."""
    added = [c for c in after.columns if c not in before.columns]
    removed = [c for c in before.columns if c not in after.columns]
    changed = []
    if not before.index.equals(after.index) and after.index.isin(before.index).all():
        before = before.loc[after.index]  # a row step: compare the rows it kept
    same_rows = len(before) == len(after) and before.index.equals(after.index)
    for c in after.columns:
        if c in added:
            continue
        if not same_rows:
            changed.append(c)
            continue
        a, b = before[c], after[c]
        if a.dtype != b.dtype or not a.equals(b):
            changed.append(c)
    return changed, added, removed


class PrefixCache:
    """Results of the first k steps on a sample, so editing step k re-runs from step k only.

    Keyed by the sample's identity and the SHA-256 of the prefix's steps; a row step
    (which runs first, on the raw rows) makes its prefix be computed again from the start.
    """

    def __init__(self, size: int = 48) -> None:
        import threading
        from collections import OrderedDict

        self._size = size
        self._items: OrderedDict[tuple[int, int, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, frame: Any, prefix: list[dict[str, Any]]) -> Any:
        key = (id(frame), len(frame), steps_sha256(prefix))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, frame: Any, prefix: list[dict[str, Any]], result: Any) -> None:
        key = (id(frame), len(frame), steps_sha256(prefix))
        with self._lock:
            self._items[key] = (frame, result)  # keeps the sample alive: its id stays unique
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def prefix(self, frame: Any, steps: list[dict[str, Any]], k: int) -> Any:
        """The frame after ``steps[:k]``, from the longest cached prefix."""
        start, current = 0, frame
        for j in range(k, 0, -1):
            hit = self.get(frame, steps[:j])
            if hit is not None:
                start, current = j, hit[1]
                break
        for j in range(start, k):
            step = steps[j]
            if step.get("enabled", True) and step["op"] in runtime.ROW_OPS:
                current = runtime.apply_recipe(frame, steps[: j + 1])
            else:
                current = runtime.apply_recipe(current, [step])
            self.put(frame, steps[: j + 1], current)
        return current


_PREVIEWS = PrefixCache()


def preview_steps(
    frame: pd.DataFrame,
    steps: list[dict[str, Any]],
    upto: int | None = None,
    *,
    cache: PrefixCache | None = _PREVIEWS,
) -> Preview:
    """Run ``steps[:upto]`` then step ``upto`` on the sample (the panel's job body)."""
    t0 = time.perf_counter()
    steps = list(steps)
    upto = len(steps) - 1 if upto is None else upto
    try:
        if cache is None:
            before = runtime.apply_recipe(frame, steps[:upto]) if upto > 0 else frame
            after = runtime.apply_recipe(frame, steps[: upto + 1]) if steps else before
        else:
            before = cache.prefix(frame, steps, upto)
            after = cache.prefix(frame, steps, upto + 1) if steps else before
    except runtime.RecipeError as exc:
        raise user_error(exc) from None
    changed, added, removed = compare(before, after)
    return Preview(
        before=before,
        after=after,
        changed=tuple(changed),
        added=tuple(added),
        removed=tuple(removed),
        summary={"before": _summary(before), "after": _summary(after)},
        seconds=time.perf_counter() - t0,
        upto=upto,
    )


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
        from app.core.datasets import validate_name

        name = validate_name(name)
        clean = validate_steps(steps)
        sha = steps_sha256(clean)

        def write(s: Any) -> int:
            recipe = s.scalar(select(RecipeRow).where(RecipeRow.name == name))
            if recipe is None:
                recipe = RecipeRow(name=name, description=description or "", created_at=_now())
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
                created_at=_now(),
            )
            s.add(row)
            s.flush()
            return row.id

        for attempt in range(5):
            try:
                return self.version_by_id(self.store.write(write))
            except IntegrityError:  # a racing writer took the number; count again
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def list(self) -> list[Recipe]:
        with self.store.session() as s:
            recipes = list(s.scalars(select(RecipeRow).order_by(RecipeRow.name)))
            rows = s.scalars(select(RecipeVersionRow).order_by(RecipeVersionRow.version))
            by_recipe: dict[int, list[RecipeVersion]] = {}
            names = {r.id: r for r in recipes}
            for row in rows:
                r = names[row.recipe_id]
                by_recipe.setdefault(row.recipe_id, []).append(_version(row, r))
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
            return _version(row, s.get(RecipeRow, row.recipe_id))

    # -- using -----------------------------------------------------------------------------

    def check_columns(self, recipe: RecipeVersion, columns: list[str], where: str) -> None:
        """``InvalidInput`` naming the columns ``recipe`` needs that ``where`` lacks."""
        missing = [c for c in recipe.needs if c not in columns]
        if missing:
            raise InvalidInput(
                f"Recipe {recipe.ref} needs column{'s' if len(missing) > 1 else ''} "
                + ", ".join(f"'{c}'" for c in missing)
                + f", which {where} lacks.",
                hint="Its columns: " + ", ".join(columns[:40]),
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

    def _link(
        self,
        recipe_version_id: int,
        kind: str,
        *,
        dataset_version_id: int | None = None,
        run_id: int | None = None,
        input_id: int | None = None,
    ) -> None:
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
                        created_at=_now(),
                    )
                )

        self.store.write(write)

    def usages(self, ref: str | None = None) -> list[Usage]:
        from app.core.store.models import DatasetRow, DatasetVersionRow

        wanted = None
        if ref is not None:
            name, number = parse_ref(ref)
            recipe = self.get(name)
            wanted = [v.id for v in recipe.versions if number is None or v.version == number]
        with self.store.session() as s:
            query = select(RecipeUsageRow).order_by(RecipeUsageRow.id)
            if wanted is not None:
                query = query.where(RecipeUsageRow.recipe_version_id.in_(wanted))
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

    def catalog(self) -> list[dict[str, Any]]:
        """Every recipe's latest version: steps, needed and produced columns, its users."""
        usages = self.usages()
        models = self._model_versions([u.run_id for u in usages if u.run_id is not None])
        out = []
        for recipe in self.list():
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

    def _model_versions(self, run_ids: list[int]) -> dict[int, list[str]]:
        """name@version of registered models per run (empty before the registry exists)."""
        from sqlalchemy import text

        if not run_ids:
            return {}
        try:
            with self.store.session() as s:
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
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InvalidInput(
                "This is not a ModelDesk recipe file.",
                hint="Export one with `modeldesk recipes export NAME -o FILE.json`.",
            )
        if int(data.get("format_version", 0)) > FORMAT_VERSION:
            raise InvalidInput("This recipe file was written by a newer ModelDesk.")
        target = name or data.get("name")
        if not target:
            raise InvalidInput("The recipe file has no name.", hint="Give one with --name.")
        return self.save(
            target,
            data.get("steps", []),
            description=data.get("description") or None,
            note=data.get("note") or f"imported from {data.get('name')}@{data.get('version')}",
        )

    def export_python(self, ref: str) -> str:
        from app.core.recipes.codegen import render_module

        return render_module(self.resolve(ref))


def _version(row: RecipeVersionRow, recipe: RecipeRow) -> RecipeVersion:
    return RecipeVersion(
        id=row.id,
        recipe_id=row.recipe_id,
        name=recipe.name,
        version=row.version,
        steps=list(row.steps or []),
        steps_sha256=row.steps_sha256,
        note=row.note,
        description=recipe.description,
        created_at=row.created_at,
    )
