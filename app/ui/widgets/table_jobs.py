"""The heavy parts of a data table, as plain functions a job runs off the GUI thread.

Selecting all of a 1,000,000-row table is one selection range and costs nothing; copying it
or sorting it does not. Both are computed here on Arrow arrays, in a worker, with progress and
cancel, so the window stays fluid (Orange3 #5162 froze for the same select-all and copy).
Nothing here imports Qt: the copy's text stays in an Arrow buffer (no copy, no GIL held while
Arrow writes it) until the clipboard is asked for it (``table_view.LazyMimeData``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

COPY_BATCH_ROWS = 65_536  # rows written between two progress reports and cancel checks


@dataclass(frozen=True)
class CellRange:
    """A rectangle of selected cells, inclusive, in view rows and columns."""

    top: int
    bottom: int
    left: int
    right: int


@dataclass(frozen=True)
class CopiedCells:
    payload: pa.Buffer  # UTF-8 tab-separated text, header first
    rows: int
    columns: int


def selected_rows_and_columns(ranges: Sequence[CellRange]) -> tuple[Any, list[int]]:
    """The rows (a numpy array) and columns covered by ``ranges``, each sorted and unique.

    Several rectangles copy as the rows of any of them by the columns of any of them, the
    way a spreadsheet pastes a block; one rectangle (select-all) never builds a row list
    larger than an ``arange``.
    """
    import numpy as np

    columns = sorted({c for r in ranges for c in range(r.left, r.right + 1)})
    if len(ranges) == 1:
        only = ranges[0]
        return np.arange(only.top, only.bottom + 1, dtype=np.int64), columns
    rows = np.unique(
        np.concatenate([np.arange(r.top, r.bottom + 1, dtype=np.int64) for r in ranges])
    )
    return rows, columns


def copy_cells(
    table: pa.Table,
    ranges: Sequence[CellRange],
    order: pa.Array | None = None,
    *,
    progress: Any,
) -> CopiedCells:
    """Tab-separated text of the selected cells (header line first), as a clipboard payload.

    ``order`` maps view rows to table rows when the view is sorted. Values are written by
    Arrow's CSV writer, quoted only where a value holds a tab, quote or line break, so a
    spreadsheet pastes them back cell for cell.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rows, columns = selected_rows_and_columns(ranges)
    if not columns or len(rows) == 0:
        return CopiedCells(pa.py_buffer(b""), 0, 0)
    picked = table.select(columns)
    indices = pa.array(rows)
    if order is not None:
        indices = order.take(indices)
    out = pa.BufferOutputStream()
    options = pacsv.WriteOptions(delimiter="\t", quoting_style="needed", include_header=True)
    total = len(indices)
    for start in range(0, total, COPY_BATCH_ROWS):
        progress.check_cancelled()
        batch = picked.take(indices.slice(start, COPY_BATCH_ROWS))
        pacsv.write_csv(batch, out, options)
        options = pacsv.WriteOptions(delimiter="\t", quoting_style="needed", include_header=False)
        progress.update(min(1.0, (start + COPY_BATCH_ROWS) / total), f"{start:,} of {total:,} rows")
    return CopiedCells(out.getvalue(), total, len(columns))


def sort_order(table: pa.Table, column: int, descending: bool, *, progress: Any) -> pa.Array:
    """The permutation that sorts ``table`` by ``column`` (missing values last, stable)."""
    import pyarrow.compute as pc

    progress.check_cancelled()
    order = "descending" if descending else "ascending"
    return pc.array_sort_indices(table.column(column), order=order, null_placement="at_end")
