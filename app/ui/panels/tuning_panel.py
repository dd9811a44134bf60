"""The Tuning panel: start, watch, stop and resume Optuna studies; live plots; registering.

Contract
--------
Services: ``tuning`` (``TuningService``), ``datasets``, optionally ``recipes``, ``training``,
``tracking`` and a ``registry`` getter, the ``runner`` and the ``CurrentContext``. The panel
never opens a session: every service call is a job on the runner, back through ``JobSlot``s (a
new poll, plot or listing drops the older one's result). A study runs as
``TuningService.start`` (a runner thread coordinating child worker processes); Stop cancels
that job, which stops the workers gracefully (running trials end as stopped). A study run by
another process (the CLI) is stopped through its stop flag.

Parts: ``tuning_form`` (the New study form with dataset/target/recipe pickers and the search
space editor), ``tuning_trials`` (the trials table model: state first, pruned trials told
apart, partial values never ranked), ``tuning_plots`` (Optuna's plots, drawn in a job),
``tuning_register`` (registering a trial).

Live view: while a study is selected, a timer polls its trials every ``POLL_MS``; when the
number of ended trials changed, the chosen plot is built again.

Signals: ``study_selected(str | None)`` and the contract's four (``StudyItem``/``TrialItem``).
Operations the window's menus call: ``new_study(dataset)``, ``register_trial(study, number)``.
Settings: ``tuning_panel/splitter``, ``tuning_panel/right``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.ui.items import DatasetItem, RunItem, StudyItem, TrialItem
from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs, call
from app.ui.panels.runs_register import RegisterDialog
from app.ui.panels.tuning_form import StudyForm
from app.ui.panels.tuning_live import POLL_MS, StudyWatching, start_study
from app.ui.panels.tuning_plots import PlotView
from app.ui.panels.tuning_register import TrialRegistering
from app.ui.panels.tuning_trials import TrialsModel, TrialsProxy, TrialsSlots
from app.ui.widgets.dataframe_model import DataFrameModel
from app.ui.widgets.error_dialog import show_unexpected_error
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.ui.context import CurrentContext


# -- job bodies (worker threads) ------------------------------------------------------------


# -- the panel ------------------------------------------------------------------------------


class TuningPanel(StudyWatching, TrialsSlots, TrialRegistering, QWidget):
    study_selected = Signal(object)
    open_requested = Signal(str, object)  # (panel key, item)
    item_menu_requested = Signal(object, QPoint)  # (StudyItem | TrialItem, global position)
    item_activated = Signal(object)  # a trial double-clicked: the window opens its run
    selection_changed = Signal(object)
    registered = Signal(object)  # ModelVersionItem of a trial registered from here

    SPLITTER_KEY = "tuning_panel/splitter"
    RIGHT_KEY = "tuning_panel/right"

    def __init__(
        self,
        *,
        tuning: Any,
        runner: Any,
        datasets: Any = None,
        recipes: Any = None,
        training: Any = None,
        tracking: Any = None,
        registry: Callable[[], Any] | None = None,
        context: CurrentContext | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel-tuning")
        self._tuning, self._runner, self._datasets = tuning, runner, datasets
        self._training, self._tracking, self._registry = training, tracking, registry
        self._context = context
        self._jobs = PanelJobs(self, runner, on_failed=lambda _b, e, tb: self._on_error(e, tb))
        self._studies_slot, self._poll_slot = JobSlot(self._jobs), JobSlot(self._jobs)
        self._register_slot = JobSlot(self._jobs)
        self._study: str | None = None
        self._summary: Any = None
        self._run_bridge: JobBridge | None = None  # the study this panel runs
        self._shown_done = -1
        self._pending_trial: int | None = None  # a trial asked for before its row is in
        self._shown_trials: list[tuple] = []  # what the trials table shows, to skip no-ops
        self.register_dialog: RegisterDialog | None = None

        self.messages = MessageBar()
        self.studies_model = DataFrameModel(parent=self)
        self.studies = _table(self.studies_model)
        self.studies.setAccessibleName("Studies")
        self.refresh_button = QPushButton("Refresh")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop")
        self.status_label = QLabel("No study selected.")
        self.status_label.setWordWrap(True)
        self.form = StudyForm(
            tuning=tuning, datasets=datasets, recipes=recipes, jobs=self._jobs, context=context
        )
        # the form's widgets by the names the tests and older callers use
        for attr in (
            "estimators_edit", "metric_edit", "second_combo", "sampler_combo", "pruner_combo",
            "trials_spin", "timeout_spin", "workers_spin", "folds_spin", "seed_spin",
            "name_edit", "space_table", "load_space_button", "start_button", "dataset_combo",
            "version_combo", "target_combo", "recipe_combo",
        ):  # fmt: skip
            setattr(self, attr, getattr(self.form, attr))

        self.plots = PlotView(tuning=tuning, jobs=self._jobs)
        self.plots.export_failed.connect(self.messages.error)
        self.trials_model = TrialsModel(self)
        self.trials_proxy = TrialsProxy(self)
        self.trials_proxy.setSourceModel(self.trials_model)
        self.trials = QTableView()
        self.trials.setModel(self.trials_proxy)
        self.trials.setAccessibleName("Trials")
        self.trials.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.trials.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.trials.setSortingEnabled(True)
        self.trials.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.trials.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.trials.setWordWrap(False)
        self.trials.verticalHeader().setVisible(False)
        self.trials.horizontalHeader().setStretchLastSection(True)
        self.trials.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.trials.setToolTip("Double-click a trial to open its run; right-click for more.")
        self.state_filter = QComboBox()
        self.state_filter.setAccessibleName("Trial states")
        for key, (title, _states) in TrialsProxy.FILTERS.items():
            self.state_filter.addItem(title, key)
        self.trials_search = QLineEdit(placeholderText="Filter trials (any cell)")
        self.trials_search.setClearButtonEnabled(True)
        self.best_button = QPushButton("Train best as run")
        self.best_button.setToolTip("Train the best trial's parameters again as a full run")
        self.register_button = QPushButton("Register trial…")
        self.register_button.setToolTip(
            "Register the selected trial (else the best) as a model version"
        )
        self.export_button = QPushButton("Export trials CSV…")

        self._build_layout()
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self._poll)
        self.refresh_button.clicked.connect(self.refresh)
        self.resume_button.clicked.connect(self.resume_selected)
        self.stop_button.clicked.connect(self.stop)
        self.best_button.clicked.connect(self._on_best_button_clicked)
        self.register_button.clicked.connect(self._on_register_button_clicked)
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self.form.start_requested.connect(self.start_from_form)
        self.form.load_space_button.clicked.connect(self.load_space)
        self.state_filter.currentIndexChanged.connect(self._on_state_filter_changed)
        self.trials_search.textChanged.connect(self.trials_proxy.setFilterFixedString)
        self.trials.activated.connect(self._on_trials_activated)
        self.trials.customContextMenuRequested.connect(self._on_trials_context_menu)
        self.trials.selectionModel().selectionChanged.connect(self._on_trials_selection_changed)
        self.studies.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.studies.customContextMenuRequested.connect(self._on_studies_context_menu)
        self.studies.selectionModel().selectionChanged.connect(self._on_studies_selection_changed)
        self._update_buttons()
        self.refresh()

    def _build_layout(self) -> None:
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        for b in (self.refresh_button, self.resume_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lv.addWidget(QLabel("Studies"))
        lv.addWidget(self.studies, 1)
        lv.addLayout(buttons)
        form_area = QScrollArea()  # the form scrolls rather than clips at 650 px
        form_area.setWidgetResizable(True)
        form_area.setFrameShape(QScrollArea.Shape.NoFrame)
        form_area.setWidget(self.form)
        lv.addWidget(QLabel("New study"))
        lv.addWidget(form_area, 2)

        trials_box = QWidget()
        tv = QVBoxLayout(trials_box)
        tv.setContentsMargins(0, 0, 0, 0)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Trials:"))
        filters.addWidget(self.state_filter)
        filters.addWidget(self.trials_search, 1)
        tv.addLayout(filters)
        tv.addWidget(self.trials, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        for b in (self.register_button, self.best_button, self.export_button):
            bottom.addWidget(b)
        tv.addLayout(bottom)
        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.addWidget(self.plots)
        self.right_splitter.addWidget(trials_box)
        self.right_splitter.setStretchFactor(0, 3)
        self.right_splitter.setStretchFactor(1, 2)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.status_label)
        rv.addWidget(self.right_splitter, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.messages)
        layout.addWidget(self.splitter, 1)

    # -- the panel contract ------------------------------------------------------------------

    def open_item(self, item: Any) -> None:
        """A study is selected (and listed); a trial selects its study then its row; a
        dataset opens New study on it."""
        if isinstance(item, StudyItem):
            self.select_study(item.name)
            self.refresh()  # selects its row once the list is in, a new study included
        elif isinstance(item, TrialItem):
            self._pending_trial = item.number
            if item.study != self._study:
                self.select_study(item.study)
                self.refresh()
            else:
                self._select_pending_trial()
        elif isinstance(item, DatasetItem):
            self.new_study(item)

    def selected_item(self) -> StudyItem | TrialItem | None:
        trial = self.selected_trial()
        if trial is not None and self._study:
            return TrialItem(self._study, trial.number, trial.run_id)
        return StudyItem(self._study) if self._study else None

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue(self.SPLITTER_KEY, self.splitter.saveState())
        settings.setValue(self.RIGHT_KEY, self.right_splitter.saveState())

    def restore_settings(self, settings: QSettings) -> None:
        for key, splitter in ((self.SPLITTER_KEY, self.splitter), (self.RIGHT_KEY,
                              self.right_splitter)):  # fmt: skip
            state = settings.value(key)
            if state is not None:
                splitter.restoreState(state)

    def close_jobs(self) -> None:
        self._timer.stop()
        self.plots.stop()
        if self._run_bridge is not None:
            self._run_bridge.detach()
        self._jobs.close()

    # -- operations (the window's menus and context menus call these) -------------------------

    def new_study(self, dataset: DatasetItem | None = None) -> None:
        """Put the form on ``dataset`` (else the context's) and give it the focus."""
        if dataset is not None:
            self.form.select_item(dataset)
        self.form.dataset_combo.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- public API --------------------------------------------------------------------------

    def refresh(self) -> None:
        self._studies_slot.start(call, self._tuning.list, name="List studies",
                                 done=self._on_studies_loaded)  # fmt: skip

    def select_study(self, name: str | None) -> None:
        self._study = name
        self._summary = None
        self._shown_done = -1
        self._shown_trials: list[tuple] = []
        self.trials_model.set_trials([])
        self.plots.show_study(None, 0)
        self.study_selected.emit(name)
        if name and self._context is not None:
            self._context.update(study=name)
        self.selection_changed.emit(self.selected_item())
        self._update_buttons()
        if name:
            self.status_label.setText(f"Loading {name}…")
            self._timer.start()
            self._poll()
        else:
            self.status_label.setText("No study selected.")
            self._timer.stop()

    def selected_trial(self) -> Any:
        rows = self.trials.selectionModel().selectedRows()
        return self.trials_proxy.trial(rows[0].row()) if rows else None

    def trial_run_id(self, row: int) -> int | None:
        """The run recorded for the trial on ``row`` of the trials table (as sorted)."""
        trial = self.trials_proxy.trial(row)
        return int(trial.run_id) if trial is not None and trial.run_id is not None else None

    def request_from_form(self) -> Any:
        return self.form.request()

    def start_from_form(self) -> None:
        try:
            request = self.form.request()
        except ModelDeskError as exc:
            self.messages.show_error(exc)
            return
        self.messages.clear()
        self.start_button.setEnabled(False)
        bridge = self._jobs.start(
            start_study, self._tuning, request, self._runner, name="Start study",
            done=lambda _b, result: self._on_started(result),
        )  # fmt: skip
        bridge.finished.connect(lambda: self.start_button.setEnabled(True))

    def load_space(self) -> None:
        try:
            self.form.load_space()
        except ModelDeskError as exc:
            self.messages.show_error(exc)

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
            self._jobs.start(call, self._tuning.stop, self._study, name="Stop study",
                             done=lambda _b, _r: self.messages.info("Stop requested."))  # fmt: skip

    @property
    def running(self) -> bool:
        return self._run_bridge is not None

    # -- slots -------------------------------------------------------------------------------

    def _on_studies_loaded(self, _bridge: JobBridge, studies: list[Any]) -> None:
        import pyarrow as pa

        rows = [
            {
                "name": s.name,
                "status": s.status,
                "trials": f"{s.done}/{s.budget}" if s.budget else str(s.done),
                "best": None if s.best_value is None else round(s.best_value, 4),
                "dataset": s.dataset,
                "target": s.target,
            }
            for s in studies
        ]
        names = ["name", "status", "trials", "best", "dataset", "target"]
        self.studies_model.set_table(
            pa.Table.from_pylist(rows) if rows else pa.table({n: [] for n in names})
        )
        self.studies.resizeColumnsToContents()
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

    def _on_studies_context_menu(self, pos: QPoint) -> None:
        index = self.studies.indexAt(pos)
        if not index.isValid():
            return
        self.studies.selectRow(index.row())
        name = self.studies_model.value(index.row(), 0)
        self.item_menu_requested.emit(StudyItem(name), self.studies.viewport().mapToGlobal(pos))

    def _on_best_button_clicked(self) -> None:
        if self._study:
            self._jobs.start(
                call, self._tuning.train_best, self._study, self._runner, name="Train best",
                done=lambda _b, r: self.messages.info(
                    f"Training the best trial again as run {r[0]} (see the Runs panel)."
                ),
            )  # fmt: skip

    def _on_export_button_clicked(self) -> None:
        if not self._study:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export trials", f"{self._study}-trials.csv", "CSV (*.csv)"
        )
        if path:
            self._jobs.start(
                call, self._tuning.export_csv, self._study, path, name="Export trials",
                done=lambda _b, n: self.messages.info(f"Wrote {n} trial(s) to {path}."),
            )  # fmt: skip

    def open_trial_run(self, item: TrialItem) -> None:
        """Ask the window to open a trial's run in the Runs panel."""
        if item.run_id is not None:
            self.open_requested.emit("runs", RunItem(item.run_id))

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
        for b in (self.best_button, self.export_button, self.register_button):
            b.setEnabled(has)

    def closeEvent(self, event: Any) -> None:
        self.close_jobs()
        super().closeEvent(event)


def _table(model: DataFrameModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.verticalHeader().setVisible(False)
    return view


def build_panel(services: Any, runner: Any, context: CurrentContext | None = None) -> QWidget:
    """The window's and ``open_alone``'s entry point (``PanelSpec.module``)."""
    return TuningPanel(
        tuning=services.tuning,
        datasets=services.datasets,
        recipes=lambda: services.recipes,
        training=getattr(services, "training", None),
        tracking=getattr(services, "tracking", None),
        registry=lambda: services.registry,
        context=context,
        runner=runner,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m app.ui.panels.tuning_panel``: this panel alone."""
    from app.ui.panels.standalone import open_alone

    return open_alone("tuning", argv)


if __name__ == "__main__":
    raise SystemExit(main())
