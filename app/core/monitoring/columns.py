"""Checks and conversions between a model version's signature and the tables drift reads.

Kept apart from the service so the rules (which columns a model needs, which types it takes,
how predictions are typed) read in one place and are tested without a store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput
from app.core.monitoring.engine import CATEGORICAL, NUMERIC

if TYPE_CHECKING:
    import pyarrow as pa


def feature_kinds(signature: dict[str, Any], target: str | None = None) -> dict[str, str]:
    """numeric/categorical per model input, from how training treated the column."""
    kinds: dict[str, str] = {}
    for col in signature.get("columns", []):
        name = col.get("name")
        if not name or name == target:
            continue
        treatment, role = col.get("treatment"), col.get("role")
        if treatment == "numeric" or (treatment is None and role == "numeric"):
            kinds[name] = NUMERIC
        elif treatment in ("onehot", "ordinal") or role in ("categorical", "boolean"):
            kinds[name] = CATEGORICAL
    return kinds


def check_columns(
    types: dict[str, str],
    kinds: dict[str, str],
    label: str,
    model_ref: str,
    table: pa.Table | None = None,
) -> None:
    """Every model column present, numbers where the model expects numbers; else the column
    (and, when the rows are at hand, the first offending value) is named."""
    missing = [c for c in kinds if c not in types]
    if missing:
        raise InvalidInput(
            f"{label} lacks the model's column(s) {', '.join(repr(m) for m in missing)}.",
            hint=f"{model_ref} needs: {', '.join(kinds)}.",
        )
    numeric_types = ("int", "uint", "float", "double", "decimal", "halffloat")
    for name, kind in kinds.items():
        typ = types[name]
        if kind == NUMERIC and not typ.startswith(numeric_types) and typ != "null":
            where = ""
            if table is not None:
                col = table.column(name)
                for i, v in enumerate(col.to_pylist()):
                    try:
                        if v is not None:
                            float(v)
                    except (TypeError, ValueError):
                        where = f" ({v!r} in row {i + 1})"
                        break
            raise InvalidInput(
                f"Column '{name}' of {label} holds {typ} values{where}; "
                f"{model_ref} expects numbers.",
                hint="Fix the column's values or its type and try again.",
            )


def sample(table: pa.Table, rows: int) -> pa.Table:
    """An evenly strided, deterministic sample (the same rows every time)."""
    import numpy as np

    if table.num_rows <= rows:
        return table
    return table.take(np.linspace(0, table.num_rows - 1, rows).astype("int64"))


def kind_of(arr: Any) -> str:
    import pyarrow as pa

    return CATEGORICAL if pa.types.is_string(arr.type) else NUMERIC


def looks_like_labels(model: Any) -> bool:
    return hasattr(model, "classes_")


def as_kind(col: Any, typ: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_string(typ):
        return pa.array([None if v is None else str(v) for v in col.to_pylist()], type=pa.string())
    try:
        return col.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInput(f"The logged predictions are not numbers: {exc}") from exc
