"""Datasets and their versions as a tree: dataset rows (latest size) with version children.

The tree only shows what it is given (``set_datasets``); it never asks a service. Deleted
datasets appear in italics in the placeholder colour when the caller lists them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

if TYPE_CHECKING:
    from app.core.datasets import Dataset, DatasetVersion

_KIND = Qt.ItemDataRole.UserRole
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
HEADERS = ("Dataset", "Rows × columns", "Created")


def when(moment: datetime | None) -> str:
    """A stored UTC time in the user's time zone, to the minute."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


class DatasetTree(QTreeWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(list(HEADERS))
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAccessibleName("Datasets")
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

    def set_datasets(self, datasets: list[Dataset], *, select_version_id: int | None) -> None:
        """Replace the contents without emitting selection signals; the caller reacts once."""
        with QSignalBlocker(self):
            self.clear()
            for dataset in datasets:
                self.addTopLevelItem(self._dataset_item(dataset))
            self.expandAll()
            if select_version_id is not None:
                self.select_version(select_version_id)

    def selected_version(self) -> DatasetVersion | None:
        """The selected version; for a selected dataset row, its latest version."""
        item = self.currentItem()
        if item is None or not item.isSelected():
            return None
        kind, obj = item.data(0, _KIND)
        if kind == "version":
            return obj
        return obj.latest if obj.versions else None

    def selected_dataset(self) -> Dataset | None:
        item = self.currentItem()
        if item is None or not item.isSelected():
            return None
        if item.parent() is not None:
            item = item.parent()
        return item.data(0, _KIND)[1]

    def select_version(self, version_id: int) -> bool:
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            for j in range(top.childCount()):
                child = top.child(j)
                if child.data(0, _KIND)[1].id == version_id:
                    self.setCurrentItem(child)
                    return True
        return False

    def dataset_names(self) -> list[str]:
        return [self.topLevelItem(i).text(0) for i in range(self.topLevelItemCount())]

    def _dataset_item(self, dataset: Dataset) -> QTreeWidgetItem:
        latest = dataset.latest if dataset.versions else None
        size = f"{latest.rows:,} × {latest.cols}" if latest else ""
        item = QTreeWidgetItem([dataset.name, size, when(dataset.created_at)])
        item.setData(0, _KIND, ("dataset", dataset))
        item.setTextAlignment(1, _RIGHT)
        if dataset.deleted:
            font = QFont(item.font(0))
            font.setItalic(True)
            brush = self.palette().brush(QPalette.ColorRole.PlaceholderText)
            for col in range(len(HEADERS)):
                item.setFont(col, font)
                item.setForeground(col, brush)
            item.setText(2, "deleted")
            item.setToolTip(0, "Deleted. Edit ▸ Restore deleted dataset… brings it back.")
        for version in dataset.versions:
            child = QTreeWidgetItem(
                [
                    f"v{version.version}",
                    f"{version.rows:,} × {version.cols}",
                    when(version.created_at),
                ]
            )
            child.setData(0, _KIND, ("version", version))
            child.setTextAlignment(1, _RIGHT)
            target = f"; target: {version.target}" if version.target else "; no target set"
            child.setToolTip(0, f"{version.ref} — from {version.source_path}{target}")
            item.addChild(child)
        return item
