"""A matplotlib figure embedded in Qt, with export to PNG/SVG/PDF and hover tooltips.

``PlotCanvas`` is what every panel draws on: draw onto ``canvas.figure`` (plain matplotlib,
no pyplot) and call ``draw_idle()``. The small Export button in the corner and the context
menu save the figure as it is shown (PNG at 2× resolution, SVG with text kept as text, PDF).
``set_hover(fn)`` shows ``fn(event)`` — a string for a matplotlib mouse event, or None — as a
tooltip, which is how heatmaps show their values.

The figure follows the palette (View ▸ Theme): before each draw its background, axes, ticks,
labels, titles, legends and grid take their colours from ``app.ui.widgets.colors.plot_colors``,
and a palette change redraws it. Colours a panel gave its data (bars, lines, heatmap text) are
left alone.

Importing this module imports matplotlib's Qt backend (a few hundred milliseconds the first
time): import it inside the code that first needs a canvas, and pay for
``import matplotlib.figure`` in a job beforehand so the GUI thread does not wait.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets.colors import plot_colors
from app.ui.widgets.plot_style import EXPORT_FILTERS, PNG_DPI_SCALE, style_figure

HoverFn = Callable[[Any], "str | None"]


class PlotCanvas(QWidget):
    """A figure, its Qt canvas, an Export button and optional hover text."""

    exported = Signal(str)  # the path written
    export_failed = Signal(str)  # a sentence for the panel's message bar

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        figsize: tuple[float, float] = (6, 4),
        dpi: float = 96,
        title: str = "",
        export_name: str = "plot",
        toolbar: bool = True,
    ) -> None:
        super().__init__(parent)
        self.figure = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setParent(self)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.canvas.customContextMenuRequested.connect(self._on_canvas_context_menu)
        self.export_name = export_name
        self._hover: HoverFn | None = None
        self._hover_cid: int | None = None
        self._last_tip = ""

        self.title_label = QLabel(title)
        self.title_label.setVisible(bool(title))
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save this plot as PNG, SVG or PDF")
        self.export_button.setAutoRaise(True)
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setMenu(self._export_menu(self.export_button))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        if toolbar:
            bar = QHBoxLayout()
            bar.setContentsMargins(4, 0, 2, 0)
            bar.addWidget(self.title_label, 1)
            bar.addStretch(0)
            bar.addWidget(self.export_button)
            layout.addLayout(bar)
        else:
            self.export_button.hide()
        layout.addWidget(self.canvas, 1)

    # -- drawing ---------------------------------------------------------------------------

    def draw_idle(self) -> None:
        self.apply_palette()
        self.canvas.draw_idle()

    def draw(self) -> None:
        self.apply_palette()
        self.canvas.draw()

    def clear(self, message: str = "") -> None:
        self.figure.clear()
        if message:
            self.figure.text(0.5, 0.5, message, ha="center", va="center")
        self.draw_idle()

    def apply_palette(self) -> None:
        """Give the figure the palette's background, text and grid colours."""
        style_figure(self.figure, plot_colors(self.palette()))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.draw_idle()

    def set_title(self, title: str) -> None:
        self.title_label.setText(title)
        self.title_label.setVisible(bool(title))

    # -- hover -----------------------------------------------------------------------------

    def set_hover(self, fn: HoverFn | None) -> None:
        """Show ``fn(event)`` as a tooltip while the mouse moves over the figure."""
        if self._hover_cid is not None:
            self.canvas.mpl_disconnect(self._hover_cid)
            self._hover_cid = None
        self._hover = fn
        if fn is not None:
            self._hover_cid = self.canvas.mpl_connect("motion_notify_event", self._on_motion)

    def hover_text(self, x: float, y: float) -> str | None:
        """The hover text at display coordinates (x, y) from the bottom left (tests)."""
        if self._hover is None:
            return None
        from matplotlib.backend_bases import MouseEvent

        return self._hover(MouseEvent("motion_notify_event", self.canvas, x, y))

    def _on_motion(self, event: Any) -> None:
        text = self._hover(event) if self._hover is not None else None
        if not text:
            if self._last_tip:
                QToolTip.hideText()
                self._last_tip = ""
            return
        if text != self._last_tip:
            self._last_tip = text
            ratio = self.canvas.devicePixelRatioF() or 1.0
            pos = QPoint(int(event.x / ratio), int(self.canvas.height() - event.y / ratio))
            QToolTip.showText(self.canvas.mapToGlobal(pos), text, self.canvas)

    # -- export ----------------------------------------------------------------------------

    def export(self, path: str | Path) -> Path:
        """Write the figure to ``path`` in the format its extension names."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in EXPORT_FILTERS:
            raise ValueError(
                f"Cannot export a plot as '{suffix or path.name}'; use .png, .svg or .pdf."
            )
        kwargs: dict[str, Any] = {
            "format": suffix[1:],
            "bbox_inches": "tight",
            "facecolor": self.figure.get_facecolor(),  # as shown
        }
        if suffix == ".png":
            kwargs["dpi"] = self.figure.dpi * PNG_DPI_SCALE
        if suffix == ".svg":
            import matplotlib

            with matplotlib.rc_context({"svg.fonttype": "none"}):
                self.figure.savefig(path, **kwargs)
        else:
            self.figure.savefig(path, **kwargs)
        self.exported.emit(str(path))
        return path

    def export_dialog(self, suffix: str = ".png") -> Path | None:
        """Ask where to save, then export; None when the user cancelled."""
        start = str(Path.home() / f"{self.export_name}{suffix}")
        filters = ";;".join(
            [EXPORT_FILTERS[suffix]] + [f for s, f in EXPORT_FILTERS.items() if s != suffix]
        )
        path, chosen = QFileDialog.getSaveFileName(self, "Export plot", start, filters)
        if not path:
            return None
        if not Path(path).suffix:
            ext = next((s for s, f in EXPORT_FILTERS.items() if f == chosen), suffix)
            path += ext
        try:
            return self.export(path)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            message = f"Could not export the plot to {path}: {reason}."
            self.export_failed.emit(message)
            QToolTip.showText(self.export_button.mapToGlobal(QPoint(0, 0)), message, self)
            return None

    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setPixmap(self.canvas.grab())

    def _export_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        menu.addAction("Export as PNG…", lambda: self.export_dialog(".png"))
        menu.addAction("Export as SVG…", lambda: self.export_dialog(".svg"))
        menu.addAction("Export as PDF…", lambda: self.export_dialog(".pdf"))
        menu.addSeparator()
        menu.addAction("Copy image", self.copy_to_clipboard)
        return menu

    def _on_canvas_context_menu(self, pos: QPoint) -> None:
        self._export_menu(self).popup(self.canvas.mapToGlobal(pos))


def main() -> int:
    """``python -m app.ui.widgets.plot_canvas``: a sample figure in a window."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    canvas = PlotCanvas(title="Sample", export_name="sample")
    ax = canvas.figure.add_subplot(1, 1, 1)
    ax.plot([0, 1, 2, 3], [1, 3, 2, 4], "-o")
    canvas.set_hover(lambda e: f"x={e.xdata:.2f}, y={e.ydata:.2f}" if e.inaxes else None)
    canvas.resize(640, 420)
    canvas.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
