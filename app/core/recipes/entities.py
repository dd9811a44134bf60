"""What the recipe service hands out: frozen snapshots of recipes, versions and their users.

A ``RecipeVersion`` is immutable JSON steps plus identity; ``needs``/``produces`` come from
the step catalog without touching data. Rows never leave a session: ``version_from_row``
turns them into these dataclasses inside it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.core.datasets import parse_ref as parse_dataset_style_ref
from app.core.errors import InvalidInput
from app.core.recipes import runtime
from app.core.recipes.steps import column_flow, describe

if TYPE_CHECKING:
    from app.core.store.models_recipes import RecipeRow, RecipeVersionRow


def now() -> datetime:
    return datetime.now(UTC)


def steps_sha256(steps: list[dict[str, Any]]) -> str:
    text = json.dumps(steps, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def parse_ref(ref: str) -> tuple[str, int | None]:
    """'clean' → ('clean', None); 'clean@2' → ('clean', 2): named like dataset versions."""
    return parse_dataset_style_ref(ref, "recipe")


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


def version_from_row(row: RecipeVersionRow, recipe: RecipeRow) -> RecipeVersion:
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
