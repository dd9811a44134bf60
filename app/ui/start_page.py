"""The first launch that teaches: open a file, try a sample, the journey in five steps.

The window shows ``StartPage`` when the store holds no dataset yet, and again from Help ▸
Getting started. ``ShortcutsDialog`` (Help ▸ Keyboard shortcuts) lists every entry of the
action list that has a shortcut, generated from that list, so it is never out of date.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

JOURNEY = (
    ("Add data", "Drop a CSV, Parquet or Excel file on the window (File ▸ Open, Ctrl+O)."),
    ("Explore and set the target", "Data ▸ Explore (Ctrl+E) profiles it; Data ▸ Set target "
     "and roles (Ctrl+T) marks the column to predict, stored with the dataset."),
    ("Train and tune", "Model ▸ New run (Ctrl+R) trains with cross-validation; Model ▸ Tune "
     "(Ctrl+Shift+T) searches hyperparameters with Optuna."),
    ("Register and deploy", "Right-click the best run ▸ Register, then Deploy ▸ Build image and "
     "Deploy — or Serve locally without Docker."),
    ("Monitor", "Monitor ▸ Check drift compares new data with the training data; Retrain when "
     "it has drifted."),
)  # fmt: skip


class StartPage(QWidget):
    open_requested = Signal()
    sample_requested = Signal(str)  # a file name in app/resources/samples

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from app import resources

        self.setObjectName("start-page")
        title = QLabel("Welcome to ModelDesk")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(
            "From a dataset dropped on this window to a tested model in a container, watched "
            "for drift. Start with your own file or a sample:"
        )
        intro.setWordWrap(True)

        self.open_button = QPushButton("Open a file…")
        self.open_button.setObjectName("start-open")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.open_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        self.sample_buttons: dict[str, QPushButton] = {}
        for name in resources.samples():
            button = QPushButton(f"Try the sample {name}")
            button.setObjectName(f"start-sample-{name}")
            button.setToolTip(f"Ingest {name}, a dataset that ships with ModelDesk")
            button.clicked.connect(lambda _checked=False, n=name: self.sample_requested.emit(n))
            buttons.addWidget(button)
            self.sample_buttons[name] = button
        buttons.addStretch(1)

        steps = QVBoxLayout()
        steps.setSpacing(10)
        self.step_labels: list[QLabel] = []
        for number, (head, text) in enumerate(JOURNEY, start=1):
            label = QLabel(f"<b>{number}. {head}</b><br>{text}")
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            steps.addWidget(label)
            self.step_labels.append(label)
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setBackgroundRole(QPalette.ColorRole.Base)
        box.setAutoFillBackground(True)
        box.setLayout(steps)

        column = QVBoxLayout()
        column.addWidget(title)
        column.addWidget(intro)
        column.addLayout(buttons)
        column.addSpacing(12)
        column.addWidget(QLabel("<b>The journey in five steps</b>"))
        column.addWidget(box)
        column.addStretch(1)
        holder = QWidget()
        holder.setMaximumWidth(760)
        holder.setLayout(column)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(32, 32, 32, 16)
        outer.addWidget(holder, 1, Qt.AlignmentFlag.AlignTop)
        outer.addStretch(0)


class ShortcutsDialog(QDialog):
    """Every entry with a shortcut: menu, entry, keys — made from ``actions.ACTIONS``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from app.ui.actions import shortcut_rows

        self.setWindowTitle("Keyboard shortcuts")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        rows = shortcut_rows()
        self.table = QTableWidget(len(rows), 3)
        self.table.setObjectName("shortcuts")
        self.table.setHorizontalHeaderLabels(["Menu", "Entry", "Shortcut"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (menu, title, keys) in enumerate(rows):
            native = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
            for c, text in enumerate((menu, title, native)):
                self.table.setItem(r, c, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(close)
        self.resize(560, 520)

    def rows(self) -> list[tuple[str, str, str]]:
        return [
            tuple(self.table.item(r, c).text() for c in range(3))  # type: ignore[misc]
            for r in range(self.table.rowCount())
        ]
