"""The preprocessing half of every model, decided from the dataset's schema.

``plan_columns`` says what happens to each column (and why a column is dropped) without
touching data, so the form can show it before training and the run records it;
``build_preprocessor`` turns that plan into a ``ColumnTransformer``:

    numeric    median imputation (+ missing indicators) → standard scaling
    boolean    as categories → one-hot (unknown values ignored)
    categorical  ≤ max_onehot values: as categories → one-hot (unknown ignored)
                 more: as categories → ordinal (unknown → -1) → scaling
    datetime   date parts (year, month, day, weekday, …) → median imputation → scaling
    identifier, free text, constant or empty columns: dropped, with a note

``build_pipeline`` puts it in front of the estimator: the fitted ``Pipeline`` takes raw rows
as a pandas DataFrame, which is how it is saved, served and exported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.schema import ColumnInfo

TREATMENTS = ("numeric", "onehot", "ordinal", "date")


@dataclass(frozen=True)
class ColumnPlan:
    name: str
    role: str
    treatment: str  # one of TREATMENTS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnPlan:
        return cls(data["name"], data["role"], data["treatment"])


def plan_columns(
    schema: Sequence[ColumnInfo],
    *,
    target: str,
    exclude: Iterable[str] = (),
    max_onehot: int = 20,
) -> tuple[list[ColumnPlan], list[tuple[str, str]]]:
    """(features with their treatment, [(dropped column, reason)]) for a schema."""
    excluded = set(exclude)
    plans: list[ColumnPlan] = []
    dropped: list[tuple[str, str]] = []
    for col in schema:
        if col.name == target:
            continue
        if col.name in excluded:
            dropped.append((col.name, "excluded by request"))
        elif col.role == "identifier":
            dropped.append((col.name, "it looks like an identifier (every value differs)"))
        elif col.role == "text":
            dropped.append((col.name, "it holds free text, which is not turned into features"))
        elif col.distinct == 0:
            dropped.append((col.name, "it has no values"))
        elif col.distinct == 1 and col.missing == 0:
            dropped.append((col.name, "it has a single value"))
        elif col.role == "numeric":
            plans.append(ColumnPlan(col.name, col.role, "numeric"))
        elif col.role == "datetime":
            plans.append(ColumnPlan(col.name, col.role, "date"))
        elif col.role == "boolean":
            plans.append(ColumnPlan(col.name, col.role, "onehot"))
        elif col.role == "categorical":
            if _nested(col.physical_type):
                dropped.append((col.name, f"its type {col.physical_type} is not supported"))
            else:
                kind = "onehot" if col.distinct <= max_onehot else "ordinal"
                plans.append(ColumnPlan(col.name, col.role, kind))
        else:
            dropped.append((col.name, f"its role '{col.role}' is not supported"))
    return plans, dropped


def _nested(physical_type: str) -> bool:
    return physical_type.startswith(("list", "large_list", "struct", "map", "fixed_size_list"))


def build_preprocessor(columns: Sequence[ColumnPlan]) -> Any:
    """The ``ColumnTransformer`` for a column plan (dense output, unknown columns dropped)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    from app.core.training.transformers import AsCategories, DateParts

    def names(treatment: str) -> list[str]:
        return [c.name for c in columns if c.treatment == treatment]

    parts: list[tuple[str, Any, list[str]]] = []
    if numeric := names("numeric"):
        parts.append(
            (
                "numeric",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                        ("scale", StandardScaler()),
                    ]
                ),
                numeric,
            )
        )
    if onehot := names("onehot"):
        parts.append(
            (
                "onehot",
                Pipeline(
                    [
                        ("categories", AsCategories()),
                        ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                onehot,
            )
        )
    if ordinal := names("ordinal"):
        parts.append(
            (
                "ordinal",
                Pipeline(
                    [
                        ("categories", AsCategories()),
                        (
                            "encode",
                            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                        ),
                        ("scale", StandardScaler()),
                    ]
                ),
                ordinal,
            )
        )
    if dates := names("date"):
        parts.append(
            (
                "date",
                Pipeline(
                    [
                        ("parts", DateParts()),
                        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                        ("scale", StandardScaler()),
                    ]
                ),
                dates,
            )
        )
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def build_pipeline(columns: Sequence[ColumnPlan], estimator: Any) -> Any:
    """``Pipeline([("preprocess", …), ("model", estimator)])``: raw DataFrame rows in."""
    from sklearn.pipeline import Pipeline

    return Pipeline([("preprocess", build_preprocessor(columns)), ("model", estimator)])
