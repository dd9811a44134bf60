"""The Tuning panel's plots: Optuna's matplotlib figures drawn off the GUI thread.

Drawing a figure (laying it out, rasterising its paths and text) took up to 384 ms on the
GUI thread for a 30-trial study's contour or parallel-coordinates plot. Here everything slow
happens in a job on the runner's threads: loading the trials, building Optuna's figure
(``app.core.tuning.plots.figure``) and drawing it with matplotlib's Agg renderer into an
RGBA buffer at the widget's size and pixel ratio, in the palette's colours. The GUI thread
only paints the finished ``QImage`` (``PlotImage``). A resize or a palette change
(View ▸ Theme) draws the same figure again in a job, debounced, while the last picture is
shown scaled; a newer render drops an older one's result (``JobSlot``). Only the plots that
apply to the study are offered (no Pareto front for a single objective, no intermediate values
for several). Export (PNG, SVG, PDF) saves the figure in a job too.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPoint, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs
from app.ui.widgets.colors import PlotColors, plot_colors
from app.ui.widgets.plot_style import EXPORT_FILTERS, PNG_DPI_SCALE

TITLES = {
    "history": "Optimisation history",
    "importances": "Parameter importances",
    "slice": "Slice",
    "contour": "Contour",
    "parallel": "Parallel coordinates",
    "intermediate": "Intermediate values",
    "pareto": "Pareto front",
    "timeline": "Timeline",
    "edf": "Empirical distribution",
}
RESIZE_DEBOUNCE_MS = 120
MIN_SIZE = QSize(160, 120)  # below this matplotlib's constrained layout has no room
_BASE_DPI = 96.0
#: A figure is touched by one thread at a time: a render still running when a newer one
#: starts (cancel is only a flag) must not lay the figure out under it.
_FIGURE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Frame:
    """What a render is asked for: the widget's size in logical pixels, its device pixel
    ratio and the palette's plot colours (read on the GUI thread, handed to the job)."""

    width: int
    height: int
    ratio: float
    colors: PlotColors


@dataclass(frozen=True)
class Picture:
    """A drawn plot: the figure (kept to draw again at another size) and its image."""

    kind: str
    figure: Any
    image: QImage
    frame: Frame


