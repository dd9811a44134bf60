"""The inline bar where a panel tells the user what went wrong and what to do about it.

A panel shows every ``ModelDeskError`` here, never in a modal box and never with a traceback:
the message (a sentence the user can act on), its hint, and optional details behind a
"Details" toggle. Several messages wait in a queue (two bad files dropped together), newest
first, up to ``MessageBar.MAX_MESSAGES``, one on screen with a count; each has a close button.
The messages lie over the bottom of the panel, so they never push its content down. Colours come
from the palette and the icons from the style, so light and dark themes both work.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import QEvent, QObject, Qt, Signal
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
    """A panel's message area: a fixed place that never pushes the panel's content down.

    The bar itself takes no height in the panel's layout; its messages are drawn on an overlay
    laid along the bottom of the panel (as wide as the bar; the panel's controls sit at the
    top and stay reachable), one message at a time with a count ("2 of 3") and arrows to step
    through the queue, newest first. Details open inside the
    overlay. Showing, stepping or closing messages never moves a widget of the panel, so a
    click never lands on something that just jumped. Without a parent (a bar shown alone) the
    overlay is the bar's own content.
    """

    MAX_MESSAGES = 4
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[MessageItem] = []
        self._current = 0
        self.overlay = QFrame()
        self.overlay.setObjectName("message-overlay")
        self.overlay.setFrameShape(QFrame.Shape.StyledPanel)
        self.overlay.setAutoFillBackground(True)
        self.overlay.setBackgroundRole(QPalette.ColorRole.Window)
        self._stack = QVBoxLayout()
        self._stack.setContentsMargins(0, 0, 0, 0)
        self.count_label = QLabel("")
        self.count_label.setObjectName("message-count")
        self.previous_button = _nav_button(self, Qt.ArrowType.UpArrow, "Newer message")
        self.next_button = _nav_button(self, Qt.ArrowType.DownArrow, "Older message")
        self.previous_button.clicked.connect(lambda: self._step(-1))
        self.next_button.clicked.connect(lambda: self._step(1))
        nav = QHBoxLayout()
        nav.setContentsMargins(0, 0, 0, 0)
        nav.setSpacing(0)
        nav.addWidget(self.count_label)
        nav.addWidget(self.previous_button)
        nav.addWidget(self.next_button)
        row = QHBoxLayout(self.overlay)
        row.setContentsMargins(0, 0, 4, 0)
        row.setSpacing(2)
        row.addLayout(self._stack, 1)
        row.addLayout(nav)
        self._own = QVBoxLayout(self)  # used only while the bar has no parent
        self._own.setContentsMargins(0, 0, 0, 0)
        self._adopt_overlay()
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
        item = MessageItem(level, text, hint=hint, details=details, parent=self.overlay)
        item.closed.connect(self._on_item_closed)
        item.details_button.toggled.connect(lambda _on: self._place())
        self._items.insert(0, item)
        self._stack.insertWidget(0, item)
        while len(self._items) > self.MAX_MESSAGES:
            self._remove(self._items[-1])
        self._current = 0
        self._refresh()
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
        self._refresh()
        self.changed.emit()

    # -- reading (tests, accessibility) ----------------------------------------------------

    def items(self) -> list[MessageItem]:
        return list(self._items)

    def messages(self, level: Level | None = None) -> list[str]:
        """The shown messages with their hints, newest first."""
        return [i.full_text for i in self._items if level is None or i.level is level]

    def current(self) -> MessageItem | None:
        """The message on screen (the others wait behind the count)."""
        return self._items[self._current] if self._items else None

    def showing(self) -> bool:
        """Whether a message is on screen."""
        return bool(self._items) and self.overlay.isVisible()

    # -- placement -------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ParentChange:
            self._adopt_overlay()
        elif event.type() in (QEvent.Type.Move, QEvent.Type.Resize):
            self._place()
        return super().event(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            self._place()
        return False

    def _adopt_overlay(self) -> None:
        """Put the overlay on the parent (over its content) or, alone, inside the bar."""
        host = self.parentWidget()
        previous = self.overlay.parentWidget()
        if previous is not None and previous is not self:
            previous.removeEventFilter(self)
        if host is None:
            self._own.addWidget(self.overlay)
            self.setMinimumHeight(0)
            self.setMaximumHeight(16777215)
        else:
            self._own.removeWidget(self.overlay)
            self.overlay.setParent(host)
            host.installEventFilter(self)
            self.setFixedHeight(0)  # the layout gives the bar no room: nothing moves
        self._refresh()

    def _place(self) -> None:
        host = self.overlay.parentWidget()
        if host is None or host is self or not self._items:
            return
        width = max(self.width(), 200)
        layout = self.overlay.layout()
        height = (
            layout.totalHeightForWidth(width)
            if layout is not None and layout.hasHeightForWidth()
            else self.overlay.sizeHint().height()
        )
        margin = max(self.x(), 0)  # the panel's layout margin, kept below the overlay too
        top = max(host.height() - margin - height, self.y())
        self.overlay.setGeometry(self.x(), top, width, max(height, 0))
        self.overlay.raise_()

    def _refresh(self) -> None:
        count = len(self._items)
        self._current = min(self._current, max(count - 1, 0))
        for i, item in enumerate(self._items):
            item.setVisible(i == self._current)
        many = count > 1
        self.count_label.setText(f"{self._current + 1} of {count}" if many else "")
        self.count_label.setVisible(many)
        self.previous_button.setVisible(many)
        self.next_button.setVisible(many)
        self.previous_button.setEnabled(self._current > 0)
        self.next_button.setEnabled(self._current < count - 1)
        alone = self.parentWidget() is None
        self.setVisible(bool(count) if alone else True)
        self.overlay.setVisible(bool(count))
        self._place()

    def _step(self, delta: int) -> None:
        self._current = min(max(self._current + delta, 0), len(self._items) - 1)
        self._refresh()

    # -- slots -------------------------------------------------------------------------------

    def _on_item_closed(self, item: MessageItem) -> None:
        self._remove(item)
        self._refresh()
        self.changed.emit()

    def _remove(self, item: MessageItem) -> None:
        if item in self._items:
            self._items.remove(item)
        self._stack.removeWidget(item)
        item.hide()
        item.deleteLater()


def _nav_button(parent: QWidget, arrow: Qt.ArrowType, tip: str) -> QToolButton:
    button = QToolButton(parent)
    button.setArrowType(arrow)
    button.setAutoRaise(True)
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    return button


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
