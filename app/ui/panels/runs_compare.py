"""Compare two or more runs: parameter differences, metric bars with their fold spread,
overlaid ROC / precision-recall curves, and a parallel-coordinates plot.

``load_compare`` (job body, worker thread) reads the runs, the per-fold history of every
metric and any stored curve data; it also imports matplotlib there, so the GUI thread never
pays for that import. ``CompareView`` fills its tables and draws its figures from the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.ui.panels.runs_metrics import (
    EXTRAS,
    MetricRow,
    history_keys,
    lower_is_better,
    metric_order,
    summarize_metrics,
)
from app.ui.panels.runs_plots import Series, draw_curves, draw_metric_bars, draw_parallel
from app.ui.panels.runs_rows_model import RowsModel
from app.ui.panels.runs_table_model import format_value

if TYPE_CHECKING:
    from app.core.tracking import Run, RunArtifact, TrackingService

ATTRIBUTE_ROWS = ("estimator", "task", "target", "dataset", "seed")
CURVE_KINDS = {"roc": ("fpr", "tpr"), "pr": ("recall", "precision")}
NO_CURVES_NOTE = (
    "None of the selected runs stored ROC or precision-recall curve data "
    "(regression runs and runs logged from scripts have none)."
)


@dataclass(frozen=True)
class CompareData:
    runs: list[Run]
    rows: dict[int, dict[str, MetricRow]]  # run → metric → value, spread, folds, test
    curves: dict[int, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def series(self) -> list[Series]:
        return [Series(r.id, run_label(r)) for r in self.runs]

    def metric_keys(self) -> list[str]:
        """Every metric of any run, in the order of ``runs_metrics.ORDER``."""
        seen: dict[str, MetricRow] = {}
        for per_run in self.rows.values():
            for key, row in per_run.items():
                seen.setdefault(key, row)
        return [r.key for r in sorted(seen.values(), key=metric_order)]

    def shared_metrics(self) -> list[str]:
        """Metrics with a value in every run (the extras such as train_seconds last)."""
        keys = [
            k
            for k in self.metric_keys()
            if all(
                self.rows.get(r.id, {}).get(k) is not None and self.rows[r.id][k].value is not None
                for r in self.runs
            )
        ]
        return [k for k in keys if k not in EXTRAS] or keys

    def values(self) -> dict[int, dict[str, float]]:
        return {
            run_id: {k: r.value for k, r in rows.items() if r.value is not None}
            for run_id, rows in self.rows.items()
        }

    def curve_labels(self) -> list[str]:
        """Classes with a curve in any run ("" is the positive class of a binary task)."""
        labels: dict[str, None] = {}
        for per_run in self.curves.values():
            for per_class in per_run.values():
                labels.update(dict.fromkeys(per_class))
        return list(labels)


def run_label(run: Run) -> str:
    return f"#{run.id} {run.name or run.estimator or ''}".strip()


def curve_artifacts(run: Run) -> list[RunArtifact]:
    return [a for a in run.artifacts if a.kind == "curve" or a.name == "curves.json"]


def _curve(raw: Any, kind: str) -> dict[str, Any] | None:
    xk, yk = CURVE_KINDS[kind]
    if not isinstance(raw, dict) or xk not in raw or yk not in raw:
        return None
    area = raw.get("auc", raw.get("average_precision"))
    return {
        "x": list(raw[xk]),
        "y": list(raw[yk]),
        "auc": float(area) if isinstance(area, int | float) else None,
    }


def parse_curves(data: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """The training worker's ``curves.json`` → {'roc'|'pr': {class: {'x', 'y', 'auc'}}}.

    A binary run stores ``{"roc": {"fpr", "tpr", "auc"}, "pr": {"recall", "precision",
    "average_precision"}}`` (class ""); a multiclass run one such curve per class.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    if not isinstance(data, dict):
        return out
    for kind in CURVE_KINDS:
        raw = data.get(kind)
        single = _curve(raw, kind)
        if single is not None:
            out[kind] = {"": single}
        elif isinstance(raw, dict):
            per_class = {str(k): c for k, v in raw.items() if (c := _curve(v, kind))}
            if per_class:
                out[kind] = per_class
    return out


def load_compare(tracking: TrackingService, run_ids: list[int], *, progress: Any) -> CompareData:
    """Job body (worker thread): the runs, their metrics with fold values, and curves."""
    import matplotlib.figure  # noqa: F401  (pay the import here, not on the GUI thread)

    runs, rows, curves, notes = [], {}, {}, []
    for n, run_id in enumerate(run_ids):
        progress.check_cancelled()
        progress.update(n / max(len(run_ids), 1), f"Reading run {run_id}")
        run = tracking.get(run_id)
        runs.append(run)
        history = {
            key: [v for _, v, _ in tracking.metric_history(run_id, key)]
            for key in history_keys(run.metrics)
        }
        rows[run_id] = {r.key: r for r in summarize_metrics(run.metrics, history)}
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for art in curve_artifacts(run):
            try:
                path = tracking.artifacts.open_verified(art.sha256)
                found.update(parse_curves(json.loads(path.read_text(encoding="utf-8"))))
            except (ModelDeskError, ValueError, OSError) as exc:
                notes.append(f"Run {run_id}, {art.name}: {exc}")
        curves[run_id] = found
    return CompareData(runs, rows, curves, notes)