def draw_image(figure: Any, frame: Frame) -> QImage:
    """Draw ``figure`` with Agg at ``frame``'s size and colours into a QImage (any thread)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from app.ui.widgets.plot_style import style_figure

    dpi = _BASE_DPI * frame.ratio
    with _FIGURE_LOCK:
        style_figure(figure, frame.colors)
        figure.set_dpi(dpi)
        figure.set_size_inches(
            max(frame.width, 1) / _BASE_DPI, max(frame.height, 1) / _BASE_DPI, forward=False
        )
        canvas = FigureCanvasAgg(figure)
        with warnings.catch_warnings():  # "constrained_layout not applied": drawn all the same
            warnings.simplefilter("ignore", UserWarning)
            try:
                canvas.draw()
            except (ZeroDivisionError, ValueError):  # a layout with no room: draw it unlaid
                figure.set_layout_engine("none")
                canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())
        height, width = pixels.shape[:2]
        image = QImage(pixels.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
        image = image.copy()  # own the bytes: the buffer belongs to the renderer
    image.setDevicePixelRatio(frame.ratio)
    return image


def build_picture(tuning: Any, name: str, kind: str, frame: Frame, *, progress: Any) -> Any:
    """Job body: Optuna's ``kind`` plot of study ``name`` drawn at ``frame``, or the sentence
    why there is none yet (too few finished trials)."""
    from app.core.tuning import plots
    from app.core.tuning.store import load_study

    progress.check_cancelled()
    try:
        figure = plots.figure(load_study(tuning.storage, name), kind)
    except plots.NotEnoughTrials as exc:
        return exc.message
    progress.check_cancelled()
    return Picture(kind, figure, draw_image(figure, frame), frame)


def redraw_picture(picture: Picture, frame: Frame, *, progress: Any) -> Picture:
    """Job body: the same figure drawn again at a new size or in new colours."""
    progress.check_cancelled()
    return Picture(picture.kind, picture.figure, draw_image(picture.figure, frame), frame)


def export_figure(figure: Any, path: str, colors: PlotColors, *, progress: Any) -> str:
    """Job body: write ``figure`` to ``path`` in the format its extension names."""
    import matplotlib

    from app.ui.widgets.plot_style import style_figure

    progress.check_cancelled()
    suffix = Path(path).suffix.lower()
    options: dict[str, Any] = {"format": suffix[1:], "bbox_inches": "tight"}
    with _FIGURE_LOCK:
        style_figure(figure, colors)
        options["facecolor"] = figure.get_facecolor()
        if suffix == ".png":
            options["dpi"] = _BASE_DPI * PNG_DPI_SCALE
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            figure.savefig(path, **options)
    return path


def plot_kinds(objectives: int) -> list[str]:
    """The plots that apply to a study with ``objectives`` objectives, in menu order."""
    from app.core.tuning.plots import available

    return [k for k in TITLES if k in available(objectives)]


class PlotImage(QWidget):
    """Paints the last drawn picture, scaled to the widget until the next one arrives."""

    resized = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(MIN_SIZE)
        self.setAccessibleName("Plot")

    def set_image(self, image: QImage) -> None:
        self.image = image
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(480, 320)

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.image.isNull():
            return
        painter = QPainter(self)
        painter.drawImage(QRectF(self.rect()), self.image)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()


class PlotView(QWidget):
    """A plot picker over a PlotImage; ``show_study`` then ``render`` draw a study's plot."""

    rendered = Signal(str)  # the kind drawn (or "" when a sentence was shown instead)
    exported = Signal(str)  # the path written
    export_failed = Signal(str)  # a sentence for the panel's message bar

    def __init__(self, *, tuning: Any, jobs: PanelJobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tuning = tuning
        self._jobs = jobs
        self._slot = JobSlot(jobs)
        self._study: str | None = None
        self._objectives = 0
        self.picture: Picture | None = None
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Plot")
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save this plot as PNG, SVG or PDF, or copy it")
        self.export_button.setAutoRaise(True)
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setMenu(self._export_menu(self.export_button))
        self.export_button.setEnabled(False)
        self.message = QLabel("Select or start a study to see its plots.")
        self.message.setWordWrap(True)
        self.canvas = PlotImage(self)
        self.canvas.setVisible(False)
        self.canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(RESIZE_DEBOUNCE_MS)
        top = QHBoxLayout()
        top.addWidget(QLabel("Plot:"))
        top.addWidget(self.kind_combo, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.canvas, 1)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_combo_changed)
        self.canvas.resized.connect(self._redraw_timer.start)
        self.canvas.customContextMenuRequested.connect(self._on_canvas_context_menu)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)

    def kinds(self) -> list[str]:
        return [self.kind_combo.itemData(i) for i in range(self.kind_combo.count())]

    def kind(self) -> str | None:
        return self.kind_combo.currentData()

    @property
    def busy(self) -> bool:
        return self._slot.busy

    def show_study(self, name: str | None, objectives: int) -> None:
        """Offer the plots of a study with ``objectives`` objectives (none when no study)."""
        changed = name != self._study or objectives != self._objectives
        self._study, self._objectives = name, objectives
        if not changed:
            return
        current = self.kind()
        kinds = plot_kinds(objectives) if name and objectives else []
        blocked = self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        for kind in kinds:
            self.kind_combo.addItem(TITLES[kind], kind)
        if current in kinds:
            self.kind_combo.setCurrentIndex(kinds.index(current))
        self.kind_combo.blockSignals(blocked)
        if not name:
            self._slot.cancel()
            self._say("Select or start a study to see its plots.")

    def render(self) -> JobBridge | None:
        """Build and draw the chosen plot of the study anew (in a job)."""
        kind = self.kind()
        if self._study is None or kind is None:
            return None
        return self._slot.start(
            build_picture,
            self._tuning,
            self._study,
            kind,
            self._frame(),
            name=f"Plot {kind}",
            done=lambda _b, result: self._on_picture(result),
        )

    def redraw(self) -> JobBridge | None:
        """Draw the shown figure again at the current size and colours (in a job)."""
        self._redraw_timer.stop()
        if self.picture is None or self._slot.busy:  # a render under way checks its frame
            return None
        frame = self._frame()
        if frame == self.picture.frame:
            return None
        return self._slot.start(
            redraw_picture, self.picture, frame, name=f"Redraw {self.picture.kind}",
            done=lambda _b, result: self._on_picture(result),
        )  # fmt: skip

    def export(self, path: str) -> JobBridge | None:
        """Save the shown plot to ``path`` (.png, .svg or .pdf) in a job."""
        if self.picture is None:
            return None
        suffix = Path(path).suffix.lower()
        if suffix not in EXPORT_FILTERS:
            self.export_failed.emit(
                f"Cannot export a plot as '{suffix or Path(path).name}'; use .png, .svg or .pdf."
            )
            return None
        bridge = self._jobs.start(
            export_figure, self.picture.figure, path, plot_colors(self.palette()),
            name="Export plot", done=lambda _b, written: self.exported.emit(written),
        )  # fmt: skip
        bridge.failed.connect(
            lambda error, _tb: self.export_failed.emit(
                f"Could not export the plot to {path}: {getattr(error, 'strerror', None) or error}."
            )
        )
        return bridge

    def stop(self) -> None:
        self._redraw_timer.stop()
        self._slot.cancel()

    # -- events and slots --------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        changes = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
        if event.type() in changes and self.picture is not None:
            self._redraw_timer.start()

    def _on_kind_combo_changed(self, _index: int) -> None:
        self._slot.cancel()
        self.render()

    def _on_redraw_timer_timeout(self) -> None:
        self.redraw()

    def _on_picture(self, result: Any) -> None:
        if isinstance(result, str):
            self._say(result)
            self.rendered.emit("")
            return
        first = self.picture is None or self.picture.figure is not result.figure
        self.picture = result
        self.canvas.set_image(result.image)
        self.message.setVisible(False)
        self.canvas.setVisible(True)
        self.export_button.setEnabled(True)
        if result.frame != self._frame():  # resized while it was drawn
            self._redraw_timer.start()
        if first:
            self.rendered.emit(result.kind)

    def _on_canvas_context_menu(self, pos: QPoint) -> None:
        self._export_menu(self).popup(self.canvas.mapToGlobal(pos))

    # -- helpers -----------------------------------------------------------------------------

    def _frame(self) -> Frame:
        size = self.canvas.size()
        if not self.canvas.isVisible():  # hidden behind a sentence: the room it will take
            top = self.kind_combo.sizeHint().height()
            size = QSize(max(self.width(), MIN_SIZE.width()), max(self.height() - top, 1))
        size = size.expandedTo(MIN_SIZE)
        return Frame(
            size.width(), size.height(), self.canvas.devicePixelRatioF() or 1.0,
            plot_colors(self.palette()),
        )  # fmt: skip

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(True)
        self.canvas.setVisible(False)
        self.export_button.setEnabled(False)

    def _export_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        for suffix in EXPORT_FILTERS:
            menu.addAction(f"Export as {suffix[1:].upper()}…", lambda s=suffix: self._ask(s))
        menu.addSeparator()
        menu.addAction("Copy image", self._copy_image)
        return menu

    def _ask(self, suffix: str) -> None:
        start = str(Path.home() / f"study-{self._study}-{self.kind()}{suffix}")
        filters = ";;".join(
            [EXPORT_FILTERS[suffix]] + [f for s, f in EXPORT_FILTERS.items() if s != suffix]
        )
        path, chosen = QFileDialog.getSaveFileName(self, "Export plot", start, filters)
        if path:
            if not Path(path).suffix:
                path += next((s for s, f in EXPORT_FILTERS.items() if f == chosen), suffix)
            self.export(path)

    def _copy_image(self) -> None:
        if not self.canvas.image.isNull():
            QGuiApplication.clipboard().setImage(self.canvas.image)
