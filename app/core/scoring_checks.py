"""The model's signature checked against a data file, column by column, on Arrow arrays.

The model server's rules (``app/serving/schema.py``: its column kinds, its reading of the
fitted encoders, its spelling of categories), applied to whole columns at C speed instead
of to the Python values of one request:

* a ``number`` column takes numbers and missing values; text that does not read as a
  number marks its row as one that cannot be scored; a column of another type (dates,
  booleans, lists) is refused as a whole, naming it;
* a ``category`` column takes any scalar; where the model's encoder rejects unseen values
  (``handle_unknown="error"``), a value outside its categories marks its row;
* a ``date`` column takes dates, numbers and text that parses as a date;
* anything else (``any``) goes to the model unchecked.

Rows are numbered from 1, the first row under the header, as a spreadsheet shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.core.errors import InvalidInput
from app.serving.schema import MISSING, ColumnCheck, Signature, category_text


@dataclass(frozen=True)
class RowError:
    """One row that could not be scored: where, what it held and why."""

    row: int  # 1 = the first data row
    column: str | None
    value: str | None
    problem: str

    def sentence(self) -> str:
        return f"row {self.row}: {self.problem}"


def column_specs(signature: dict[str, Any], pipeline: Any) -> list[ColumnCheck]:
    """The model's input columns with the server's kinds (signature first, else the
    pipeline's own feature names)."""
    columns = list(signature.get("columns") or [])
    if not columns:
        names = getattr(pipeline, "feature_names_in_", None)
        if names is None:
            raise InvalidInput(
                "This model version records no input columns, so a file cannot be matched to it.",
                hint="Register it from a run trained by ModelDesk, which records its signature.",
            )
        columns = [{"name": str(n)} for n in names]
    return Signature(columns, pipeline).columns


def check_names(table: pa.Table, needed: Sequence[str], source: str, model: str) -> None:
    """Refuse a file that lacks a column the model needs (extra columns are ignored)."""
    present = set(table.column_names)
    missing = [name for name in needed if name not in present]
    if missing:
        raise InvalidInput(
            f"{source} has no column '{missing[0]}', which {model} needs"
            + (f" (nor {', '.join(repr(m) for m in missing[1:4])})" if len(missing) > 1 else "")
            + f"; the model takes {len(needed)} columns: {', '.join(needed)}.",
            hint="Rename the file's columns to the model's, or score another file.",
        )


def check_columns(table: pa.Table, specs: Sequence[ColumnCheck], source: str, model: str) -> None:
    """Refuse a file that lacks a model column or holds one of a type it can never take."""
    check_names(table, [s.name for s in specs], source, model)
    for spec in specs:
        kind = table.schema.field(spec.name).type
        trained_on_booleans = spec.dtype.startswith("bool") and pa.types.is_boolean(kind)
        if spec.kind == "number" and not (_numberish(kind) or trained_on_booleans):
            raise InvalidInput(
                f"Column '{spec.name}' of {source} holds {_type_words(kind)}; {model} expects "
                "numbers there.",
                hint="Convert the column to numbers, or score the file with the right model.",
            )


def _numberish(kind: pa.DataType) -> bool:
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_null(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_dictionary(kind)
    )


def _type_words(kind: pa.DataType) -> str:
    if pa.types.is_boolean(kind):
        return "true/false values"
    if pa.types.is_temporal(kind):
        return "dates or times"
    return f"values of type {kind}"


def prepare_batch(
    batch: pa.Table, specs: Sequence[ColumnCheck], first_row: int
) -> tuple[pa.Table, np.ndarray, list[RowError]]:
    """The model's columns ready for it, a mask of the rows that can be scored, their errors.

    ``first_row`` is the 1-based number of the batch's first row in the file.
    """
    good = np.ones(batch.num_rows, dtype=bool)
    errors: list[RowError] = []
    arrays = []
    for spec in specs:
        column = batch.column(spec.name).combine_chunks()
        if spec.kind == "number":
            column = _numbers(column, spec, good, errors, first_row)
        elif spec.kind == "date":
            _dates(column, spec, good, errors, first_row)
        elif spec.kind == "category" and spec.allowed is not None:
            _categories(column, spec, good, errors, first_row)
        arrays.append(column)
    return pa.table(arrays, names=[s.name for s in specs]), good, errors


def _numbers(column, spec, good, errors, first_row) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return pc.cast(column, pa.float64())
    text = pc.utf8_trim_whitespace(column)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
    try:
        return pc.cast(text, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    import pandas as pd

    parsed = pd.to_numeric(text.to_pandas(), errors="coerce").to_numpy(dtype="float64", copy=True)
    present = text.is_valid().to_numpy(zero_copy_only=False)
    bad = present & np.isnan(parsed)
    for i in np.flatnonzero(bad):
        value = text[int(i)].as_py()
        _mark(good, errors, spec, i, first_row, value, f"text ('{_short(value)}')", "a number")
    parsed[bad] = np.nan
    return pa.array(parsed, mask=~present | bad)


def _dates(column, spec, good, errors, first_row) -> None:
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return
    import pandas as pd

    texts = column.to_pandas().astype(object)
    parsed = pd.to_datetime(texts, errors="coerce", format="mixed", utc=True)
    present = texts.notna().to_numpy() & (texts.astype(str).str.strip() != "").to_numpy()
    for i in np.flatnonzero(present & parsed.isna().to_numpy()):
        value = texts.iloc[int(i)]
        _mark(
            good,
            errors,
            spec,
            i,
            first_row,
            value,
            f"text ('{_short(value)}')",
            "a date such as 2024-05-31 or 2024-05-31T12:00:00",
        )


def _categories(column, spec, good, errors, first_row) -> None:
    encoded = column.dictionary_encode() if not pa.types.is_dictionary(column.type) else column
    labels = [category_text(v) for v in encoded.dictionary.to_pylist()]
    unseen = np.asarray([label not in spec.allowed for label in labels], dtype=bool)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    valid = encoded.indices.is_valid().to_numpy(zero_copy_only=False)
    known = sorted(spec.allowed - {MISSING})
    listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
    rows = np.zeros(len(column), dtype=bool)
    rows[valid] = unseen[indices[valid]]
    if MISSING not in spec.allowed:
        rows |= ~valid
    for i in np.flatnonzero(rows):
        label = labels[indices[i]] if valid[i] else MISSING
        shown = "a missing value" if label == MISSING else f"'{_short(label)}'"
        problem = (
            f"Column '{spec.name}' has {shown}, a category the model never saw and cannot "
            f"take; known categories: {listed}."
        )
        _add(good, errors, i, first_row, RowError(first_row + int(i), spec.name, label, problem))


def _mark(good, errors, spec, i, first_row, value, shown, expected) -> None:
    problem = f"Column '{spec.name}' has {shown}; expected {expected}."
    _add(good, errors, i, first_row, RowError(first_row + int(i), spec.name, str(value), problem))


def _add(good: np.ndarray, errors: list[RowError], i: Any, first_row: int, error: RowError):
    if good[i]:  # one error per row: the first column that fails
        good[i] = False
        errors.append(error)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"
