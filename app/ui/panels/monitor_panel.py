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

Parts: ``monitor_jobs`` (the job bodies), ``monitor_report`` (showing, drawing and exporting a
report, and the alert).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QSystemTrayIcon,
    QTableWidget,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.ui.items import DatasetItem, DeploymentItem, ModelVersionItem
from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs
from app.ui.panels.monitor_jobs import (
    default_model,
    load_choices,
    load_model_history,
    run_check,
    run_retrain,
)
from app.ui.panels.monitor_report import COLUMNS, MonitorReportMixin
from app.ui.widgets.error_dialog import show_unexpected_error
from app.ui.widgets.job_progress import JobProgressList
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.ui.context import CurrentContext

WINDOWS = ("whole log", "hour", "day", "week")


class MonitorPanel(MonitorReportMixin, QWidget):
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

    def close(self) -> bool:
        self.close_jobs()
        return super().close()

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
