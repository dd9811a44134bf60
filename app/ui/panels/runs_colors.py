"""Readable colours for the Runs and Tuning panels' state lines, from the palette.

A run's error or pruning reason was drawn in ``BrightText`` (white on a light panel: invisible).
The error colour here is a red chosen for the palette's own background and checked against the
WCAG contrast ratio (4.5:1 for body text); when no red is readable enough the palette's text
colour is used. (A private helper until the shared ``app/ui/widgets/colors.py`` lands.)
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QWidget

MIN_CONTRAST = 4.5
_REDS_ON_LIGHT = ("#b71c1c", "#8e0000")
_REDS_ON_DARK = ("#ff8a80", "#ffb4a9")


def relative_luminance(color: QColor) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in (color.redF(), color.greenF(), color.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: QColor, background: QColor) -> float:
    a, b = relative_luminance(foreground), relative_luminance(background)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def error_color(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Window) -> QColor:
    """A red readable on ``palette``'s ``role`` background, else its window text colour."""
    background = palette.color(role)
    dark = relative_luminance(background) < 0.18
    for name in _REDS_ON_DARK if dark else _REDS_ON_LIGHT:
        candidate = QColor(name)
        if contrast_ratio(candidate, background) >= MIN_CONTRAST:
            return candidate
    return palette.color(QPalette.ColorRole.WindowText)


class ErrorLabel(QLabel):
    """A selectable, wrapped line in the error colour of the current palette (kept readable
    when the theme changes: the colour is picked again on every palette change)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._apply()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._applying:
            self._apply()

    def _apply(self) -> None:
        self._applying = True
        try:
            palette = self.palette()
            palette.setColor(QPalette.ColorRole.WindowText, error_color(palette))
            self.setForegroundRole(QPalette.ColorRole.WindowText)
            self.setPalette(palette)
        finally:
            self._applying = False


def pruned_text(status: str, tags: dict[str, str], error: str | None) -> str | None:
    """ "pruned after fold 2" for the run of a trial the pruner stopped (its status is
    "cancelled" in the store), else None: the core's wording, shared with the CLI."""
    from app.core.tracking.partial import pruned_text as core_pruned_text

    return core_pruned_text(status, tags, error)
