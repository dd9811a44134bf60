"""A small read-only table of already formatted rows, for the Runs panel's little tables.

Parameters, per-fold metrics, the package list and the parameter comparison are tens to a few
hundred short rows that a job has already prepared, so they are kept as Python lists; the
shared ``DataFrameModel`` is for Arrow tables. Rows can be *highlighted* (the parameters that
differ between compared runs): bold text on the palette's highlight-tinted background, and
``True`` for ``HIGHLIGHT_ROLE`` so tests and accessibility tools can read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

HIGHLIGHT_ROLE = Qt.ItemDataRole.UserRole + 10
VALUE_ROLE = Qt.ItemDataRole.UserRole + 11


class RowsModel(QAbstractTableModel):
    def __init__(self, headers: Sequence[str] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers: list[str] = list(headers)
        self._rows: list[list[Any]] = []
        self._highlight: set[int] = set()
        self._tips: dict[tuple[int, int], str] = {}
        self._right: set[int] = set()
        self._header_tips: list[str] = []
        self._bold: set[tuple[int, int]] = set()

    # -- filling -----------------------------------------------------------------------------

    def set_rows(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        highlight: set[int] | None = None,
        right_aligned: set[int] | None = None,
        tips: dict[tuple[int, int], str] | None = None,
        header_tips: Sequence[str] = (),
        bold_cells: set[tuple[int, int]] | None = None,
    ) -> None:
        self.beginResetModel()
        self._headers = list(headers)
        self._rows = [list(r) for r in rows]
        self._highlight = set(highlight or ())
        self._right = set(right_aligned or ())
        self._tips = dict(tips or {})
        self._header_tips = list(header_tips)
        self._bold = set(bold_cells or ())
        self.endResetModel()

    def clear(self) -> None:
        self.set_rows(self._headers, [])

    # -- reading -----------------------------------------------------------------------------

    def headers(self) -> list[str]:
        return list(self._headers)

    def row_values(self, row: int) -> list[Any]:
        return list(self._rows[row])

    def is_highlighted(self, row: int) -> bool:
        return row in self._highlight

    def is_bold(self, row: int, column: int) -> bool:
        return row in self._highlight or (row, column) in self._bold

    def find_row(self, first_cell: Any) -> int:
        for i, row in enumerate(self._rows):
            if row and row[0] == first_cell:
                return i
        return -1

    # -- Qt ----------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole and section < len(self._headers):
            return self._headers[section]
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self._header_tips):
            return self._header_tips[section] or None
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        value = self._rows[row][col] if col < len(self._rows[row]) else None
        if role == Qt.ItemDataRole.DisplayRole:
            return "" if value is None else str(value)
        if role == VALUE_ROLE:
            return value
        if role == HIGHLIGHT_ROLE:
            return row in self._highlight
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tips.get((row, col)) or (str(value) if value is not None else None)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in self._right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and (row, col) in self._bold:
            font = QFont()
            font.setBold(True)
            return font
        if row in self._highlight:
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
            if role == Qt.ItemDataRole.BackgroundRole:
                color = QColor(QApplication.palette().color(QPalette.ColorRole.Highlight))
                color.setAlpha(60)
                return QBrush(color)
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
