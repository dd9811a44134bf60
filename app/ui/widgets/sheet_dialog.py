"""Asks which sheets of a workbook to ingest; each chosen sheet becomes its own dataset."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class SheetDialog(QDialog):
    def __init__(self, file_name: str, sheets: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose sheets")
        intro = QLabel(
            f"“{file_name}” has {len(sheets)} sheets. Choose the ones to ingest; "
            "each becomes a dataset of its own."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        for name in sheets:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        self.list.itemChanged.connect(self._on_list_item_changed)

        select_all = QPushButton("Select all")
        select_all.clicked.connect(lambda: self._set_all(Qt.CheckState.Checked))
        select_none = QPushButton("Select none")
        select_none.clicked.connect(lambda: self._set_all(Qt.CheckState.Unchecked))
        toggles = QHBoxLayout()
        toggles.addWidget(select_all)
        toggles.addWidget(select_none)
        toggles.addStretch(1)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Ingest")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addLayout(toggles)
        layout.addWidget(self.buttons)

    def chosen(self) -> list[str]:
        return [
            self.list.item(i).text()
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _set_all(self, state: Qt.CheckState) -> None:
        for i in range(self.list.count()):
            self.list.item(i).setCheckState(state)

    def _on_list_item_changed(self, _item: QListWidgetItem) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.chosen()))


def ask_sheets(file_name: str, sheets: list[str], parent: QWidget | None = None) -> list[str]:
    """The sheets the user chose (empty when they cancelled)."""
    dialog = SheetDialog(file_name, sheets, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return []
    return dialog.chosen()
