"""The model's signature as precomputed per-column checks, run on every request.

Each column gets a kind from its treatment (or dtype): ``number`` (int/float/null),
``category`` (any scalar), ``date`` (text that parses as a date, or a number) or ``any``.
The checks compare the set of Python types present in a column with the allowed set — one
C-level pass per column — and only look for the offending row when that fails. Categories
are checked against the fitted encoder only where it would fail on an unseen value
(``handle_unknown="error"``); ModelDesk's own pipelines ignore unseen categories, so their
requests pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import RequestError

NoneType = type(None)
NUMBER_TYPES = frozenset({int, float, NoneType})
CATEGORY_TYPES = frozenset({str, int, float, bool, NoneType})
DATE_TYPES = frozenset({str, int, float, NoneType})
NESTED_TYPES = frozenset({list, dict})
MISSING = "(missing)"  # what AsCategories turns a missing value into
EXPECTED = {
    "number": "a number",
    "category": "a text, number or boolean value",
    "date": "a date (ISO text) or a number",
    "any": "a single value (text, number, boolean or null)",
}


@dataclass
class ColumnCheck:
    name: str
    kind: str  # number | category | date | any
    dtype: str
    allowed: frozenset[str] | None = None  # set only when the encoder rejects unseen values

    @property
    def numpy_dtype(self) -> str:
        return "float64" if self.kind == "number" else "object"


class Signature:
    """Checks a request's columns against the model's and returns them in the model's order."""

    def __init__(self, columns: Sequence[dict[str, Any]], pipeline: Any = None) -> None:
        strict = strict_categories(pipeline) if pipeline is not None else {}
        self.columns = [
            ColumnCheck(
                name=str(c["name"]),
                kind=_kind(c),
                dtype=str(c.get("dtype", "")),
                allowed=strict.get(str(c["name"])),
            )
            for c in columns
        ]
        self.names = [c.name for c in self.columns]
        self.name_set = frozenset(self.names)
        self.all_numeric = all(c.kind == "number" for c in self.columns)

    def order(self, names: Sequence[str]) -> list[int]:
        """Positions of the model's columns among ``names``; 422 for missing or extra ones."""
        if list(names) == self.names:
            return list(range(len(names)))
        given = set(names)
        if len(given) != len(names):
            dup = next(n for n in names if list(names).count(n) > 1)
            raise RequestError(422, f"Column '{dup}' appears twice.", column=dup, problem="extra")
        missing = [n for n in self.names if n not in given]
        if missing:
            raise RequestError(
                422,
                f"Column '{missing[0]}' is missing; the model needs "
                f"{len(self.names)} columns: {', '.join(self.names)}.",
                column=missing[0],
                problem="missing",
            )
        extra = [n for n in names if n not in self.name_set]
        if extra:
            raise RequestError(
                422,
                f"Column '{extra[0]}' is not an input of this model; remove it "
                f"(the model takes {', '.join(self.names)}).",
                column=str(extra[0]),
                problem="extra",
            )
        position = {n: i for i, n in enumerate(names)}
        return [position[n] for n in self.names]

    def check(self, columns: Sequence[Sequence[Any]]) -> None:
        """Raise a 422 naming the first column (and row) whose values the model cannot take."""
        for check, values in zip(self.columns, columns, strict=True):
            kind = check.kind
            types = set(map(type, values))
            if kind == "any":
                if types & NESTED_TYPES:  # no model takes a JSON list or object in a cell
                    _bad_type(check, values, frozenset(types - NESTED_TYPES))
                continue
            if kind == "number":
                if not types <= NUMBER_TYPES:
                    _bad_type(check, values, NUMBER_TYPES)
            elif kind == "category":
                if not types <= CATEGORY_TYPES:
                    _bad_type(check, values, CATEGORY_TYPES)
                if check.allowed is not None:
                    _check_categories(check, values)
            elif kind == "date":
                if not types <= DATE_TYPES:
                    _bad_type(check, values, DATE_TYPES)
                if str in types:
                    _check_dates(check, values)


def _kind(column: dict[str, Any]) -> str:
    treatment = column.get("treatment")
    if treatment == "numeric":
        return "number"
    if treatment in ("onehot", "ordinal"):
        return "category"
    if treatment == "date":
        return "date"
    dtype = str(column.get("dtype", "")).lower()
    if dtype.startswith(("int", "uint", "float")):
        return "number"
    if dtype.startswith(("bool", "category")):
        return "category"
    if dtype.startswith("datetime"):
        return "date"
    return "any"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f"text ('{shown}')"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"{type(value).__name__} ({value!r})"


def _bad_type(check: ColumnCheck, values: Sequence[Any], allowed: frozenset[type]) -> None:
    row = next(i for i, v in enumerate(values) if type(v) not in allowed)
    raise RequestError(
        422,
        f"Column '{check.name}' has {_describe(values[row])} in row {row}; expected "
        f"{EXPECTED[check.kind]}.",
        column=check.name,
        problem="type",
    )


def category_text(value: Any) -> str:
    """How AsCategories spells a value, so that 1, 1.0 and "1" are one category."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        if value != value:  # NaN
            return MISSING
        if value.is_integer():
            return str(int(value))
    return str(value)


def _check_categories(check: ColumnCheck, values: Sequence[Any]) -> None:
    allowed = check.allowed or frozenset()
    for row, value in enumerate(values):
        text = category_text(value)
        if text not in allowed:
            shown = "a missing value" if text == MISSING else f"'{text}'"
            known = sorted(allowed - {MISSING})
            listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
            raise RequestError(
                422,
                f"Column '{check.name}' has {shown} in row {row}, a category the model never "
                f"saw and cannot take; known categories: {listed}.",
                column=check.name,
                problem="unseen_category",
            )


def _check_dates(check: ColumnCheck, values: Sequence[Any]) -> None:
    import pandas as pd

    texts = [v if isinstance(v, str) else None for v in values]
    parsed = pd.to_datetime(pd.Series(texts, dtype=object), errors="coerce", format="mixed")
    for row, (text, stamp) in enumerate(zip(texts, parsed, strict=True)):
        if text is not None and text.strip() and stamp is pd.NaT:
            raise RequestError(
                422,
                f"Column '{check.name}' has text ('{text[:40]}') in row {row} that is not a "
                "date; expected a date such as 2024-05-31 or 2024-05-31T12:00:00.",
                column=check.name,
                problem="type",
            )


def strict_categories(pipeline: Any) -> dict[str, frozenset[str]]:
    """Column → categories the model accepts, for columns whose encoder rejects others.

    Looks at the ColumnTransformer that receives the raw columns (a Pipeline's first step,
    or the model itself); anything else is left to the model.
    """
    transformer = pipeline
    steps = getattr(pipeline, "steps", None)
    if steps:
        transformer = steps[0][1]
    fitted = getattr(transformer, "transformers_", None)
    if not fitted:
        return {}
    out: dict[str, frozenset[str]] = {}
    for _name, part, cols in fitted:
        if isinstance(part, str) or not isinstance(cols, list | tuple):
            continue
        encoder = _strict_encoder(part)
        if encoder is None:
            continue
        for col, cats in zip(cols, encoder.categories_, strict=False):
            out[str(col)] = frozenset(category_text(_plain(c)) for c in cats)
    return out


def _strict_encoder(part: Any) -> Any:
    steps = getattr(part, "steps", None)
    candidates = [s for _, s in steps] if steps else [part]
    for step in candidates:
        if hasattr(step, "categories_") and getattr(step, "handle_unknown", None) == "error":
            return step
    return None


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value
