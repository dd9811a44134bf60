"""View ▸ Theme: the desktop's palette, a light one or a dark one, remembered in QSettings.

Light and dark use Qt's Fusion style with a full palette, so every widget (and every colour
taken from ``app.ui.widgets.colors``, plots included) follows; "system" puts back the style
and palette the application started with.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from app.ui.settings import THEME_KEY

THEMES = (("system", "System"), ("light", "Light"), ("dark", "Dark"))
_original: dict[int, tuple[str, QPalette]] = {}  # id(app) -> (style name, palette) at start


def saved_theme(settings: QSettings) -> str:
    name = str(settings.value(THEME_KEY, "system") or "system")
    return name if name in dict(THEMES) else "system"


def apply_theme(app: QApplication, name: str) -> None:
    """Switch ``app`` to the theme ``name`` (one of ``THEMES``)."""
    if name not in dict(THEMES):
        raise ValueError(f"unknown theme {name!r}")
    key = id(app)
    if key not in _original:
        if name == "system":
            return  # nothing changed yet: leave the desktop's style alone (start-up cost)
        _original[key] = (app.style().name(), QPalette(app.palette()))
    if name == "system":
        style, palette = _original[key]
        app.setStyle(QStyleFactory.create(style) or app.style())
        app.setPalette(palette)
        return
    if app.style().name().lower() != "fusion":
        app.setStyle(QStyleFactory.create("Fusion"))
    app.setPalette(light_palette() if name == "light" else dark_palette())


def light_palette() -> QPalette:
    return _palette(
        window="#efefef", base="#ffffff", alternate="#f5f5f5", text="#1d1d1d",
        button="#e8e8e8", highlight="#2a6fdb", link="#1a5fb4", disabled="#8c8c8c",
        tooltip="#ffffdc",
    )  # fmt: skip


def dark_palette() -> QPalette:
    return _palette(
        window="#2b2b2b", base="#1f1f1f", alternate="#272727", text="#e6e6e6",
        button="#353535", highlight="#3d7be0", link="#8ab4f8", disabled="#7a7a7a",
        tooltip="#3a3a3a",
    )  # fmt: skip


def _palette(
    *,
    window: str,
    base: str,
    alternate: str,
    text: str,
    button: str,
    highlight: str,
    link: str,
    disabled: str,
    tooltip: str,
) -> QPalette:
    R = QPalette.ColorRole
    p = QPalette()
    colours = {
        R.Window: window, R.WindowText: text, R.Base: base, R.AlternateBase: alternate,
        R.Text: text, R.Button: button, R.ButtonText: text, R.BrightText: "#ff5252",
        R.Highlight: highlight, R.HighlightedText: "#ffffff", R.Link: link,
        R.ToolTipBase: tooltip, R.ToolTipText: text, R.PlaceholderText: disabled,
        R.Light: _shade(button, 130), R.Midlight: _shade(button, 115),
        R.Mid: _shade(button, 80), R.Dark: _shade(button, 60), R.Shadow: "#000000",
    }  # fmt: skip
    for role, value in colours.items():
        p.setColor(role, QColor(value))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    return p


def _shade(value: str, factor: int) -> QColor:
    c = QColor(value)
    return c.lighter(factor) if factor >= 100 else c.darker(int(10000 / factor))
