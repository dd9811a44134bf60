"""The versions of one model as a table model and its view, and the alias list whose items
can be dragged onto a version row to move that alias there.

``VersionsModel`` holds the ``ModelVersion`` list a job returned (newest first) and shows one
row per version; archived versions are greyed, aliases are in bold. The view emits
``alias_dropped(alias, version)``; the panel decides what a drop means (the policy check).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QDrag, QFont, QPalette
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListWidget, QTableView

ALIAS_MIME = "application/x-modeldesk-alias"
VERSION_ROLE = Qt.ItemDataRole.UserRole  # the row's version number

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def primary_metric(version: Any) -> tuple[str, float | None]:
    """The task's primary metric of ``version`` and its cross-validated value."""
    from app.core.training.metrics import PRIMARY

    key = PRIMARY.get(version.task or "", "")
    return key, version.metrics.get(key)


def local_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


class VersionsModel(QAbstractTableModel):
    HEADERS = ("Version", "Status", "Aliases", "Metric", "Run", "Created")
    TIPS = (
        "The version number within its model",
        "active, or archived (kept for the record, cannot get an alias)",
        "Aliases pointing at this version; drag one from the list above onto a row",
        "The task's primary metric (cross-validation mean)",
        "The run it was registered from ('import' for an outside file)",
        "When it was registered (local time)",
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._versions: list[Any] = []

    # -- data --------------------------------------------------------------------------------

    def set_versions(self, versions: list[Any]) -> None:
        self.beginResetModel()
        self._versions = list(versions)
        self.endResetModel()

    def versions(self) -> list[Any]:
        return list(self._versions)

    def version_at(self, row: int) -> Any | None:
        return self._versions[row] if 0 <= row < len(self._versions) else None

    def row_of(self, version: int) -> int | None:
        for row, v in enumerate(self._versions):
            if v.version == version:
                return row
        return None

    # -- Qt ----------------------------------------------------------------------------------

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._versions)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.TIPS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        v = self.version_at(index.row()) if index.isValid() else None
        if v is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(v, col)
        if role == VERSION_ROLE:
            return v.version
        if role == Qt.ItemDataRole.ToolTipRole and col == 3:
            key, value = primary_metric(v)
            return f"{key} = {value!r}" if value is not None else f"{key}: not measured"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{v.ref}: {v.estimator or v.source}" + (
                f" — {v.description}" if v.description else ""
            )
        if role == Qt.ItemDataRole.ForegroundRole and v.status != "active":
            return QApplication.palette().brush(QPalette.ColorRole.PlaceholderText)
        if role == Qt.ItemDataRole.FontRole and col == 2 and v.aliases:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (0, 3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(v: Any, col: int) -> str:
        if col == 0:
            return str(v.version)
        if col == 1:
            return v.status
        if col == 2:
            return ", ".join(v.aliases)
        if col == 3:
            key, value = primary_metric(v)
            return f"{key} {value:.4f}" if value is not None else "–"
        if col == 4:
            return str(v.run_id) if v.run_id is not None else "import"
        return local_time(v.created_at)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class VersionsView(QTableView):
    """Rows of a ``VersionsModel``; accepts an alias dropped from ``AliasList``."""

    alias_dropped = Signal(str, int)  # alias, version

    def __init__(self) -> None:
        super().__init__()
        self.setModel(VersionsModel(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.verticalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # full text in the tooltip
        self.setWordWrap(False)
        self.model().modelReset.connect(self.resizeColumnsToContents)

    def model(self) -> VersionsModel:
        return super().model()  # type: ignore[return-value]

    def version_at(self, row: int) -> int | None:
        v = self.model().version_at(row)
        return v.version if v is not None else None

    def selected_versions(self) -> list[int]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        return [v for v in (self.version_at(r) for r in rows) if v is not None]

    def select_version(self, version: int) -> bool:
        row = self.model().row_of(version)
        if row is None:
            return False
        self.selectRow(row)
        self.scrollTo(self.model().index(row, 0))
        return True

    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(ALIAS_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(ALIAS_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        if not event.mimeData().hasFormat(ALIAS_MIME):
            return
        row = self.rowAt(int(event.position().y()))
        version = self.version_at(row) if row >= 0 else None
        if version is None:
            return
        alias = bytes(event.mimeData().data(ALIAS_MIME)).decode()
        event.acceptProposedAction()
        self.alias_dropped.emit(alias, version)


class AliasList(QListWidget):
    """The model's aliases; drag one onto a version row to move it there."""

    def __init__(self) -> None:
        super().__init__()
        self.setDragEnabled(True)
        self.setMaximumHeight(90)

    def startDrag(self, _actions: Any) -> None:
        item = self.currentItem()
        if item is None:
            return
        mime = QMimeData()
        mime.setData(ALIAS_MIME, item.data(Qt.ItemDataRole.UserRole).encode())
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.MoveAction)
