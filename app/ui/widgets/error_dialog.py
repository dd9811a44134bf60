"""The one place an unexpected exception (a bug, not a ``ModelDeskError``) is shown.

It is logged with its traceback, then shown in a window-modal dialog that does not block the
caller (``open()``, not ``exec()``), with the traceback to copy into a bug report.
"""

from __future__ import annotations

import logging
import traceback as tb_module
from typing import ClassVar

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger("modeldesk.ui")


class ErrorDialog(QDialog):
    _open: ClassVar[set[ErrorDialog]] = set()

    def __init__(self, error: BaseException, traceback: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.error = error
        self.traceback = traceback
        self.setWindowTitle("ModelDesk — unexpected error")
        self.resize(720, 420)

        summary = QLabel(
            "<b>Something went wrong inside ModelDesk.</b><br>"
            f"{_escape(type(error).__name__)}: {_escape(str(error))}<br><br>"
            "This is a bug, not something you did. Nothing half-done was stored. "
            "Please copy the details below into a bug report."
        )
        summary.setWordWrap(True)
        self.details = QPlainTextEdit(traceback)
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy details")
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self._on_copy_clicked)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.finished.connect(self._on_finished)

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.traceback)

    def _on_finished(self, _result: int) -> None:
        ErrorDialog._open.discard(self)


def show_unexpected_error(
    error: BaseException, traceback: str = "", parent: QWidget | None = None
) -> ErrorDialog:
    """Log ``error`` with its traceback and open the dialog without blocking."""
    if not traceback:
        traceback = "".join(tb_module.format_exception(error))
    log.error("Unexpected error: %s: %s\n%s", type(error).__name__, error, traceback)
    dialog = ErrorDialog(error, traceback, parent)
    ErrorDialog._open.add(dialog)
    dialog.open()
    return dialog


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