def make_canvas(parent: QWidget | None = None, name: str = "plot") -> Any:
    """The shared plot canvas (Export button: PNG/SVG/PDF), or a bare matplotlib canvas."""
    try:
        from app.ui.widgets.plot_canvas import PlotCanvas
    except ImportError:  # the shared widget is optional: draw anyway
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        canvas = FigureCanvasQTAgg(Figure(figsize=(6, 4), dpi=96))
        canvas.setParent(parent)
        return canvas
    return PlotCanvas(parent, export_name=name)


def param_rows(runs: list[Run]) -> tuple[list[list[Any]], set[int]]:
    """Rows of (name, value per run) — attributes then parameters — and the differing rows."""
    rows: list[list[Any]] = []
    differing: set[int] = set()

    def attribute(run: Run, name: str) -> Any:
        if name == "dataset":
            return run.dataset_version_id
        return getattr(run, name)

    keys = sorted({k for r in runs for k in r.params})
    for name in ATTRIBUTE_ROWS:
        values = [attribute(r, name) for r in runs]
        rows.append([name, *("" if v is None else str(v) for v in values)])
    for key in keys:
        values = [r.params.get(key) for r in runs]
        rows.append([key, *("—" if v is None else v for v in values)])
    for i, row in enumerate(rows):
        if len(set(row[1:])) > 1:
            differing.add(i)
    return rows, differing


