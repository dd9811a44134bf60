"""The Monitor panel: is the data a model sees still the data it learnt from?

Pick a model version and a source (a deployment's prediction log, a stored dataset, or a
batch file dropped on the panel); the drift check runs as a job off the GUI thread and is
stored, so the trend grows with every check. The drift table shows each feature's deciding
value, threshold, status and a small reference/current histogram; selecting a row shows its
detail. Tabs plot drift over time per feature and overall, the prediction distribution and
the metric trend when batches carried labels. An alert goes to the window's status bar and,
where the desktop has a tray, to a notification.

The model picker starts on the version the person picked last (the current context), else on a
champion. Operations the window's menus call: ``check_drift``, ``drop_batch``, ``retrain``.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QSystemTrayIcon,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.ui.items import DatasetItem, DeploymentItem, ModelVersionItem
from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs
from app.ui.widgets.error_dialog import show_unexpected_error
from app.ui.widgets.job_progress import JobProgressList
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.ui.context import CurrentContext

STATUS_COLORS = {"ok": "#2e7d32", "warning": "#ef6c00", "alert": "#c62828"}
REF_COLOR, CUR_COLOR = "#1f77b4", "#ff7f0e"
COLUMNS = (
    "Feature",
    "Kind",
    "Method",
    "Value",
    "Threshold",
    "PSI",
    "Status",
    "Reference / current",
)
WINDOWS = ("whole log", "hour", "day", "week")


# -- jobs (run on the runner's threads) ------------------------------------------------------


def load_choices(monitoring: Any, *, progress: Any) -> dict[str, Any]:
    datasets = []
    for ds in monitoring.datasets.list():
        datasets.extend(v.ref for v in reversed(ds.versions))
    aliases = {}  # "name@alias" → the version number it points at
    for model in monitoring.registry.list_models():
        for alias, number in model.aliases.items():
            aliases[f"{model.name}@{alias}"] = number
    return {
        "versions": monitoring.versions(),
        "aliases": aliases,
        "deployments": monitoring.deployments(),
        "datasets": datasets,
    }


def default_model(refs: list[str], context: Any) -> str | None:
    """The version the picker starts on: the context's version, its model's champion, the
    first champion, else the first entry (never the challenger by accident of order)."""
    model = getattr(context, "model", None)
    version = getattr(context, "model_version", None)
    candidates = [f"{model}@{version}", f"{model}@champion"] if model else []
    candidates += [r for r in refs if r.endswith("@champion")]
    return next((r for r in candidates if r in refs), refs[0] if refs else None)


def run_check(
    monitoring: Any, ref: str, source: dict[str, Any], *, progress: Any
) -> dict[str, Any]:
    reports = monitoring.check(ref, progress=progress, **source)
    name = reports[-1].model["name"] if reports[-1].model else ref.partition("@")[0]
    return {"reports": reports, "trend": monitoring.trend(name)}


def load_model_history(monitoring: Any, ref: str, *, progress: Any) -> dict[str, Any]:
    version = monitoring.registry.resolve(ref)
    stored = monitoring.reports(version.model_name, limit=1)
    latest = monitoring.report(stored[0]["id"]) if stored else None
    return {"reports": [latest] if latest else [], "trend": monitoring.trend(version.model_name)}


def export_report(monitoring: Any, report: Any, path: str, *, progress: Any) -> str:
    return str(monitoring.export(report, path))


def run_retrain(retrainer: Any, ref: str, data: str, promote: bool, *, progress: Any) -> Any:
    return retrainer.retrain(ref, data, promote_if_better=promote, progress=progress)


def histogram_pixmap(hist: dict[str, Any], width: int = 120, height: int = 28) -> QPixmap:
    """Reference (blue) and current (orange) shares per bin, drawn without matplotlib."""
    pix = QPixmap(width, height)
    pix.fill(Qt.GlobalColor.transparent)
    ref, cur = hist.get("reference") or [], hist.get("current") or []
    if not ref:
        return pix
    top = max(max(ref), max(cur or [0]), 1e-12)
    step = width / len(ref)
    bar = max(step / 2 - 0.5, 0.5)
    painter = QPainter(pix)
    for i, (r, c) in enumerate(zip(ref, cur or [0.0] * len(ref), strict=False)):
        for off, value, color in ((0.0, r, REF_COLOR), (bar, c, CUR_COLOR)):
            h = height * value / top
            painter.fillRect(
                int(i * step + off), int(height - h), max(1, int(bar)), int(h), QColor(color)
            )
    painter.end()
    return pix


class MonitorPanel(QWidget):
    report_shown = Signal(object)  # the DriftReport now on screen
    alert_raised = Signal(str)  # the sentence shown in the status bar

    retrained = Signal(object)  # the RetrainResult
    open_requested = Signal(str, object)
    item_menu_requested = Signal(object, QPoint)  # (ModelVersionItem, global position)
    item_activated = Signal(object)
    selection_changed = Signal(object)  # ModelVersionItem or None

    def __init__(
        self,
        *,
        monitoring: Any,
        runner: Any,
        retrainer: Any = None,
        context: CurrentContext | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._retrainer = retrainer
        self.setObjectName("panel-monitor")
        self.setAcceptDrops(True)
        self._monitoring = monitoring
        self._context = context
        self._wanted_model: str | None = None  # a ref asked for before the list came in
        self._wanted_source: dict[str, Any] | None = None
        self._jobs = PanelJobs(self, runner, on_failed=self._on_job_failed)
        self._check_slot = JobSlot(self._jobs)
        self._deployments: list[dict[str, Any]] = []
        self._datasets: list[str] = []
        self.report: Any = None
        self.trend: list[dict[str, Any]] = []
        self._tray: QSystemTrayIcon | None = None

        self.messages = MessageBar()
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("monitor-model")
        self.model_combo.setAccessibleName("Model version")
        self.model_combo.setMinimumContentsLength(20)
        self.source_combo = QComboBox()
        self.source_combo.setObjectName("monitor-source")
        self.source_combo.setAccessibleName("Current data")
        self.source_combo.setMinimumContentsLength(24)
        self.window_combo = QComboBox()
        self.window_combo.addItems(WINDOWS)
        self.window_combo.setAccessibleName("Time window")
        self.check_button = QPushButton("Check drift")
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Report as HTML…", lambda: self.export_dialog("html"))
        menu.addAction("Report as JSON…", lambda: self.export_dialog("json"))
        self.export_button.setMenu(menu)
        self.export_button.setEnabled(False)
        self.retrain_button = QPushButton("Retrain on this data")
        self.retrain_button.setToolTip(
            "Train the champion's recipe on the chosen dataset and compare the two"
        )
        self.retrain_button.setEnabled(retrainer is not None)
        self.promote_check = QCheckBox("promote if better")
        self.summary = QLabel("Pick a model and its current data, or drop a batch file here.")
        self.summary.setWordWrap(True)
        self.jobs = JobProgressList()

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("monitor-drift-table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.detail = QTextBrowser()
        self.tabs = QTabWidget()
        self._canvases: dict[str, Any] = {}
        for key, title in (
            ("detail", "Detail"),
            ("trend", "Drift over time"),
            ("prediction", "Predictions"),
            ("metrics", "Metric trend"),
        ):
            holder = QWidget()
            QVBoxLayout(holder).setContentsMargins(0, 0, 0, 0)
            self.tabs.addTab(holder, title)
            self._canvases[key] = holder
        self._canvases["detail"].layout().addWidget(self.detail)
        self.comparison = QTextBrowser()
        self.comparison.setObjectName("monitor-comparison")
        self.tabs.addTab(self.comparison, "Champion / challenger")
        # narrow: the tab titles elide in the middle (full title in the tooltip), no arrows
        self.tabs.setElideMode(Qt.TextElideMode.ElideMiddle)
        self.tabs.setUsesScrollButtons(False)
        for index in range(self.tabs.count()):
            self.tabs.setTabToolTip(index, self.tabs.tabText(index))

        # two rows, so that no button is clipped at 1000 px (pickers above, actions below)
        bar = QVBoxLayout()
        pickers, actions = QHBoxLayout(), QHBoxLayout()
        pickers.addWidget(QLabel("Model:"))
        pickers.addWidget(self.model_combo, 1)
        pickers.addWidget(QLabel("Current data:"))
        pickers.addWidget(self.source_combo, 2)
        pickers.addWidget(QLabel("Window:"))
        pickers.addWidget(self.window_combo)
        for widget in (self.check_button, self.export_button, self.retrain_button):
            actions.addWidget(widget)
        actions.addWidget(self.promote_check)
        actions.addStretch(1)
        bar.addLayout(pickers)
        bar.addLayout(actions)
        self.model_combo.setMinimumContentsLength(14)
        self.source_combo.setMinimumContentsLength(16)
        for combo in (self.model_combo, self.source_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.messages)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.jobs)
        layout.addWidget(split, 1)

        self.check_button.clicked.connect(self._on_check_button_clicked)
        self.retrain_button.clicked.connect(self._on_retrain_button_clicked)
        self.model_combo.currentIndexChanged.connect(self._on_model_combo_changed)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu)
        self.table.itemActivated.connect(self._on_table_item_activated)
        self.reload()

    # -- the panel contract ------------------------------------------------------------------

    def open_item(self, item: Any) -> None:
        """A model version is picked (its stored history shown); a deployment picks its log
        as the current data; a dataset version is picked as the current data."""
        if isinstance(item, ModelVersionItem):
            self._pick_model(item.ref)
        elif isinstance(item, DeploymentItem):
            self._pick_source({"deployment": item.deployment_id})
            dep = next((d for d in self._deployments if d["id"] == item.deployment_id), None)
            if dep is not None:
                self._pick_model(f"{dep['model']}@{dep['version']}")
            else:
                self.reload()
        elif isinstance(item, DatasetItem):
            self._pick_source({"dataset": item.ref})

    def selected_item(self) -> ModelVersionItem | None:
        name, _, version = (self.selected_model() or "").partition("@")
        if not name or not version:
            return None
        if version.isdigit():
            return ModelVersionItem(name, int(version))
        resolved = self.model_combo.currentData()  # an alias: the number it pointed at
        return ModelVersionItem(name, int(resolved)) if resolved else None

    def save_settings(self, settings: Any) -> None:
        del settings  # nothing of its own to remember yet

    def restore_settings(self, settings: Any) -> None:
        del settings

    def close_jobs(self) -> None:
        self._jobs.close()

    # -- operations (the window's menus and context menus call these) -------------------------

    def check_drift(self, name: str, version: int) -> JobBridge | None:
        self._pick_model(f"{name}@{version}")
        return self.check()

    def drop_batch(self, path: str | None = None) -> JobBridge | None:
        """Ask for a batch file (CSV, Parquet…) and check the chosen model against it."""
        path = path or self._ask_batch_path()
        return self.check_batch(path) if path else None

    def retrain(self, name: str | None = None, version: int | None = None, **options: Any):
        """Champion/challenger of ``name@version`` on the chosen dataset (a job)."""
        if name is not None and version is not None:
            self._pick_model(f"{name}@{version}")
        return self.retrain_on(**options)

    def _ask_batch_path(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Check drift against a batch",
            str(Path.home()),
            "Data files (*.csv *.tsv *.parquet *.pq *.json *.jsonl *.xlsx);;All files (*)",
        )
        return path or None

    def _pick_model(self, ref: str) -> None:
        index = self.model_combo.findText(ref)
        if index >= 0:
            self.model_combo.setCurrentIndex(index)
        else:
            self._wanted_model = ref
            self.reload()

    def _pick_source(self, source: dict[str, Any]) -> None:
        for row in range(self.source_combo.count()):
            if self.source_combo.itemData(row) == source:
                self.source_combo.setCurrentIndex(row)
                return
        self._wanted_source = source

    def _on_table_context_menu(self, pos: QPoint) -> None:
        item = self.selected_item()
        if item is not None:
            self.item_menu_requested.emit(item, self.table.viewport().mapToGlobal(pos))

    def _on_table_item_activated(self, _cell: Any) -> None:
        item = self.selected_item()
        if item is not None:
            self.item_activated.emit(item)

    # -- public API --------------------------------------------------------------------------

    def reload(self) -> JobBridge:
        return self._jobs.start(
            load_choices, self._monitoring, name="List models", done=self._on_choices_loaded
        )

    def selected_model(self) -> str | None:
        return self.model_combo.currentText() or None

    def source(self) -> dict[str, Any] | None:
        data = self.source_combo.currentData()
        if not data:
            return None
        window = self.window_combo.currentText()
        if "deployment" in data and window != WINDOWS[0]:
            return {**data, "window": window}
        return dict(data)

    def check(self, source: dict[str, Any] | None = None) -> JobBridge | None:
        """Compute (and store) a report for the chosen model and source, as a job."""
        ref, source = self.selected_model(), source or self.source()
        if not ref or not source:
            self.messages.warning("Pick a model version and its current data first.")
            return None
        self.messages.clear()
        title = f"Checking drift of {ref}"
        bridge = self._check_slot.start(
            run_check,
            self._monitoring,
            ref,
            source,
            name=title,
            done=self._on_check_done,
            title=title,
            fresh=True,
        )
        self.jobs.add(bridge, title)
        self.summary.setText(f"{title}…")
        return bridge

    def retrain_on(
        self, dataset: str | None = None, promote: bool | None = None
    ) -> JobBridge | None:
        """Champion/challenger on ``dataset`` (default: the chosen dataset source), as a job."""
        source = self.source() or {}
        ref, data = self.selected_model(), dataset or source.get("dataset")
        if not data and self._context is not None:
            data = self._context.dataset_ref  # the dataset the person picked last
        if self._retrainer is None or not ref or not data:
            self.messages.warning("Pick a model and a labelled dataset to retrain on.")
            return None
        promote = self.promote_check.isChecked() if promote is None else promote
        title = f"Retraining {ref} on {data}"
        bridge = self._jobs.start(
            run_retrain,
            self._retrainer,
            ref,
            data,
            promote,
            name=title,
            done=self._on_retrain_done,
        )
        self.jobs.add(bridge, title)
        return bridge

    def check_batch(self, path: str | Path) -> JobBridge | None:
        return self.check({"batch": str(path)})

    def show_history(self, ref: str) -> JobBridge:
        """The latest stored report of ``ref``'s model and its trend, without computing."""
        return self._check_slot.start(
            load_model_history,
            self._monitoring,
            ref,
            name=f"Reports of {ref}",
            done=self._on_check_done,
        )

    def export_dialog(self, kind: str) -> None:
        if self.report is None:
            return
        model = self.report.model or {}
        start = str(
            Path.home() / f"drift-{model.get('name', 'model')}-{self.report.id or 'new'}.{kind}"
        )
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export drift report",
            start,
            "HTML (*.html)" if kind == "html" else "JSON (*.json)",
        )
        if path:
            self.export(path)

    def export(self, path: str) -> JobBridge | None:
        if self.report is None:
            return None
        return self._jobs.start(
            export_report,
            self._monitoring,
            self.report,
            path,
            name="Export drift report",
            done=lambda _b, p: self.messages.info(f"Wrote {p}."),
        )

    def show_report(self, report: Any, trend: list[dict[str, Any]], *, fresh: bool = False) -> None:
        """Show ``report``; a ``fresh`` alert (just computed, not read back) notifies."""
        self.report, self.trend = report, trend
        self.export_button.setEnabled(True)
        model = report.model or {}
        window = f" · {report.window['start'][:16]}" if report.window else ""
        self.summary.setText(
            f"<b style='color:{STATUS_COLORS[report.status]}'>{report.status.upper()}</b> — "
            f"{model.get('name')}@{model.get('version')} · {report.n_drifted} of "
            f"{len(report.features)} features drifted ({report.drift_share:.0%}) · current: "
            f"{report.current.get('label')} ({report.current.get('rows'):,} rows){window}"
            + (f"<br>{escape(report.verdict)}" if report.verdict else "")
        )
        rows = list(report.features) + ([report.prediction] if report.prediction else [])
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(rows))
            for r, f in enumerate(rows):
                psi = f.stats.get("psi")
                cells = (
                    f.name,
                    f.kind,
                    f.method,
                    "–" if f.value is None else f"{f.value:.4g}",
                    f"{f.threshold:g}",
                    "–" if psi is None else f"{psi:.3g}",
                    f.status,
                )
                for c, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    if c == 6:
                        item.setForeground(QColor(STATUS_COLORS.get(f.status, "#000")))
                    if f.reasons:
                        item.setToolTip("; ".join(f.reasons))
                    self.table.setItem(r, c, item)
                label = QLabel()
                label.setPixmap(histogram_pixmap(f.histogram))
                self.table.setCellWidget(r, 7, label)
            self.table.resizeRowsToContents()
        if rows:
            self.table.selectRow(0)
            self._show_detail(rows[0])
        self._draw_trend()
        self._draw_prediction()
        self._draw_metrics()
        if fresh and report.status == "alert":
            self._alert(report)
        self.report_shown.emit(report)

    def close(self) -> bool:
        self.close_jobs()
        return super().close()

    # -- drawing -----------------------------------------------------------------------------

    def _canvas(self, key: str) -> Any:
        from app.ui.widgets.plot_canvas import PlotCanvas

        holder = self._canvases[key]
        canvas = holder.findChild(PlotCanvas)
        if canvas is None:
            canvas = PlotCanvas(holder, figsize=(5, 3), export_name=f"monitor-{key}")
            holder.layout().addWidget(canvas)
        canvas.figure.clear()
        return canvas

    def _show_detail(self, f: Any) -> None:
        lines = [
            f"<h3>{f.name} — <span style='color:{STATUS_COLORS[f.status]}'>{f.status}</span></h3>",
            f"<p>{f.method} = {f.value if f.value is None else format(f.value, '.4g')} "
            f"(threshold {f.threshold:g}); rows: {f.rows['reference']:,} reference, "
            f"{f.rows['current']:,} current; missing {f.missing['reference']:.1%} → "
            f"{f.missing['current']:.1%}</p>",
        ]
        if f.reasons:
            lines.append("<p>" + "<br>".join(f.reasons) + "</p>")
        stats = {k: v for k, v in f.stats.items() if isinstance(v, int | float)}
        lines.append(
            "<table>"
            + "".join(f"<tr><td>{k}</td><td>{v:.4g}</td></tr>" for k, v in stats.items())
            + "</table>"
        )
        if f.stats.get("unseen"):
            lines.append(
                "<p>Unseen categories: "
                + ", ".join(f"{k} ({n})" for k, n in f.stats["unseen"].items())
                + "</p>"
            )
        self.detail.setHtml("".join(lines))
        canvas = self._canvas("detail")
        if f.histogram:
            self._overlay(canvas.figure.add_subplot(111), f.histogram)
        canvas.draw_idle()

    def _overlay(self, ax: Any, hist: dict[str, Any]) -> None:
        import numpy as np

        ref, cur = hist.get("reference") or [], hist.get("current") or []
        x = np.arange(len(ref))
        ax.bar(x - 0.2, ref, width=0.4, color=REF_COLOR, label="reference")
        ax.bar(x + 0.2, cur, width=0.4, color=CUR_COLOR, label="current")
        if "categories" in hist:
            ax.set_xticks(x, hist["categories"], rotation=45, ha="right", fontsize=7)
        elif "edges" in hist:
            edges = hist["edges"]
            ticks = x[:: max(1, len(x) // 5)]
            ax.set_xticks(ticks, [f"{edges[i]:.3g}" for i in ticks], fontsize=7)
        ax.set_ylabel("share of rows")
        ax.legend(fontsize=7)

    def _draw_trend(self) -> None:
        from datetime import datetime

        canvas = self._canvas("trend")
        if not self.trend:
            canvas.clear("No stored reports yet.")
            return
        when = [datetime.fromisoformat(t["created_at"]) for t in self.trend]
        ax = canvas.figure.add_subplot(111)
        names = list(self.trend[-1].get("features", {}))
        for name in names:
            ys = [t.get("features", {}).get(name, {}).get("value") for t in self.trend]
            ax.plot(when, [float("nan") if y is None else y for y in ys], marker=".", label=name)
        ax.plot(
            when,
            [t["drift_share"] for t in self.trend],
            color="black",
            linewidth=2,
            label="share drifted",
        )
        ax.set_ylabel("deciding value / share")
        ax.legend(fontsize=7, ncol=2)
        canvas.figure.autofmt_xdate()
        canvas.draw_idle()

    def _draw_prediction(self) -> None:
        canvas = self._canvas("prediction")
        pred = self.report.prediction if self.report else None
        if pred is None or not pred.histogram:
            canvas.clear("No predictions in this report.")
            return
        self._overlay(canvas.figure.add_subplot(111), pred.histogram)
        canvas.draw_idle()

    def _draw_metrics(self) -> None:
        from datetime import datetime

        canvas = self._canvas("metrics")
        points = [
            (datetime.fromisoformat(t["created_at"]), t["metrics"])
            for t in self.trend
            if t.get("metrics")
        ]
        if not points:
            canvas.clear("No labelled batches yet: metrics need the target in the data.")
            return
        ax = canvas.figure.add_subplot(111)
        for name in list(points[-1][1])[:4]:
            ax.plot(
                [p[0] for p in points], [p[1].get(name) for p in points], marker="o", label=name
            )
        ax.legend(fontsize=7)
        canvas.figure.autofmt_xdate()
        canvas.draw_idle()

    def _alert(self, report: Any) -> None:
        model = report.model or {}
        text = f"Drift alert: {model.get('name')}@{model.get('version')} — " + (
            report.verdict or f"{report.n_drifted} of {len(report.features)} features drifted"
        )
        window = self.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(text, 15_000)
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            if self._tray is None:
                self._tray = QSystemTrayIcon(self.windowIcon(), self)
            self._tray.show()
            self._tray.showMessage("ModelDesk", text, QSystemTrayIcon.MessageIcon.Warning, 10_000)
        self.messages.warning(text, hint="Select a feature to see why; consider retraining.")
        self.alert_raised.emit(text)

    # -- slots -------------------------------------------------------------------------------

    def _on_choices_loaded(self, _bridge: JobBridge, choices: dict[str, Any]) -> None:
        current = self._wanted_model or self.selected_model()
        self._wanted_model = None
        self._deployments, self._datasets = choices["deployments"], choices["datasets"]
        refs = choices["versions"]
        with QSignalBlocker(self.model_combo):
            self.model_combo.clear()
            for ref in refs:
                self.model_combo.addItem(ref, choices.get("aliases", {}).get(ref))
            pick = current if current in refs else default_model(refs, self._context)
            if pick:
                self.model_combo.setCurrentText(pick)
        self._fill_sources()
        if self._wanted_source is not None:
            source, self._wanted_source = self._wanted_source, None
            self._pick_source(source)
        ref = self.selected_model()
        if ref and ref != current:
            self.show_history(ref)

    def _fill_sources(self) -> None:
        model = (self.selected_model() or "").partition("@")[0]
        with QSignalBlocker(self.source_combo):
            self.source_combo.clear()
            for d in self._deployments:
                if d["model"] == model:
                    self.source_combo.addItem(
                        f"deployment {d['id']} ({d['model']}@{d['version']}, {d['status']}) — log",
                        {"deployment": d["id"]},
                    )
            for ref in self._datasets:
                self.source_combo.addItem(f"dataset {ref}", {"dataset": ref})

    def _on_model_combo_changed(self, _index: int) -> None:
        self._fill_sources()
        ref = self.selected_model()
        if ref:
            self.show_history(ref)
        item = self.selected_item()
        if item is not None and self._context is not None:
            self._context.update(model=item.name, model_version=item.version)
        self.selection_changed.emit(item)

    def _on_check_button_clicked(self) -> None:
        self.check()

    def _on_retrain_button_clicked(self) -> None:
        self.retrain_on()

    def _on_retrain_done(self, _bridge: JobBridge, result: Any) -> None:
        self.comparison.setHtml(result.to_html())
        self.tabs.setCurrentWidget(self.comparison)
        self.messages.info(f"{result.challenger}: {result.decision}.")
        self.reload()
        self.retrained.emit(result)

    def _on_check_done(self, bridge: JobBridge, result: dict[str, Any]) -> None:
        if not result["reports"]:
            self.trend = result["trend"]
            self.summary.setText("No stored reports for this model yet: press Check drift.")
            return
        self.show_report(
            result["reports"][-1], result["trend"], fresh=bool(bridge.context.get("fresh"))
        )

    def _on_table_selection_changed(self) -> None:
        if self.report is None:
            return
        rows = list(self.report.features) + (
            [self.report.prediction] if self.report.prediction else []
        )
        r = self.table.currentRow()
        if 0 <= r < len(rows):
            self._show_detail(rows[r])

    def _on_job_failed(self, bridge: JobBridge, error: BaseException, tb: str) -> None:
        if bridge.context.get("title") and self._check_slot.is_current(bridge):
            self.summary.setText("")
        if isinstance(error, ModelDeskError):
            self.messages.show_error(error)
        else:
            show_unexpected_error(error, tb, self)

    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.check_batch(files[0])


def build_panel(services: Any, runner: Any, context: CurrentContext | None = None) -> QWidget:
    """The window's and ``open_alone``'s entry point (``PanelSpec.module``)."""
    from app.core.monitoring.retrain import Retrainer

    retrainer = Retrainer(
        services.registry, services.training, services.datasets, services.monitoring
    )
    return MonitorPanel(
        monitoring=services.monitoring, runner=runner, retrainer=retrainer, context=context
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m app.ui.panels.monitor_panel``: this panel alone."""
    from app.ui.panels.standalone import open_alone

    return open_alone("monitor", argv)


if __name__ == "__main__":
    raise SystemExit(main())
