"""The inline bar where a panel tells the user what went wrong and what to do about it.

A panel shows every ``ModelDeskError`` here, never in a modal box and never with a traceback:
the message (a sentence the user can act on), its hint, and optional details behind a
"Details" toggle. Several messages can be shown at once (two bad files dropped together),
newest first, up to ``MessageBar.MAX_MESSAGES``; each has a close button. Colours come from the
palette and the icons from the style, so light and dark themes both work.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError


class Level(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


_ICONS = {
    Level.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
    Level.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Level.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
}


class MessageItem(QFrame):
    """One message: icon, text, hint, optional details, close button."""

    closed = Signal(object)

    def __init__(
        self,
        level: Level,
        text: str,
        *,
        hint: str | None = None,
        details: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.level, self.text, self.hint, self.details = level, text, hint, details
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.setObjectName(f"message-{level.value}")
        self.setAccessibleName(f"{level.value}: {text}")

        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        icon.setPixmap(self.style().standardIcon(_ICONS[level]).pixmap(size, size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)

        self.text_label = QLabel(f"<b>{_escape(text)}</b>")
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint_label = QLabel(hint or "")
        self.hint_label.setWordWrap(True)
        self.hint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint_label.setVisible(bool(hint))

        self.details_view = QPlainTextEdit(details or "")
        self.details_view.setReadOnly(True)
        self.details_view.setMaximumHeight(120)
        self.details_view.setVisible(False)

        texts = QVBoxLayout()
        texts.setContentsMargins(0, 0, 0, 0)
        texts.setSpacing(2)
        texts.addWidget(self.text_label)
        texts.addWidget(self.hint_label)
        texts.addWidget(self.details_view)

        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setVisible(bool(details))
        self.details_button.toggled.connect(self._on_details_toggled)

        self.close_button = QToolButton()
        self.close_button.setAutoRaise(True)
        self.close_button.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton)
        )
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.clicked.connect(self._on_close_clicked)

        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 6, 6)
        row.addWidget(icon)
        row.addLayout(texts, 1)
        row.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    @property
    def full_text(self) -> str:
        return f"{self.text} {self.hint}" if self.hint else self.text

    def _on_details_toggled(self, shown: bool) -> None:
        self.details_view.setVisible(shown)

    def _on_close_clicked(self) -> None:
        self.closed.emit(self)


class MessageBar(QWidget):
    """A stack of messages above a panel's content; hidden while empty."""

    MAX_MESSAGES = 4
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[MessageItem] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 4)
        self._layout.setSpacing(4)
        self.setVisible(False)

    # -- showing ---------------------------------------------------------------------------

    def show_message(
        self,
        level: Level,
        text: str,
        *,
        hint: str | None = None,
        details: str | None = None,
    ) -> MessageItem:
        for item in self._items:  # the same message again: move it to the top
            if (item.level, item.text, item.hint) == (level, text, hint):
                self._remove(item)
                break
        item = MessageItem(level, text, hint=hint, details=details, parent=self)
        item.closed.connect(self._on_item_closed)
        self._items.insert(0, item)
        self._layout.insertWidget(0, item)
        while len(self._items) > self.MAX_MESSAGES:
            self._remove(self._items[-1])
        self.setVisible(True)
        self.changed.emit()
        return item

    def show_error(self, error: ModelDeskError, *, subject: str | None = None) -> MessageItem:
        """A ``ModelDeskError`` as message + hint; ``subject`` (a file name) is prefixed
        when the message does not already name it."""
        text = error.message
        if subject and subject not in text:
            text = f"{subject}: {text}"
        level = Level.INFO if type(error).__name__ == "Cancelled" else Level.ERROR
        return self.show_message(level, text, hint=error.hint, details=_cause_chain(error))

    def error(self, text: str, *, hint: str | None = None, details: str | None = None) -> None:
        self.show_message(Level.ERROR, text, hint=hint, details=details)

    def warning(self, text: str, *, hint: str | None = None, details: str | None = None) -> None:
        self.show_message(Level.WARNING, text, hint=hint, details=details)

    def info(self, text: str, *, hint: str | None = None, details: str | None = None) -> None:
        self.show_message(Level.INFO, text, hint=hint, details=details)

    def clear(self) -> None:
        for item in list(self._items):
            self._remove(item)
        self.setVisible(False)
        self.changed.emit()

    # -- reading (tests, accessibility) ----------------------------------------------------

    def items(self) -> list[MessageItem]:
        return list(self._items)

    def messages(self, level: Level | None = None) -> list[str]:
        """The shown messages with their hints, newest first."""
        return [i.full_text for i in self._items if level is None or i.level is level]

    # -- slots -----------------------------------------------------------------------------

    def _on_item_closed(self, item: MessageItem) -> None:
        self._remove(item)
        self.setVisible(bool(self._items))
        self.changed.emit()

    def _remove(self, item: MessageItem) -> None:
        if item in self._items:
            self._items.remove(item)
        self._layout.removeWidget(item)
        item.hide()
        item.deleteLater()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cause_chain(error: BaseException) -> str | None:
    """What lies under a user-facing error, as plain lines (never a traceback)."""
    lines = []
    cause = error.__cause__
    while cause is not None and len(lines) < 5:
        lines.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__
    return "\n".join(lines) or None