class CompareView(QWidget):
    notice = Signal(str)  # a sentence for the panel's message bar (a plot was exported…)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: CompareData | None = None
        self._canvases: dict[str, Any] = {}

        self.title = QLabel("Select two or more runs and press Compare.")
        self.title.setWordWrap(True)
        self.only_differences = QCheckBox("Only differences")
        self.only_differences.setToolTip("Hide the parameters that all selected runs share")
        self.only_differences.toggled.connect(self._on_only_differences_toggled)
        self.params_model = RowsModel(["Parameter"], self)
        self.params_view = self._table(self.params_model)
        params_tab = QWidget()
        p_layout = QVBoxLayout(params_tab)
        p_layout.addWidget(self.only_differences)
        p_layout.addWidget(self.params_view, 1)

        self.metrics_model = RowsModel(["Metric"], self)
        self.metrics_view = self._table(self.metrics_model)
        self.metrics_view.horizontalHeader().setStretchLastSection(False)
        self.metrics_split = QSplitter(Qt.Orientation.Vertical)
        self.metrics_split.addWidget(self.metrics_view)

        self.curves_note = QLabel(NO_CURVES_NOTE)
        self.curves_note.setWordWrap(True)
        self.curves_note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.curve_class = QComboBox()
        self.curve_class.setToolTip("The class whose one-vs-rest curves are drawn")
        self.curve_class.setVisible(False)
        self.curve_class.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.curve_class.currentIndexChanged.connect(self._on_curve_class_changed)
        self._curve_labels: list[str] = []
        self.curves_tab = QWidget()
        self._curves_layout = QVBoxLayout(self.curves_tab)
        self.curve_class_label = QLabel("Class:")
        self.curve_class_label.setVisible(False)
        picker = QHBoxLayout()
        picker.addWidget(self.curve_class_label)
        picker.addWidget(self.curve_class)
        picker.addWidget(self.curves_note, 10)
        picker.addStretch(1)
        self._curves_layout.addLayout(picker)
        self.parallel_tab = QWidget()
        self._parallel_layout = QVBoxLayout(self.parallel_tab)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(params_tab, "Parameters")
        self.tabs.addTab(self.metrics_split, "Metrics")
        self.tabs.addTab(self.curves_tab, "ROC / PR")
        self.tabs.addTab(self.parallel_tab, "Parallel coordinates")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.tabs, 1)

    # -- public API --------------------------------------------------------------------------

    def show_loading(self, run_ids: list[int]) -> None:
        self.title.setText("Loading " + ", ".join(f"#{i}" for i in run_ids) + "…")

    def set_data(self, data: CompareData) -> None:
        self.data = data
        labels = [run_label(r) for r in data.runs]
        self.title.setText(f"Comparing {len(data.runs)} runs: " + ", ".join(labels))
        self._fill_params()
        self._fill_metrics()
        self._draw()

    def differing_parameters(self) -> list[str]:
        """Names of the highlighted (differing) rows of the parameter table."""
        model = self.params_model
        return [model.row_values(i)[0] for i in range(model.rowCount()) if model.is_highlighted(i)]

    def canvas(self, name: str) -> Any:
        return self._canvases.get(name)

    # -- filling -----------------------------------------------------------------------------

    def _fill_params(self) -> None:
        assert self.data is not None
        runs = self.data.runs
        rows, differing = param_rows(runs)
        if self.only_differences.isChecked():
            kept = [i for i in range(len(rows)) if i in differing]
            rows = [rows[i] for i in kept]
            differing = set(range(len(rows)))
        headers = ["Parameter", *(run_label(r) for r in runs)]
        self.params_model.set_rows(headers, rows, highlight=differing)
        self.params_view.resizeColumnsToContents()

    def _fill_metrics(self) -> None:
        assert self.data is not None
        runs, per_run = self.data.runs, self.data.rows
        keys = self.data.metric_keys()
        lines: list[tuple[str, str]] = [(k, "cv") for k in keys]
        lines += [
            (k, "test")
            for k in keys
            if any(per_run[r.id].get(k) and per_run[r.id][k].test is not None for r in runs)
        ]
        rows, tips, best = [], {}, set()
        for i, (key, part) in enumerate(lines):
            row = [key if part == "cv" else f"test.{key}"]
            scored = []
            for j, run in enumerate(runs):
                m = per_run[run.id].get(key)
                value = None if m is None else (m.value if part == "cv" else m.test)
                if value is None:
                    row.append("")
                    continue
                scored.append((value, j))
                if part == "cv" and m.std is not None:
                    row.append(f"{format_value(value)} ± {format_value(m.std)}")
                else:
                    row.append(format_value(value))
                if part == "cv" and m.folds:
                    tips[(i, j + 1)] = "Folds: " + ", ".join(format_value(v) for v in m.folds)
            rows.append(row)
            if len(scored) > 1 and len({v for v, _ in scored}) > 1:
                pick = min if lower_is_better(key) else max
                top = pick(v for v, _ in scored)
                best |= {(i, j + 1) for v, j in scored if v == top}
        self.metrics_model.set_rows(
            ["Metric", *(run_label(r) for r in runs)],
            rows,
            tips=tips,
            right_aligned=set(range(1, len(runs) + 1)),
            bold_cells=best,
        )
        self.metrics_view.resizeColumnsToContents()

    def best_cells(self) -> list[tuple[str, str]]:
        """(metric, run label) of the cells shown in bold as the best of their row."""
        model = self.metrics_model
        headers = model.headers()
        return [
            (model.row_values(r)[0], headers[c])
            for r in range(model.rowCount())
            for c in range(1, model.columnCount())
            if model.is_bold(r, c)
        ]

    def _draw(self) -> None:
        assert self.data is not None
        data = self.data
        series = data.series
        bars = self._ensure_canvas("bars", self.metrics_split)
        draw_metric_bars(bars.figure, series, data.rows, data.shared_metrics())
        bars.draw_idle()
        labels = data.curve_labels()
        with QSignalBlocker(self.curve_class):
            self.curve_class.clear()
            self.curve_class.addItems([label or "positive class" for label in labels])
        self._curve_labels = labels
        self.curve_class.setVisible(len(labels) > 1)
        self.curve_class_label.setVisible(len(labels) > 1)
        self._draw_curves()
        parallel = self._ensure_canvas("parallel", self.parallel_tab, self._parallel_layout)
        params = {r.id: {"estimator": r.estimator or "", **r.params} for r in data.runs}
        values = {
            run_id: {k: v for k, v in vals.items() if k in data.shared_metrics()}
            for run_id, vals in data.values().items()
        }
        draw_parallel(parallel.figure, series, params, values)
        parallel.draw_idle()

    def _draw_curves(self) -> None:
        assert self.data is not None
        data = self.data
        curves = self._ensure_canvas("curves", self.curves_tab, self._curves_layout)
        index = self.curve_class.currentIndex()
        label = self._curve_labels[index] if 0 <= index < len(self._curve_labels) else ""
        has_curves = draw_curves(curves.figure, data.series, data.curves, label)
        curves.setVisible(has_curves)
        note = "" if has_curves else NO_CURVES_NOTE
        if data.notes:
            note = (note + "\n" if note else "") + "\n".join(data.notes)
        self.curves_note.setText(note)
        self.curves_note.setVisible(bool(note))
        if has_curves:
            curves.draw_idle()

    def _ensure_canvas(self, name: str, host: QWidget, layout: Any = None) -> Any:
        canvas = self._canvases.get(name)
        if canvas is None:
            canvas = make_canvas(host, f"compare-{name}")
            if hasattr(canvas, "exported"):
                canvas.exported.connect(lambda path: self.notice.emit(f"Saved the plot to {path}."))
                canvas.export_failed.connect(lambda text: self.notice.emit(text))
            canvas.setObjectName(f"compare-{name}")
            canvas.setMinimumHeight(220)
            if isinstance(host, QSplitter):
                host.addWidget(canvas)
                host.setStretchFactor(0, 2)
                host.setStretchFactor(1, 5)
            else:
                layout.addWidget(canvas, 1)
            self._canvases[name] = canvas
        return canvas

    @staticmethod
    def _table(model: RowsModel) -> QTableView:
        view = QTableView()
        view.setModel(model)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        view.horizontalHeader().setStretchLastSection(True)
        return view

    # -- slots -------------------------------------------------------------------------------

    def _on_curve_class_changed(self, _index: int) -> None:
        if self.data is not None:
            self._draw_curves()

    def _on_only_differences_toggled(self, _checked: bool) -> None:
        if self.data is not None:
            self._fill_params()
