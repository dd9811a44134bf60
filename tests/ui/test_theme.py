"""View ▸ Theme: system, light, dark, remembered; colours from the palette, plots following it;
error text readable (contrast ≥ 4.5:1) in both palettes."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.ui import settings as keys
from app.ui.theme import apply_theme, dark_palette, light_palette
from app.ui.widgets.colors import (
    MIN_CONTRAST,
    Tone,
    color,
    contrast_ratio,
    is_dark,
    plot_colors,
    readable,
)


@pytest.fixture(autouse=True)
def back_to_system(qapp):
    yield
    apply_theme(qapp, "system")


def test_contrast_ratio_matches_wcag() -> None:
    assert contrast_ratio(QColor("black"), QColor("white")) == pytest.approx(21.0)
    assert contrast_ratio(QColor("white"), QColor("white")) == pytest.approx(1.0)
    assert contrast_ratio(QColor("#767676"), QColor("white")) == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio(readable(QColor("white"), QColor("#ffffff")), QColor("white")) >= 4.5


@pytest.mark.parametrize("palette", [light_palette(), dark_palette()], ids=["light", "dark"])
def test_a_failed_runs_error_text_is_readable(palette: QPalette) -> None:
    base = palette.color(QPalette.ColorRole.Base)
    for tone in (Tone.ERROR_TEXT, Tone.WARNING_TEXT, Tone.OK_TEXT, Tone.MUTED_TEXT):
        assert contrast_ratio(color(tone, palette), base) >= MIN_CONTRAST, tone
    # BrightText, the colour the issue found invisible, is not what we use
    bright = palette.color(QPalette.ColorRole.BrightText)
    assert color(Tone.ERROR_TEXT, palette) != bright or contrast_ratio(bright, base) >= 4.5


def test_prepare_highlight_follows_the_palette() -> None:
    light, dark = light_palette(), dark_palette()
    assert not is_dark(light) and is_dark(dark)
    changed_light, changed_dark = color(Tone.CHANGED, light), color(Tone.CHANGED, dark)
    assert changed_light.lightnessF() > 0.6 and changed_dark.lightnessF() < 0.4
    text = dark.color(QPalette.ColorRole.Text)
    assert contrast_ratio(text, changed_dark) >= MIN_CONTRAST  # light text stays readable


def test_view_theme_switches_and_is_remembered(qtbot, make_window, qapp) -> None:
    window = make_window()
    dark = window.qactions["modeldesk.view.theme.dark"]
    dark.trigger()
    assert window.theme == "dark" and is_dark(QApplication.palette())
    assert keys.settings().value(keys.THEME_KEY) == "dark"
    window.update_actions()
    assert dark.isChecked()
    window.close()
    again = make_window()
    assert again.theme == "dark" and again.qactions["modeldesk.view.theme.dark"].isChecked()
    again.qactions["modeldesk.view.theme.light"].trigger()
    assert not is_dark(QApplication.palette())
    again.qactions["modeldesk.view.theme.system"].trigger()
    assert keys.settings().value(keys.THEME_KEY) == "system"


def test_plots_take_background_text_and_grid_from_the_palette(qtbot, qapp) -> None:
    from app.ui.widgets.plot_canvas import PlotCanvas

    canvas = PlotCanvas()
    qtbot.addWidget(canvas)
    ax = canvas.figure.add_subplot(1, 1, 1)
    ax.plot([0, 1], [1, 0], color="#ff0000")
    ax.set_title("t")
    ax.grid(True)
    for name, palette in (("dark", dark_palette()), ("light", light_palette())):
        apply_theme(qapp, name)
        canvas.setPalette(palette)
        canvas.draw()
        expected = plot_colors(canvas.palette())
        assert QColor.fromRgbF(*canvas.figure.get_facecolor()[:3]).name() == expected.background
        assert QColor.fromRgbF(*ax.get_facecolor()[:3]).name() == expected.background
        label = ax.get_xticklabels()[0]
        assert _hex(label.get_color()) == expected.text
        assert _hex(ax.title.get_color()) == expected.text
        assert _hex(ax.get_xgridlines()[0].get_color()) == expected.grid
        assert _hex(ax.get_lines()[0].get_color()) == "#ff0000"  # the data keeps its colour
    assert plot_colors(dark_palette()).background != plot_colors(light_palette()).background


def _hex(value) -> str:
    from matplotlib.colors import to_hex

    return to_hex(value)
