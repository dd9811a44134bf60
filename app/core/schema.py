"""What each column is for, guessed from its values: the role drives profiling and training.

Roles: numeric, categorical, boolean, datetime, text, identifier. The guess uses Arrow
compute kernels over whole columns (distinct counts, lengths) and a bounded sample for the
string-pattern checks, so it costs a small fraction of reading the file.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

ROLES = ("numeric", "categorical", "boolean", "datetime", "text", "identifier")
_BOOL_WORDS = {"true", "false", "yes", "no", "y", "n", "t", "f"}
_ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key|code)$|^id[_\s-]|Id$", re.IGNORECASE)
_SAMPLE = 20_000
#: Above this many rows, distinct values are counted on an evenly strided sample of this size:
#: an exact distinct count of a 1M-row text column costs more than reading it.
DISTINCT_SAMPLE = 100_000


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    physical_type: str
    role: str
    missing: int  # exact
    distinct: int  # exact up to DISTINCT_SAMPLE rows, else counted on a strided sample

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ColumnInfo:
        return cls(**{k: data[k] for k in ("name", "physical_type", "role", "missing", "distinct")})


def infer_schema(table: pa.Table) -> list[ColumnInfo]:
    sample = _strided_sample(table)
    return [
        infer_column(name, table.column(name), sample.column(name)) for name in table.column_names
    ]


def _strided_sample(table: pa.Table, blocks: int = 100) -> pa.Table:
    """Evenly spaced contiguous blocks: zero-copy slices, unlike ``take`` across chunks."""
    if table.num_rows <= DISTINCT_SAMPLE:
        return table
    import pyarrow as pa

    size = DISTINCT_SAMPLE // blocks
    stride = table.num_rows // blocks
    return pa.concat_tables([table.slice(i * stride, size) for i in range(blocks)])


def infer_column(
    name: str, column: pa.ChunkedArray, sample: pa.ChunkedArray | None = None
) -> ColumnInfo:
    import pyarrow as pa
    import pyarrow.compute as pc

    sample = column if sample is None else sample
    typ = column.type
    rows = len(column)
    if pa.types.is_null(typ):  # a column with no value at all (pyarrow's null type)
        return ColumnInfo(name, str(typ), "categorical", rows, 0)
    missing = column.null_count
    if pa.types.is_floating(typ) and rows:
        missing += int(pc.sum(pc.is_nan(column)).as_py() or 0)
    present = len(sample) - sample.null_count
    distinct = int(pc.count_distinct(sample, mode="only_valid").as_py()) if rows else 0
    role = _role(name, typ, sample, present, distinct)
    if len(sample) < rows and distinct == present:
        distinct = rows - column.null_count  # all sampled values differ: say so for the whole
    return ColumnInfo(name, str(typ), role, missing, distinct)


def _role(name: str, typ: pa.DataType, column: pa.ChunkedArray, present: int, distinct: int) -> str:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(typ):
        return "boolean"
    if pa.types.is_temporal(typ):
        return "datetime"
    all_unique = present > 20 and distinct == present
    if pa.types.is_integer(typ):
        if all_unique and _ID_NAME.search(name):
            return "identifier"
        if distinct == 2 and present > 2:
            values = set(pc.unique(column.drop_null()).to_pylist())
            if values <= {0, 1}:
                return "boolean"
        return "numeric"
    if pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return "numeric"
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_dictionary(typ):
        if pa.types.is_dictionary(typ):
            column = column.cast(typ.value_type)
        sample = column.slice(0, _SAMPLE).drop_null()
        if 0 < distinct <= 2:
            words = {str(v).strip().lower() for v in pc.unique(column.drop_null()).to_pylist()}
            if words <= _BOOL_WORDS:
                return "boolean"
        if len(sample) == 0:
            return "categorical"
        lengths = pc.utf8_length(sample)
        mean_len = pc.mean(lengths).as_py() or 0.0
        spaced = pc.mean(pc.cast(pc.match_substring_regex(sample, r"\s\S"), pa.int8())).as_py()
        if mean_len >= 30 and (spaced or 0) > 0.5:
            return "text"
        ratio = distinct / present if present else 0.0
        if all_unique or (ratio > 0.95 and present > 100):
            return "text" if (spaced or 0) > 0.5 else "identifier"
        return "categorical"
    return "categorical"


# -- what each column is used for (set by the person, stored with the dataset version) ---------

#: A column's use in training: the default ``feature``, the one ``target``, an ``identifier``
#: (kept for joins and lookups, never learnt from) or ``ignored``. Only the non-default uses are
#: stored, as ``{column: use}``.
USAGES = ("feature", "target", "identifier", "ignored")
DEFAULT_USAGE = "feature"


def check_usages(columns: list[str], usages: dict[str, str], where: str) -> dict[str, str]:
    """``usages`` reduced to the non-default entries, or ``InvalidInput`` naming the problem:
    an unknown column or use, or more than one target."""
    from app.core.errors import InvalidInput

    out: dict[str, str] = {}
    for column, usage in usages.items():
        if column not in columns:
            raise InvalidInput(
                f"{where} has no column '{column}'.",
                hint="Its columns: " + ", ".join(columns[:40]),
            )
        if usage not in USAGES:
            raise InvalidInput(
                f"'{usage}' is not a column role (column '{column}').",
                hint="Use one of " + ", ".join(USAGES) + ".",
            )
        if usage != DEFAULT_USAGE:
            out[column] = usage
    targets = [c for c, u in out.items() if u == "target"]
    if len(targets) > 1:
        raise InvalidInput(
            f"{where} can have one target; {', '.join(repr(t) for t in targets)} were given.",
            hint="Mark one column as the target and the others as features.",
        )
    return out


def target_of(usages: dict[str, str]) -> str | None:
    """The column marked as the target, if any."""
    return next((c for c, u in usages.items() if u == "target"), None)
