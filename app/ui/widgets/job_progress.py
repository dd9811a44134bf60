"""Rows of running jobs: a title, a progress bar, the latest status line and Cancel.

``JobProgressList.add(bridge, title)`` shows one row per job; the row removes itself when the
job ends. The list hides itself while empty. Status lines are kept (the last few per job) as a
small log in the row's tooltip.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.job_bridge import JobBridge

_SCALE = 1000


class JobProgressRow(QWidget):
    removed = Signal(object)

    def __init__(self, bridge: JobBridge, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.title = title
        self._log: deque[str] = deque(maxlen=12)

        self.title_label = QLabel(title)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar()
        self.bar.setRange(0, _SCALE)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(12)
        self.bar.setAccessibleName(f"Progress of {title}")
        self.status_label = QLabel("Waiting…")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        font = self.status_label.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.9))
        self.status_label.setFont(font)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip(f"Stop {title}; nothing of it is stored")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title_label, 1)
        top.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.status_label)

        bridge.started.connect(self._on_bridge_started)
        bridge.progressed.connect(self._on_bridge_progressed)
        bridge.finished.connect(self._on_bridge_finished)

    def _on_bridge_started(self) -> None:
        self._set_status("Started")

    def _on_bridge_progressed(self, fraction: float, status: str) -> None:
        self.bar.setValue(round(fraction * _SCALE))
        if status:
            self._set_status(status)

    def _on_cancel_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self._set_status("Cancelling…")
        self.bridge.cancel()

    def _on_bridge_finished(self) -> None:
        self.removed.emit(self)

    def _set_status(self, text: str) -> None:
        if not self._log or self._log[-1] != text:
            self._log.append(text)
        self.status_label.setText(text)
        self.setToolTip("\n".join(self._log))


class JobProgressList(QWidget):
    """The jobs a panel is running, one row each; hidden while there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[JobProgressRow] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 4, 0, 0)
        self._layout.setSpacing(4)
        self.setVisible(False)

    def add(self, bridge: JobBridge, title: str) -> JobProgressRow:
        row = JobProgressRow(bridge, title, self)
        row.removed.connect(self._on_row_removed)
        self._rows.append(row)
        self._layout.addWidget(row)
        self.setVisible(True)
        return row

    def rows(self) -> list[JobProgressRow]:
        return list(self._rows)

    def _on_row_removed(self, row: JobProgressRow) -> None:
        if row in self._rows:
            self._rows.remove(row)
        self._layout.removeWidget(row)
        row.hide()
        row.deleteLater()
        self.setVisible(bool(self._rows))
