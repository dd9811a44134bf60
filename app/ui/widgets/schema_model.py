"""The Schema tab: one row per column with its type, inferred role, missing and distinct.

A schema is a handful of rows already in memory (``DatasetVersion.schema``), so this small
model reads the frozen ``ColumnInfo`` tuples directly; big tables go through
``DataFrameModel``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app.core.schema import ColumnInfo

HEADERS = ("Column", "Type", "Role", "Missing", "Distinct")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class SchemaModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._columns: tuple[ColumnInfo, ...] = ()
        self._rows = 0

    def set_schema(self, columns: tuple[ColumnInfo, ...], rows: int) -> None:
        self.beginResetModel()
        self._columns, self._rows = tuple(columns), rows
        self.endResetModel()

    def column_names(self) -> list[str]:
        return [c.name for c in self._columns]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        col = self._columns[index.row()]
        c = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if c == 0:
                return col.name
            if c == 1:
                return col.physical_type
            if c == 2:
                return col.role
            if c == 3:
                if not col.missing:
                    return "0"
                share = col.missing / self._rows * 100 if self._rows else 0.0
                return f"{col.missing:,} ({share:.1f}%)"
            return f"{col.distinct:,}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if c >= 3 else _LEFT
        if role == Qt.ItemDataRole.ToolTipRole and c == 2:
            return "Role inferred from the values; it decides how the column is profiled and used."
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return str(section + 1)
