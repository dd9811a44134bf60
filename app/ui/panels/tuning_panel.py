"""The Tuning panel: start, watch, stop and resume Optuna studies; live plots; exports.

Contract
--------
Services: ``tuning`` (``TuningService``), ``datasets``, and the ``runner``. The panel never
opens a session: every service call is a job on the runner, back through a ``JobBridge``.
A study runs as ``TuningService.start`` (a runner thread coordinating child worker processes);
Stop cancels that job, which stops the workers gracefully (running trials end as stopped). A
study run by another process (the CLI) is stopped through its stop flag.

Live view: while a study is selected, a timer asks a job for the study's trials every
``POLL_MS``; when the number of ended trials changed, another job renders the chosen plot
(Optuna's matplotlib plots, to PNG off the GUI thread) and the GUI thread only shows the
picture. Only one poll and one render are in flight; results of an older selection are dropped.

Signals: ``study_selected(str | None)``. Settings: ``tuning_panel/splitter``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.core.tuning.plots import RenderProcess
from app.core.tuning.runs import RUN_ATTR
from app.ui.job_bridge import JobBridge
from app.ui.widgets.dataframe_model import DataFrameModel
from app.ui.widgets.error_dialog import show_unexpected_error
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.ui.context import CurrentContext

POLL_MS = 1500
PLOT_KINDS = {
    "history": "Optimisation history",
    "importances": "Parameter importances",
    "slice": "Slice",
    "contour": "Contour",
    "parallel": "Parallel coordinates",
    "intermediate": "Intermediate values",
    "pareto": "Pareto front",
    "timeline": "Timeline",
}
RUN_COLUMN = f"user_attrs_{RUN_ATTR}"  # Optuna's trials frame: the run each trial wrote
SPACE_COLUMNS = ("estimator", "parameter", "low", "high", "log", "choices", "fixed")


# -- job bodies (worker threads) ------------------------------------------------------------


def _call(fn: Callable[..., Any], *args: Any, progress: Any, **kwargs: Any) -> Any:
    progress.check_cancelled()
    return fn(*args, **kwargs)


def _snapshot(tuning: Any, name: str, *, progress: Any) -> tuple[Any, Any]:
    """(summary, trials as an Arrow table) of one study."""
    import pyarrow as pa

    summary = tuning.summary(name)
    frame = tuning.trials_frame(name)
    for column in frame.columns:  # Arrow wants one type per column: show mixed ones as text
        if frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
        elif "timedelta" in str(frame[column].dtype):
            frame[column] = frame[column].dt.total_seconds()
    return summary, pa.Table.from_pandas(frame, preserve_index=False)


def _render(
    renderer: Any, tuning: Any, name: str, kind: str, fmt: str, *, progress: Any
) -> bytes | str:
    """PNG bytes drawn by the helper process, or the reason there is no plot yet."""
    return renderer.render(tuning.storage_url, name, kind, fmt)


def _start(tuning: Any, request: Any, runner: Any, *, progress: Any) -> tuple[str, Any]:
    name = tuning.create(request).name
    return name, tuning.start(name, runner)


def _load_space(tuning: Any, request: Any, *, progress: Any) -> list[tuple]:
    plan = tuning.validate(request)
    rows = []
    for est, space in plan.space.items():
        for dim in space.dims:
            choices = ",".join(map(str, dim.choices)) if dim.kind == "categorical" else ""
            low = "" if dim.low is None else f"{dim.low:g}"
            high = "" if dim.high is None else f"{dim.high:g}"
            rows.append((est, dim.name, low, high, "log" if dim.log else "", choices, ""))
        for param, value in space.fixed.items():
            rows.append((est, param, "", "", "", "", str(value)))
    return rows


# -- the panel ------------------------------------------------------------------------------


class TuningPanel(QWidget):
    study_selected = Signal(object)
    open_requested = Signal(str, object)  # ("runs", run id): a trial's run was double-clicked

    SPLITTER_KEY = "tuning_panel/splitter"

    def __init__(
        self, *, tuning: Any, runner: Any, datasets: Any = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel-tuning")
        self._tuning, self._runner, self._datasets = tuning, runner, datasets
        self._bridges: set[JobBridge] = set()
        self._study: str | None = None
        self._run_bridge: JobBridge | None = None  # the study this panel runs
        self._polling = self._rendering = False
        self._shown_done = -1
        self._plot_bytes: bytes | None = None
        self._renderer = RenderProcess()  # plots are drawn in a helper process, see plots.py

        self.messages = MessageBar()
        self.studies_model = DataFrameModel(parent=self)
        self.studies = _table(self.studies_model)
        self.refresh_button = QPushButton("Refresh")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop")
        self.best_button = QPushButton("Train best as run")
        self.export_button = QPushButton("Export trials CSV…")
        self.status_label = QLabel("No study selected.")
        self.status_label.setWordWrap(True)
        self.form = self._make_form()

        self.plot_kind = QComboBox()
        for key, title in PLOT_KINDS.items():
            self.plot_kind.addItem(title, key)
        self.plot_export = QPushButton("Export plot…")
        self.plot_label = QLabel("Select or start a study to see its plots.")
        self.plot_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.plot_label.setMinimumSize(320, 220)
        self.plot_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.trials_model = DataFrameModel(parent=self)
        self.trials = _table(self.trials_model)
        self.trials.setToolTip("Double-click a trial to open its run.")

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        for b in (self.refresh_button, self.resume_button, self.stop_button):
            buttons.addWidget(b)
        lv.addWidget(QLabel("Studies"))
        lv.addWidget(self.studies, 1)
        lv.addLayout(buttons)
        lv.addWidget(self.form, 2)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.plot_kind, 1)
        top.addWidget(self.plot_export)
        rv.addWidget(self.status_label)
        rv.addLayout(top)
        rv.addWidget(self.plot_label, 3)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.best_button)
        bottom.addWidget(self.export_button)
        rv.addWidget(self.trials, 2)
        rv.addLayout(bottom)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.messages)
        layout.addWidget(self.splitter, 1)

        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.refresh_button.clicked.connect(self.refresh)
        self.resume_button.clicked.connect(self.resume_selected)
        self.stop_button.clicked.connect(self.stop)
        self.best_button.clicked.connect(self._on_best_button_clicked)
        self.trials.doubleClicked.connect(self._on_trials_double_clicked)
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self.plot_export.clicked.connect(self._on_plot_export_clicked)
        self.plot_kind.currentIndexChanged.connect(self._on_plot_kind_changed)
        self.start_button.clicked.connect(self.start_from_form)
        self.load_space_button.clicked.connect(self.load_space)
        self.studies.selectionModel().selectionChanged.connect(self._on_studies_selection_changed)
        state = QSettings().value(self.SPLITTER_KEY)
        if state is not None:
            self.splitter.restoreState(state)
        self._update_buttons()
        self.refresh()

    def _make_form(self) -> QGroupBox:
        box = QGroupBox("New study")
        form = QFormLayout(box)
        self.dataset_edit = QLineEdit(placeholderText="name or name@version")
        self.target_edit = QLineEdit(placeholderText="column to predict")
        self.estimators_edit = QLineEdit("all", placeholderText="rf,hgb,knn… or all")
        self.metric_edit = QLineEdit(placeholderText="default: the task's")
        self.second_combo = QComboBox()
        for text, data in (("none", None), ("latency", "latency"), ("model size", "model_size")):
            self.second_combo.addItem(text, data)
        self.sampler_combo = QComboBox()
        self.sampler_combo.addItems(["auto", "tpe", "random", "cmaes", "gp", "qmc", "nsga2"])
        self.pruner_combo = QComboBox()
        self.pruner_combo.addItems(["auto", "median", "halving", "hyperband", "none"])
        self.trials_spin = QSpinBox(minimum=0, maximum=100_000, value=30)
        self.trials_spin.setSpecialValueText("no limit")
        self.timeout_spin = QDoubleSpinBox(minimum=0, maximum=7 * 86400, value=0, decimals=0)
        self.timeout_spin.setSpecialValueText("no limit")
        self.timeout_spin.setSuffix(" s")
        self.workers_spin = QSpinBox(minimum=1, maximum=64, value=1)
        self.folds_spin = QSpinBox(minimum=2, maximum=20, value=5)
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.name_edit = QLineEdit(placeholderText="default: dataset-target-estimator-time")
        self.space_table = QTableWidget(0, len(SPACE_COLUMNS))
        self.space_table.setHorizontalHeaderLabels(list(SPACE_COLUMNS))
        self.space_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.space_table.setToolTip(
            "The search space: edit low/high, type 'log' for a log scale, list choices a,b,c, "
            "or give a fixed value. Clear a row's low/high/choices/fixed to keep the default."
        )
        self.load_space_button = QPushButton("Load space")
        self.start_button = QPushButton("Start study")
        for label, widget in (
            ("Dataset", self.dataset_edit),
            ("Target", self.target_edit),
            ("Estimators", self.estimators_edit),
            ("Metric", self.metric_edit),
            ("Second objective", self.second_combo),
            ("Sampler", self.sampler_combo),
            ("Pruner", self.pruner_combo),
            ("Trials", self.trials_spin),
            ("Time budget", self.timeout_spin),
            ("Workers", self.workers_spin),
            ("Folds", self.folds_spin),
            ("Seed", self.seed_spin),
            ("Study name", self.name_edit),
        ):
            form.addRow(label, widget)
        form.addRow(self.space_table)
        row = QHBoxLayout()
        row.addWidget(self.load_space_button)
        row.addStretch(1)
        row.addWidget(self.start_button)
        form.addRow(row)
        return box

    # -- public API --------------------------------------------------------------------------

    def refresh(self) -> None:
        self._submit(_call, self._tuning.list, on_done=self._on_studies_loaded)

    def select_study(self, name: str | None) -> None:
        self._study = name
        self._shown_done = -1
        self._plot_bytes = None
        self.trials_model.set_table(None)
        self.plot_label.setPixmap(QPixmap())
        self.plot_label.setText("Loading…" if name else "No study selected.")
        self.study_selected.emit(name)
        self._update_buttons()
        if name:
            self._timer.start()
            self._poll()
        else:
            self._timer.stop()

    def select(self, name: object) -> None:
        """Show the study ``name`` another panel asked for (a trial's run links to it)."""
        self.select_study(str(name))
        self.refresh()  # selects its row once the list is in, a new study included

    def trial_run_id(self, row: int) -> int | None:
        """The run recorded for the trial on ``row`` of the trials table."""
        table = self.trials_model.table()
        if table is None or RUN_COLUMN not in table.column_names or row >= table.num_rows:
            return None
        value = table.column(RUN_COLUMN)[row].as_py()
        return int(value) if value not in (None, "") else None

    def request_from_form(self) -> Any:
        from app.core.tuning import StudyRequest

        timeout = self.timeout_spin.value() or None
        trials = self.trials_spin.value() or None
        sampler, pruner = self.sampler_combo.currentText(), self.pruner_combo.currentText()
        return StudyRequest(
            dataset=self.dataset_edit.text().strip(),
            target=self.target_edit.text().strip(),
            estimators=self.estimators_edit.text().strip() or "all",
            metric=self.metric_edit.text().strip() or None,
            second_objective=self.second_combo.currentData(),
            space=tuple(self._space_edits()),
            sampler=None if sampler == "auto" else sampler,
            pruner=None if pruner == "auto" else pruner,
            n_trials=trials,
            timeout=timeout,
            workers=self.workers_spin.value(),
            seed=self.seed_spin.value(),
            folds=self.folds_spin.value(),
            name=self.name_edit.text().strip(),
        )

    def start_from_form(self) -> None:
        try:
            request = self.request_from_form()
        except ModelDeskError as exc:
            self.messages.show_error(exc)
            return
        self.messages.clear()
        self.start_button.setEnabled(False)
        self._submit(
            _start,
            self._tuning,
            request,
            self._runner,
            on_done=self._on_started,
            on_end=lambda: self.start_button.setEnabled(True),
        )

    def resume_selected(self) -> None:
        if self._study and self._run_bridge is None:
            job = self._tuning.start(self._study, self._runner)
            self._watch_run(self._study, job)

    def stop(self) -> None:
        """Stop the study this panel runs (gracefully), or ask another process's to stop."""
        if self._run_bridge is not None:
            self._run_bridge.cancel()
            self.status_label.setText("Stopping after the running trials…")
        elif self._study:
            self._submit(
                _call,
                self._tuning.stop,
                self._study,
                on_done=lambda _: self.messages.info("Stop requested."),
            )

    def load_space(self) -> None:
        from dataclasses import replace

        request = replace(self.request_from_form(), space=())
        self._submit(_load_space, self._tuning, request, on_done=self._on_space_loaded)

    @property
    def running(self) -> bool:
        return self._run_bridge is not None

    # -- slots -------------------------------------------------------------------------------

    def _on_studies_loaded(self, studies: list[Any]) -> None:
        import pyarrow as pa

        rows = [
            {
                "name": s.name,
                "status": s.status,
                "trials": f"{s.done}/{s.budget}" if s.budget else str(s.done),
                "best": s.best_value,
                "dataset": s.dataset,
                "target": s.target,
            }
            for s in studies
        ]
        names = ["name", "status", "trials", "best", "dataset", "target"]
        self.studies_model.set_table(
            pa.Table.from_pylist(rows) if rows else pa.table({n: [] for n in names})
        )
        if self._study:
            for r, s in enumerate(studies):
                if s.name == self._study:
                    self.studies.selectRow(r)

    def _on_studies_selection_changed(self, *_: Any) -> None:
        rows = self.studies.selectionModel().selectedRows()
        if not rows:
            return
        name = self.studies_model.value(rows[0].row(), 0)
        if name != self._study:
            self.select_study(name)

    def _on_started(self, result: tuple[str, Any]) -> None:
        name, job = result
        self._watch_run(name, job)
        self.refresh()

    def _watch_run(self, name: str, job: Any) -> None:
        bridge = JobBridge(job, self)
        self._run_bridge = bridge
        bridge.progressed.connect(self._on_run_progressed)
        bridge.succeeded.connect(self._on_run_succeeded)
        bridge.failed.connect(self._on_error)
        bridge.finished.connect(self._on_run_finished)
        self.select_study(name)

    def _on_run_progressed(self, fraction: float, status: str) -> None:
        self.status_label.setText(f"{self._study}: {status} ({fraction:.0%})")

    def _on_run_succeeded(self, summary: Any) -> None:
        state = "stopped" if summary.status == "cancelled" else summary.status
        self.status_label.setText(f"{summary.name}: {state} after {summary.done} trial(s).")

    def _on_run_finished(self) -> None:
        self._run_bridge = None
        self._update_buttons()
        self._shown_done = -1
        self._poll()
        self.refresh()

    def _on_timer_timeout(self) -> None:
        self._poll()

    def _poll(self) -> None:
        if self._study is None or self._polling:
            return
        self._polling = True
        name = self._study
        self._submit(
            _snapshot,
            self._tuning,
            name,
            on_done=lambda r: self._on_snapshot(name, r),
            on_end=self._on_poll_end,
        )

    def _on_poll_end(self) -> None:
        self._polling = False

    def _on_snapshot(self, name: str, result: tuple[Any, Any]) -> None:
        if name != self._study:
            return  # an older selection's answer
        summary, table = result
        self.trials_model.set_table(table)
        if self._run_bridge is None:
            best = "-" if summary.best_value is None else f"{summary.best_value:.4f}"
            self.status_label.setText(
                f"{summary.name} ({summary.status}): {summary.done} trial(s), best {best}"
            )
        if summary.done != self._shown_done:
            self._shown_done = summary.done
            self._render()

    def _on_plot_kind_changed(self, _index: int) -> None:
        self._render()

    def _render(self) -> None:
        if self._study is None or self._rendering:
            return
        self._rendering = True
        name, kind = self._study, self.plot_kind.currentData()
        self._submit(
            _render,
            self._renderer,
            self._tuning,
            name,
            kind,
            "png",
            on_done=lambda r: self._on_rendered(name, kind, r),
            on_end=self._on_render_end,
        )

    def _on_render_end(self) -> None:
        self._rendering = False

    def _on_rendered(self, name: str, kind: str, result: bytes | str) -> None:
        if name != self._study:
            return
        if kind != self.plot_kind.currentData():
            self._render_later()
            return
        if isinstance(result, str):
            self.plot_label.setPixmap(QPixmap())
            self.plot_label.setText(result)
            self._plot_bytes = None
            return
        pixmap = QPixmap()
        pixmap.loadFromData(result, "PNG")
        self._plot_bytes = result
        self.plot_label.setPixmap(
            pixmap.scaled(
                self.plot_label.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def _render_later(self) -> None:
        QTimer.singleShot(0, self._render)

    def _on_space_loaded(self, rows: list[tuple]) -> None:
        self.space_table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c < 2:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.space_table.setItem(r, c, item)

    def _space_edits(self) -> list[Any]:
        from app.core.tuning import parse_edit

        edits = []
        for r in range(self.space_table.rowCount()):
            cells = [
                (self.space_table.item(r, c).text().strip() if self.space_table.item(r, c) else "")
                for c in range(len(SPACE_COLUMNS))
            ]
            est, param, low, high, log, choices, fixed = cells
            key = f"{est}.{param}"
            if fixed:
                edits.append(parse_edit(f"{key}={fixed}", fixed=True))
            elif choices:
                edits.append(parse_edit(f"{key}={choices}"))
            elif low or high:
                scale = ":log" if log.lower() in ("log", "yes", "true", "1") else ""
                edits.append(parse_edit(f"{key}={low}:{high}{scale}"))
        return edits

    def _on_best_button_clicked(self) -> None:
        if self._study:
            self._submit(
                _call,
                self._tuning.train_best,
                self._study,
                self._runner,
                on_done=lambda r: self.messages.info(
                    f"Training the best trial again as run {r[0]} (see the Runs panel)."
                ),
            )

    def _on_trials_double_clicked(self, index: Any) -> None:
        run_id = self.trial_run_id(index.row())
        if run_id is None:
            self.messages.info("This trial has no run yet.")
            return
        self.open_requested.emit("runs", run_id)

    def _on_export_button_clicked(self) -> None:
        if not self._study:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export trials", f"{self._study}-trials.csv", "CSV (*.csv)"
        )
        if path:
            self._submit(
                _call,
                self._tuning.export_csv,
                self._study,
                path,
                on_done=lambda n: self.messages.info(f"Wrote {n} trial(s) to {path}."),
            )

    def _on_plot_export_clicked(self) -> None:
        if not self._study:
            return
        kind = self.plot_kind.currentData()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export plot", f"{self._study}-{kind}.png", "PNG (*.png);;SVG (*.svg)"
        )
        if path:
            self.export_plot(path)

    def export_plot(self, path: str) -> None:
        from pathlib import Path

        fmt = "svg" if path.lower().endswith(".svg") else "png"
        name, kind = self._study, self.plot_kind.currentData()

        def write(*, progress: Any) -> str:
            Path(path).write_bytes(self._tuning.plot(name, kind, fmt))
            return path

        self._submit(write, on_done=lambda p: self.messages.info(f"Plot saved to {p}."))

    def _on_error(self, error: BaseException, tb: str) -> None:
        if isinstance(error, ModelDeskError):
            self.messages.show_error(error)
        else:
            show_unexpected_error(error, tb, self)

    # -- helpers -----------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        has = self._study is not None
        self.stop_button.setEnabled(has)
        self.resume_button.setEnabled(has and self._run_bridge is None)
        for b in (self.best_button, self.export_button, self.plot_export):
            b.setEnabled(has)

    def _submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None],
        on_end: Callable[[], None] | None = None,
    ) -> None:
        job = self._runner.submit(fn, *args, name=f"Tuning: {getattr(fn, '__name__', 'job')}")
        bridge = JobBridge(job, self)
        self._bridges.add(bridge)
        bridge.succeeded.connect(on_done)
        bridge.failed.connect(self._on_error)
        if on_end is not None:
            bridge.finished.connect(on_end)
        bridge.finished.connect(lambda: self._bridges.discard(bridge))

    def closeEvent(self, event: Any) -> None:
        self._timer.stop()
        QSettings().setValue(self.SPLITTER_KEY, self.splitter.saveState())
        for bridge in list(self._bridges):
            bridge.detach()
        self._renderer.close()
        super().closeEvent(event)


def _table(model: DataFrameModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setVisible(False)
    return view


def build_panel(services: Any, runner: Any, context: CurrentContext | None = None) -> QWidget:
    """The window's and ``open_alone``'s entry point (``PanelSpec.module``)."""
    del context  # not read yet: the panel adopts the current context in the window issue
    return TuningPanel(tuning=services.tuning, datasets=services.datasets, runner=runner)


def main(argv: list[str] | None = None) -> int:
    """``python -m app.ui.panels.tuning_panel``: this panel alone."""
    from app.ui.panels.standalone import open_alone

    return open_alone("tuning", argv)


if __name__ == "__main__":
    raise SystemExit(main())
