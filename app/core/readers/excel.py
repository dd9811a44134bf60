"""Excel workbooks (.xlsx), the one format pyarrow cannot read: pandas + openpyxl parse it.

Header problems are named by the sheet's column letters, because that is what the user sees
in Excel; the resulting frame is converted to Arrow with the same types the other readers give.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput
from app.core.progress import Progress
from app.core.readers.checks import _join
from app.core.readers.formats import SourceInfo
from app.core.readers.sources import _read_all

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@contextlib.contextmanager
def _excel_source(path: Path, info: SourceInfo, progress: Progress) -> Iterator[Any]:
    if info.compression is None:
        yield str(path)
    else:
        yield io.BytesIO(_read_all(path, info, progress))


def _read_xlsx(
    path: Path, info: SourceInfo, sheet: str | None, progress: Progress
) -> tuple[pa.Table, dict[str, Any]]:
    import pandas as pd
    from openpyxl.utils import get_column_letter

    with (
        _excel_source(path, info, progress) as source,
        pd.ExcelFile(source, engine="openpyxl") as book,
    ):
        sheets = [str(s) for s in book.sheet_names]
        chosen = sheets[0] if sheet is None else sheet
        if chosen not in sheets:
            raise InvalidInput(
                f"{path.name} has no sheet named '{sheet}'.",
                hint=f"Choose one of its sheets: {', '.join(sheets)}.",
            )
        header = _excel_header(book.book[chosen])
        progress.update(0.1, f"Reading sheet '{chosen}' of {path.name}")
        frame = pd.read_excel(book, sheet_name=chosen)
    progress.check_cancelled()
    if frame.shape[1] == 0:
        raise InvalidInput(
            f"Sheet '{chosen}' of {path.name} is empty.",
            hint="Choose the sheet that holds the data.",
        )
    width = frame.shape[1]
    raw = (list(header) + [None] * width)[:width]
    blank = [i for i, v in enumerate(raw) if v is None or not str(v).strip()]
    # A column with neither a name nor any value is formatting residue, not data.
    empty = {i for i in blank if frame.iloc[:, i].isna().all()}
    keep = [i for i in range(width) if i not in empty]
    frame = frame.iloc[:, keep]
    names = ["" if raw[i] is None else str(raw[i]) for i in keep]
    unnamed = [f"{get_column_letter(i + 1)}" for i in keep if i in blank]
    if unnamed:
        raise InvalidInput(
            f"Sheet '{chosen}' of {path.name}: column{'s' if len(unnamed) > 1 else ''} "
            f"{_join(unnamed)} {'have' if len(unnamed) > 1 else 'has'} values but no name "
            "in the header row.",
            hint="Type a name for every column in the first row of the sheet.",
        )
    letters = {
        n: [get_column_letter(i + 1) for i, m in zip(keep, names, strict=True) if m == n]
        for n in names
    }
    dup = {n: ls for n, ls in letters.items() if len(ls) > 1}
    if dup:
        described = "; ".join(f"'{n}' (columns {_join(ls)})" for n, ls in dup.items())
        raise InvalidInput(
            f"Sheet '{chosen}' of {path.name} repeats column names: {described}.",
            hint="Give every column a unique name in the header row.",
        )
    frame.columns = names
    return _frame_to_table(frame), {"sheet": chosen}


def _excel_header(worksheet: Any) -> tuple[Any, ...]:
    """The first non-empty row, the one pandas takes as header (it skips blank rows)."""
    for row in worksheet.iter_rows(values_only=True):
        if any(v is not None and str(v).strip() for v in row):
            return tuple(row)
    return ()


def _frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """pandas -> Arrow with pyarrow's types; a column of mixed Python types becomes text."""
    import pandas as pd
    import pyarrow as pa

    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        if series.dtype != object:
            continue
        try:
            pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            frame.isetitem(
                position,
                pd.Series(
                    [None if _is_missing(v) else str(v) for v in series],
                    index=series.index,
                    dtype=object,
                ),
            )
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    return _narrow_strings(table)


def _is_missing(value: Any) -> bool:
    import pandas as pd

    if isinstance(value, float):
        return math.isnan(value)
    return value is None or value is pd.NaT or value is pd.NA


def _narrow_strings(table: pa.Table) -> pa.Table:
    """pandas yields large_string; the CSV reader yields string. One type downstream."""
    import pyarrow as pa

    for i, f in enumerate(table.schema):
        if pa.types.is_large_string(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table
