"""Palette colours put on a matplotlib figure, with no Qt import: a job drawing a figure on a
worker thread (the Tuning panel's plots) styles it here without importing matplotlib's Qt
backend, which touches Qt enums as it is imported (PySide's lazy enum set-up is not safe off
the GUI thread). ``PlotCanvas`` applies the same function before each draw."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.ui.widgets.colors import PlotColors

EXPORT_FILTERS = {
    ".png": "PNG image (*.png)",
    ".svg": "SVG vector image (*.svg)",
    ".pdf": "PDF document (*.pdf)",
}
PNG_DPI_SCALE = 2.0  # a PNG export at twice the screen's resolution


def style_figure(figure: Any, colors: PlotColors) -> None:
    """Recolour what matplotlib draws by default (not the data) with ``colors``."""
    figure.set_facecolor(colors.background)
    for text in figure.texts:
        text.set_color(colors.text)
    for ax in figure.axes:
        ax.set_facecolor(colors.background)
        for spine in ax.spines.values():
            spine.set_edgecolor(colors.edge)
        ax.tick_params(which="both", colors=colors.text)
        for label in (ax.xaxis.label, ax.yaxis.label, ax.title, ax._left_title, ax._right_title):
            label.set_color(colors.text)
        for line in ax.get_xgridlines() + ax.get_ygridlines():
            line.set_color(colors.grid)
        legend = ax.get_legend()
        if legend is not None:
            legend.get_frame().set_facecolor(colors.background)
            legend.get_frame().set_edgecolor(colors.edge)
            for text in legend.get_texts():
                text.set_color(colors.text)
            legend.get_title().set_color(colors.text)
