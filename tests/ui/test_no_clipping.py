"""Nothing is clipped: every panel at 1000×650 and 1400×900, light and dark.

A test walks each panel's widget tree and fails on a visible ``QLabel``, button or toolbar
whose size hint is wider than the room it was given (the text would be cut: "balanced_ac…",
"etrain on this dat"). Labels that wrap or elide themselves are exempt, as they fit by design.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QHeaderView,
    QLabel,
    QTabBar,
    QToolBar,
    QWidget,
)

from app.ui.panels import PANELS

SIZES = [(1000, 650), (1400, 900)]
SLACK = 2  # pixels of rounding between a hint and a layout's share


def clipped(root: QWidget) -> list[str]:
    """Descriptions of the visible widgets under ``root`` whose content does not fit."""
    problems = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or widget.width() <= 0:
            continue
        if isinstance(widget, QLabel):
            if widget.wordWrap() or not widget.text() or widget.property("elided"):
                continue
            need = widget.sizeHint().width()
        elif isinstance(widget, QAbstractButton | QToolBar):
            if isinstance(widget.parent(), QTabBar):  # the tab bar's own scroll arrows
                continue
            need = widget.sizeHint().width()
        elif isinstance(widget, QHeaderView):
            problems += clipped_sections(widget)
            continue
        else:
            continue
        if need > widget.width() + SLACK:
            text = widget.text() if hasattr(widget, "text") else type(widget).__name__
            problems.append(
                f"{type(widget).__name__} {widget.objectName() or ''!s} {text!r}: "
                f"needs {need}px, has {widget.width()}px"
            )
    return problems


def clipped_sections(header: QHeaderView) -> list[str]:
    """Column titles cut short with no tooltip to read them in full."""
    if header.orientation() != Qt.Orientation.Horizontal or header.model() is None:
        return []
    model, metrics, problems = header.model(), header.fontMetrics(), []
    for section in range(header.count()):
        if header.isSectionHidden(section):
            continue
        title = model.headerData(section, Qt.Orientation.Horizontal)
        if not isinstance(title, str) or not title:
            continue
        need = metrics.horizontalAdvance(title) + 12  # the style's margins
        if need > header.sectionSize(section) + SLACK:
            tip = model.headerData(section, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
            if not tip:
                problems.append(
                    f"column {title!r} of {header.parent().objectName() or 'a table'}: "
                    f"needs {need}px, has {header.sectionSize(section)}px, no tooltip"
                )
    return problems


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_no_panel_clips_its_text(qtbot, make_window, size, theme) -> None:
    window = make_window()
    set_theme = getattr(window, "set_theme", None)
    if theme == "dark":
        assert set_theme is not None, "the window has no set_theme (View ▸ Theme)"
        set_theme("dark")
    window.resize(*size)
    problems = []
    for spec in PANELS:
        window.show_panel(spec.key)
        QApplication.processEvents()
        problems += [f"{spec.key}: {p}" for p in clipped(window.panels[spec.key])]
    problems += [f"window: {p}" for p in clipped(window) if "toolbar" in p.lower()]
    assert problems == []
