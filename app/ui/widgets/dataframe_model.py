"""The one table model: a ``pyarrow.Table`` shown cell by cell, read on demand.

Nothing is converted up front. When the view asks for a cell, the model converts the
``BLOCK_ROWS``-row block of that cell's column to Python values, formats them once, and keeps
the block in a small LRU cache; scrolling a million rows therefore costs what the visible
rows cost. Missing values (null, and NaN in float columns) are shown as ``NULL_TEXT`` in the
palette's placeholder colour and report ``True`` for ``MISSING_ROLE``.

pyarrow is never imported here at module level: the model receives a table that a job has
already loaded, so importing this module stays cheap at start-up.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    import pyarrow as pa

BLOCK_ROWS = 64
CACHE_BLOCKS = 256  # column-blocks kept (≈ 6 screens of 21 columns)
NULL_TEXT = "—"
MAX_TEXT = 300  # characters shown in a cell; the tooltip has the rest
MISSING_ROLE = Qt.ItemDataRole.UserRole + 1
VALUE_ROLE = Qt.ItemDataRole.UserRole + 2  # the Python value of the cell

_DISPLAY = Qt.ItemDataRole.DisplayRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_CELL_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_CONTROL = re.compile(r"[\n\r\t]")


# -- formatting -------------------------------------------------------------------------------


def format_float(value: float) -> str:
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return format(value, ".10g")


def format_text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    if "\n" in text or "\r" in text or "\t" in text:
        text = text.replace("\r\n", " ↵ ").replace("\n", " ↵ ").replace("\r", " ↵ ")
        text = text.replace("\t", " ")
    return text


def format_binary(value: bytes) -> str:
    return f"<{len(value):,} bytes>"


def _column_kind(typ: pa.DataType) -> str:
    import pyarrow as pa  # already imported by whoever loaded the table

    if pa.types.is_dictionary(typ):
        return "text"  # decoded by to_pylist, then shown as text
    if pa.types.is_boolean(typ):
        return "bool"
    if pa.types.is_integer(typ):
        return "int"
    if pa.types.is_floating(typ):
        return "float"
    if pa.types.is_decimal(typ):
        return "decimal"
    if pa.types.is_duration(typ) or pa.types.is_interval(typ):
        return "duration"
    if pa.types.is_temporal(typ):
        return "temporal"
    binary = pa.types.is_binary, pa.types.is_large_binary, pa.types.is_fixed_size_binary
    if any(test(typ) for test in binary):
        return "binary"
    return "text"


def _python_texts(fmt: Callable[[Any], str]) -> Callable[[Any], list[str | None]]:
    def texts(chunk: Any) -> list[str | None]:
        return [None if v is None else fmt(v) for v in chunk.to_pylist()]

    return texts


def _cast_texts(chunk: Any) -> list[str | None]:
    """Arrow's own vectorised cast to text: ints, booleans, decimals, dates, timestamps."""
    import pyarrow as pa

    try:
        return chunk.cast(pa.string()).to_pylist()
    except pa.ArrowException:  # a type Arrow cannot print: Python's str() of each value
        return [None if v is None else format_text(v) for v in chunk.to_pylist()]


def _plain_texts(chunk: Any) -> list[str | None]:
    values = chunk.to_pylist()
    for i, v in enumerate(values):
        if v is not None and (type(v) is not str or len(v) > MAX_TEXT or _CONTROL.search(v)):
            values[i] = format_text(v)
    return values


_BLOCK_TEXTS: dict[str, Callable[[Any], list[str | None]]] = {
    "bool": _cast_texts,
    "int": _cast_texts,
    "float": _python_texts(format_float),
    "decimal": _cast_texts,
    "temporal": _cast_texts,
    "duration": _python_texts(str),
    "binary": _python_texts(format_binary),
    "text": _plain_texts,
}
NUMERIC_KINDS = frozenset({"int", "float", "decimal"})


# -- the model --------------------------------------------------------------------------------


