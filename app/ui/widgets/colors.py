"""Colours by what they mean, taken from the widget's palette: never a literal in a panel.

``color(Tone.ERROR_TEXT, palette)`` is the text colour of an error line on the palette's base;
``Tone.CHANGED`` the background of a cell a step changed; ``plot_colors(palette)`` what a
matplotlib figure needs (background, text, grid). Each tone is the palette's own colour mixed
with a hue, darker or lighter as the palette is light or dark, and text tones are pushed until
they reach the WCAG contrast ``MIN_CONTRAST`` against the background they sit on, so a message
stays readable in the light, the dark and the desktop's own palette.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtGui import QColor, QGuiApplication, QPalette

MIN_CONTRAST = 4.5  # WCAG 2 AA for body text


class Tone(enum.Enum):
    ERROR_TEXT = "error_text"
    WARNING_TEXT = "warning_text"
    OK_TEXT = "ok_text"
    MUTED_TEXT = "muted_text"
    CHANGED = "changed"  # background of a changed cell (Prepare's preview)
    ADDED = "added"  # background of an added column
    DISABLED_TEXT = "disabled_text"


_HUES = {  # (hue in light palettes, hue in dark ones)
    Tone.ERROR_TEXT: ("#b3261e", "#ff8a80"),
    Tone.WARNING_TEXT: ("#8a5300", "#ffcc80"),
    Tone.OK_TEXT: ("#1b6e20", "#a5d6a7"),
    Tone.CHANGED: ("#ffc107", "#ffb300"),
    Tone.ADDED: ("#4caf50", "#43a047"),
}
_TINT = 0.32  # share of the hue in a background tint


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


def color(tone: Tone, palette: QPalette | None = None) -> QColor:
    """The colour of ``tone`` in ``palette`` (the application's when None)."""
    palette = palette or QGuiApplication.palette()
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    dark = is_dark(palette)
    if tone in (Tone.CHANGED, Tone.ADDED):
        return mix(base, QColor(_HUES[tone][dark]), _TINT)
    if tone is Tone.MUTED_TEXT:
        return readable(mix(text, base, 0.35), base)
    if tone is Tone.DISABLED_TEXT:
        return mix(text, base, 0.5)
    return readable(QColor(_HUES[tone][dark]), base)


def mix(a: QColor, b: QColor, share_of_b: float) -> QColor:
    t = min(max(share_of_b, 0.0), 1.0)
    return QColor.fromRgbF(
        a.redF() * (1 - t) + b.redF() * t,
        a.greenF() * (1 - t) + b.greenF() * t,
        a.blueF() * (1 - t) + b.blueF() * t,
    )


def relative_luminance(c: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast_ratio(foreground: QColor, background: QColor) -> float:
    """WCAG 2 contrast ratio, 1 (none) to 21 (black on white)."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def readable(foreground: QColor, background: QColor, minimum: float = MIN_CONTRAST) -> QColor:
    """``foreground`` moved towards black or white until it reaches ``minimum`` contrast."""
    if contrast_ratio(foreground, background) >= minimum:
        return foreground
    end = QColor("black") if relative_luminance(background) > 0.18 else QColor("white")
    for step in range(1, 21):
        candidate = mix(foreground, end, step / 20)
        if contrast_ratio(candidate, background) >= minimum:
            return candidate
    return end


@dataclass(frozen=True)
class PlotColors:
    background: str
    text: str
    grid: str
    edge: str


def plot_colors(palette: QPalette | None = None) -> PlotColors:
    """What a matplotlib figure takes from the palette, as ``#rrggbb`` strings."""
    palette = palette or QGuiApplication.palette()
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    return PlotColors(
        background=base.name(),
        text=text.name(),
        grid=mix(base, text, 0.18).name(),
        edge=mix(base, text, 0.45).name(),
    )
