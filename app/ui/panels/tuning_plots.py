"""The Tuning panel's plots: Optuna's matplotlib visualisations on the project's PlotCanvas.

The figure is built on a worker thread (``app.core.tuning.plots.figure``: loading the trials
and computing importances is the slow part) and only adopted by the canvas on the GUI thread,
so the plot is a live matplotlib figure: it is laid out and drawn again at every resize (never
a picture scaled once), and the canvas's Export button saves it as shown. Only the plots that
apply to the study are offered (no Pareto front for a single objective, no intermediate values
for several).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs

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


def build_figure(tuning: Any, name: str, kind: str, *, progress: Any) -> Any:
    """Optuna's ``kind`` plot of study ``name`` as a Figure, or the sentence why there is none
    yet (too few finished trials)."""
    from app.core.tuning import plots
    from app.core.tuning.store import load_study

    progress.check_cancelled()
    import app.ui.widgets.plot_canvas  # noqa: F401 - its Qt backend import, here not on the GUI

    try:
        return plots.figure(load_study(tuning.storage, name), kind)
    except plots.NotEnoughTrials as exc:
        return exc.message


def plot_kinds(objectives: int) -> list[str]:
    """The plots that apply to a study with ``objectives`` objectives, in menu order."""
    from app.core.tuning.plots import available

    return [k for k in TITLES if k in available(objectives)]


class PlotView(QWidget):
    """A plot picker over a PlotCanvas; ``show_study`` then ``render`` draw a study's plot."""

    rendered = Signal(str)  # the kind drawn (or "" when a sentence was shown instead)

    def __init__(self, *, tuning: Any, jobs: PanelJobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tuning = tuning
        self._slot = JobSlot(jobs)
        self._study: str | None = None
        self._objectives = 0
        self.canvas: Any = None  # built on the first plot: importing matplotlib costs
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Plot")
        self.message = QLabel("Select or start a study to see its plots.")
        self.message.setWordWrap(True)
        self._canvas_host = QVBoxLayout()
        self._canvas_host.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel("Plot:"))
        top.addWidget(self.kind_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addLayout(self._canvas_host, 1)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_combo_changed)

    def kinds(self) -> list[str]:
        return [self.kind_combo.itemData(i) for i in range(self.kind_combo.count())]

    def kind(self) -> str | None:
        return self.kind_combo.currentData()

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
        """Build the chosen plot of the study anew (a newer ask drops an older one's result)."""
        kind = self.kind()
        if self._study is None or kind is None:
            return None
        return self._slot.start(
            build_figure,
            self._tuning,
            self._study,
            kind,
            name=f"Plot {kind}",
            done=lambda _b, fig, k=kind: self._on_figure(k, fig),
        )

    def stop(self) -> None:
        self._slot.cancel()

    # -- slots -------------------------------------------------------------------------------

    def _on_kind_combo_changed(self, _index: int) -> None:
        self._slot.cancel()
        self.render()

    def _on_figure(self, kind: str, fig: Any) -> None:
        if isinstance(fig, str):
            self._say(fig)
            self.rendered.emit("")
            return
        self._adopt(fig)
        self.rendered.emit(kind)

    # -- helpers -----------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(True)
        if self.canvas is not None:
            self.canvas.setVisible(False)

    def _adopt(self, fig: Any) -> None:
        """Put ``fig`` on the canvas: from now on the canvas draws it, at its own size."""
        if self.canvas is None:
            from app.ui.widgets.plot_canvas import PlotCanvas

            self.canvas = PlotCanvas(self, export_name=f"study-{self._study}")
            self._canvas_host.addWidget(self.canvas)
        qt = self.canvas.canvas
        old = self.canvas.figure
        fig.set_dpi(old.dpi)
        fig._original_dpi = getattr(old, "_original_dpi", old.dpi)  # HiDPI scaling of the old
        fig.set_canvas(qt)
        qt.figure = fig
        self.canvas.figure = fig
        self.canvas.export_name = f"study-{self._study}-{self.kind()}"
        width, height = max(qt.width(), 1), max(qt.height(), 1)
        ratio = qt.device_pixel_ratio or 1
        fig.set_size_inches(width * ratio / fig.dpi, height * ratio / fig.dpi, forward=False)
        self.message.setVisible(False)
        self.canvas.setVisible(True)
        qt.draw_idle()