class DataFrameModel(QAbstractTableModel):
    """Read-only view of an Arrow table; cells are formatted lazily in cached row blocks."""

    def __init__(self, table: pa.Table | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._table: pa.Table | None = None
        self._rows = 0
        self._names: list[str] = []
        self._columns: list[Any] = []
        self._ncols = 0
        self._kinds: list[str] = []
        self._formatters: list[Callable[[Any], list[str | None]]] = []
        self._align: list[Qt.AlignmentFlag] = []
        self._types: list[str] = []
        self._cache: OrderedDict[tuple[int, int], list[str | None]] = OrderedDict()
        self._order: pa.Array | None = None  # view row → table row while sorted
        if table is not None:
            self.set_table(table)

    # -- contents ----------------------------------------------------------------------------

    def set_table(self, table: pa.Table | None) -> None:
        """Show another table (or none). Costs O(columns), whatever the number of rows."""
        self.beginResetModel()
        self._table = table
        self._cache.clear()
        self._order = None
        if table is None:
            self._rows, self._names, self._columns = 0, [], []
            self._kinds, self._formatters, self._align, self._types = [], [], [], []
        else:
            self._rows = table.num_rows
            self._names = [str(n) for n in table.column_names]
            self._columns = [table.column(i) for i in range(table.num_columns)]
            self._kinds = [_column_kind(col.type) for col in self._columns]
            self._formatters = [_BLOCK_TEXTS[k] for k in self._kinds]
            self._align = [_RIGHT if k in NUMERIC_KINDS else _LEFT for k in self._kinds]
            self._types = [str(col.type) for col in self._columns]
        self._ncols = len(self._columns)
        self.endResetModel()

    def table(self) -> pa.Table | None:
        return self._table

    def order(self) -> pa.Array | None:
        """The permutation the rows are shown in (None: the table's own order)."""
        return self._order

    def set_order(self, order: pa.Array | None) -> None:
        """Show the rows in ``order`` (a permutation computed off the GUI thread): O(1) here,
        each visible block is taken through it when it is drawn."""
        self.layoutAboutToBeChanged.emit()
        self._order = order
        self._cache.clear()
        self.layoutChanged.emit()

    def table_row(self, row: int) -> int:
        """The table row shown on view row ``row``."""
        return row if self._order is None else self._order[row].as_py()

    def column_names(self) -> list[str]:
        return list(self._names)

    def display_text(self, row: int, column: int) -> str:
        """The text a cell shows; the fast path used by ``data`` and the benchmarks."""
        text = self._texts(row, column)[row % BLOCK_ROWS]
        return NULL_TEXT if text is None else text

    def value(self, row: int, column: int) -> Any:
        """The cell as a Python value (None when missing); converted on each call."""
        return self._columns[column].slice(self.table_row(row), 1).to_pylist()[0]

    def is_missing(self, row: int, column: int) -> bool:
        text = self._texts(row, column)[row % BLOCK_ROWS]
        return text is None or (text == "NaN" and self._kinds[column] == "float")

    # -- Qt model API ------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = _ROOT) -> QModelIndex:
        # Qt's own index() asks rowCount and columnCount (two calls into Python) per cell.
        if 0 <= row < self._rows and 0 <= column < self._ncols and not parent.isValid():
            return self.createIndex(row, column)
        return QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            row = index.row()
            text = self._texts(row, index.column())[row % BLOCK_ROWS]
            return NULL_TEXT if text is None else text
        if role == _ALIGN:
            return self._align[index.column()]
        if role == _FOREGROUND:
            if self.is_missing(index.row(), index.column()):
                return QApplication.palette().brush(QPalette.ColorRole.PlaceholderText)
            return None
        if role == MISSING_ROLE:
            return self.is_missing(index.row(), index.column())
        if role == VALUE_ROLE:
            return self.value(index.row(), index.column())
        if role == _TOOLTIP:
            return self._tooltip(index.row(), index.column())
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if section >= len(self._names):
                return None
            if role == _DISPLAY:
                return self._names[section]
            if role == _TOOLTIP:
                return f"{self._names[section]}: {self._types[section]}"
            if role == _ALIGN:
                return self._align[section]
            return None
        if role == _DISPLAY:
            return str(self.table_row(section) + 1) if section < self._rows else None
        if role == _ALIGN:
            return _RIGHT
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return _CELL_FLAGS if index.isValid() else _NO_FLAGS

    # -- blocks ------------------------------------------------------------------------------

    def _tooltip(self, row: int, column: int) -> str | None:
        if self.is_missing(row, column):
            return "missing (NaN)" if self._kinds[column] == "float" else "missing (null)"
        shown = self.display_text(row, column)
        if shown.endswith("…") or "↵" in shown:
            return str(self.value(row, column))[:4000]
        return None

    def _texts(self, row: int, column: int) -> list[str | None]:
        """The display texts of the block holding ``row`` in ``column`` (None = null)."""
        key = (row // BLOCK_ROWS, column)
        cache = self._cache
        texts = cache.get(key)
        if texts is not None:
            cache.move_to_end(key)
            return texts
        if self._order is None:
            chunk = self._columns[column].slice(key[0] * BLOCK_ROWS, BLOCK_ROWS)
        else:
            chunk = self._columns[column].take(self._order.slice(key[0] * BLOCK_ROWS, BLOCK_ROWS))
        texts = self._formatters[column](chunk)
        cache[key] = texts
        if len(cache) > CACHE_BLOCKS:
            cache.popitem(last=False)
        return texts
