"""The Schema tab: one row per column with its role, type, inferred kind, missing and distinct.

A schema is a handful of rows already in memory (``DatasetVersion.schema``), so this small
model reads the frozen ``ColumnInfo`` tuples directly; big tables go through
``DataFrameModel``. The Role column (feature, target, identifier, ignored) is editable with a
combo box (``RoleDelegate``): an edit shows at once and is announced by ``role_edited``; the
panel stores it with the dataset version and puts the stored roles back with ``set_usages``
(which also undoes an edit the store refused).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate, QWidget

from app.core.schema import DEFAULT_USAGE, USAGES, ColumnInfo

HEADERS = ("Column", "Role", "Type", "Kind", "Missing", "Distinct")
ROLE_COLUMN = 1
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
ROLE_TIPS = {
    "feature": "Learnt from (the default).",
    "target": "The column to predict: profile, train and tune use it unless told otherwise.",
    "identifier": "Names a row (an id): kept, never learnt from.",
    "ignored": "Left out of training.",
}


class SchemaModel(QAbstractTableModel):
    role_edited = Signal(str, str)  # column, role

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._columns: tuple[ColumnInfo, ...] = ()
        self._rows = 0
        self._usages: dict[str, str] = {}

    def set_schema(
        self, columns: tuple[ColumnInfo, ...], rows: int, usages: dict[str, str] | None = None
    ) -> None:
        self.beginResetModel()
        self._columns, self._rows = tuple(columns), rows
        self._usages = dict(usages or {})
        self.endResetModel()

    def set_usages(self, usages: dict[str, str]) -> None:
        """The stored roles (after a save, or to undo a refused edit)."""
        self._usages = dict(usages)
        if self._columns:
            top, bottom = self.index(0, ROLE_COLUMN), self.index(len(self._columns) - 1, 1)
            self.dataChanged.emit(top, bottom)

    def column_names(self) -> list[str]:
        return [c.name for c in self._columns]

    def usages(self) -> dict[str, str]:
        return dict(self._usages)

    def role(self, column: str) -> str:
        return self._usages.get(column, DEFAULT_USAGE)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == ROLE_COLUMN:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        col = self._columns[index.row()]
        c = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if c == 0:
                return col.name
            if c == ROLE_COLUMN:
                return self.role(col.name)
            if c == 2:
                return col.physical_type
            if c == 3:
                return col.role
            if c == 4:
                if not col.missing:
                    return "0"
                share = col.missing / self._rows * 100 if self._rows else 0.0
                return f"{col.missing:,} ({share:.1f}%)"
            return f"{col.distinct:,}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if c >= 4 else _LEFT
        if (
            role == Qt.ItemDataRole.FontRole
            and c == ROLE_COLUMN
            and self.role(col.name) != "feature"
        ):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if c == ROLE_COLUMN:
                return f"{ROLE_TIPS[self.role(col.name)]} Double-click to change."
            if c == 3:
                return "Kind inferred from the values; it decides how the column is profiled."
        return None

    def setData(
        self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = 2
    ) -> bool:
        if not index.isValid() or index.column() != ROLE_COLUMN or value not in USAGES:
            return False
        name = self._columns[index.row()].name
        if self.role(name) == value:
            return False
        if value == "target":  # one target: the previous one becomes a feature
            self._usages = {c: u for c, u in self._usages.items() if u != "target"}
        self._usages[name] = value
        self.set_usages({c: u for c, u in self._usages.items() if u != DEFAULT_USAGE})
        self.role_edited.emit(name, value)
        return True

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return str(section + 1)


class RoleDelegate(QStyledItemDelegate):
    """A combo box of the four roles for the Role column."""

    def createEditor(self, parent: QWidget, option: Any, index: QModelIndex) -> QWidget:
        combo = QComboBox(parent)
        combo.setObjectName("role-editor")
        for usage in USAGES:
            combo.addItem(usage)
            combo.setItemData(combo.count() - 1, ROLE_TIPS[usage], Qt.ItemDataRole.ToolTipRole)
        combo.activated.connect(lambda _i, c=combo: self.commitData.emit(c))
        return combo

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole)))  # type: ignore[attr-defined]

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex) -> None:
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)  # type: ignore[attr-defined]
