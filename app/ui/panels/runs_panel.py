"""The Runs panel: every run in the store, their detail, their comparison, and new training.

Contract
--------
Services (keyword arguments): ``tracking`` (``TrackingService``), ``datasets``
(``DatasetService``), ``runner`` (``JobRunner``), optionally ``training`` (``TrainingService``;
without it the New run tab, Reproduce and Export code are unavailable). The panel never
opens a session or a file: every service call is a job on the runner and comes back through
a ``JobBridge`` on the GUI thread; detail and compare results carry their job id and are
dropped when a newer request was made (a stale run never shows under a new selection).

The table is ``RunsTableModel``: a window of pages over ``TrackingService.search`` (filter,
sort and search in SQL), so 100,000 runs cost what one screen of them costs.

Signals: ``run_selected(int | None)``, ``runs_changed()`` and the panel contract's four
(``open_requested``, ``item_menu_requested``, ``item_activated``, ``selection_changed``, with
``RunItem``s). Operations the window's menus call: ``new_run``, ``register_run``,
``compare_runs``, ``reproduce_run``, ``export_code``.
Messages: ``ModelDeskError``s (a bad filter, with its hint) go to the ``MessageBar``; anything
else opens the shared error dialog.
Settings: ``runs_panel/splitter``, ``runs_panel/columns``, ``runs_panel/show_deleted``.
Keys: Del deletes the selected runs, Ctrl+F goes to the search box, Enter opens the detail.

``python -m app.ui.panels.runs_panel [--store URL]`` opens the panel alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPoint, QSettings, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.ui.items import DatasetItem, RunItem, StudyItem, TrialItem
from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs, call
from app.ui.panels.runs_compare import CompareView
from app.ui.panels.runs_detail import RunDetailView, load_detail
from app.ui.panels.runs_operations import RunOperations
from app.ui.panels.runs_register import (
    RegisterDialog,
)
from app.ui.panels.runs_selection import SelectionOperations
from app.ui.panels.runs_table_model import FIXED_COLUMNS, RunsTableModel
from app.ui.panels.runs_training import TrainingLauncher
from app.ui.panels.runs_widgets import RunsTableView, RunsToolbar, default_columns
from app.ui.widgets.error_dialog import show_unexpected_error
from app.ui.widgets.job_progress import JobProgressList
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.core.datasets import DatasetService
    from app.core.tracking import TrackingService
    from app.jobs.runner import JobRunner
    from app.ui.context import CurrentContext

SEARCH_DELAY_MS = 250
DETAIL_DELAY_MS = 120


class RunsPanel(SelectionOperations, RunOperations, QWidget):
    run_selected = Signal(object)  # run id or None
    open_requested = Signal(str, object)  # (panel key, item): a trial's study, a new version
    item_menu_requested = Signal(object, QPoint)  # (RunItem, global position)
    item_activated = Signal(object)  # RunItem double-clicked or Enter
    selection_changed = Signal(object)  # RunItem or None
    runs_changed = Signal()
    registered = Signal(object)  # ModelVersionItem of a run registered from here

    SPLITTER_KEY = "runs_panel/splitter"
    COLUMNS_KEY = "runs_panel/columns"
    SHOW_DELETED_KEY = "runs_panel/show_deleted"

    def __init__(
        self,
        *,
        tracking: TrackingService,
        runner: JobRunner,
        datasets: DatasetService | None = None,
        training: Any = None,
        registry: Callable[[], Any] | None = None,
        context: CurrentContext | None = None,
        recipes: Callable[[], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel-runs")
        self._recipes = recipes  # New run's recipe picker; called on first use
        self._tracking, self._runner, self._datasets = tracking, runner, datasets
        self._registry = registry  # called on first use: the registry imports on demand
        self._context = context
        self._jobs = PanelJobs(
            self, runner, on_failed=lambda _bridge, error, tb: self._on_error(error, tb)
        )
        self._detail_slot, self._compare_slot = JobSlot(self._jobs), JobSlot(self._jobs)
        self._register_slot = JobSlot(self._jobs)
        self.register_dialog: RegisterDialog | None = None
        self._keys: tuple[list[str], list[str]] = ([], [])
        self._columns_chosen = self._keys_requested = False

        self.messages = MessageBar()
        self.toolbar = bar = RunsToolbar()
        self.search, self.filter, self.show_deleted = bar.search, bar.filter, bar.show_deleted
        self.columns_menu, self.count_label = bar.columns_menu, bar.count_label
        self.compare_button, self.delete_button = bar.compare_button, bar.delete_button
        self.restore_button, self.new_button = bar.restore_button, bar.new_button
        self.reproduce_button, self.export_button = bar.reproduce_button, bar.export_button
        self.register_button, self.include_partial = bar.register_button, bar.include_partial
        self.model = RunsTableModel(tracking=tracking, runner=runner, parent=self)
        self.table = RunsTableView()
        self.table.setModel(self.model)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

        self.launcher: TrainingLauncher | None = None
        if training is not None:
            self.launcher = TrainingLauncher(training=training, runner=runner, parent=self)
            self.launcher.started.connect(self._on_launcher_started)
            self.launcher.ended.connect(self._on_launcher_ended)
            self.launcher.failed.connect(self._on_error)
            self.launcher.exported.connect(self._on_launcher_exported)
        self.detail = RunDetailView()
        self.compare = CompareView()
        self.jobs = JobProgressList()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.detail, "Detail")
        self.tabs.addTab(self.compare, "Compare")
        self.train_form = self._make_train_form()
        self.tabs.addTab(self.train_form, "New run")

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.toolbar)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.jobs)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.messages)
        layout.addWidget(self.splitter, 1)

        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self._detail_timer = QTimer(self, singleShot=True, interval=DETAIL_DELAY_MS)
        self._detail_timer.timeout.connect(self._on_detail_timer_timeout)
        scope = Qt.ShortcutContext
        QShortcut(QKeySequence.StandardKey.Find, self, self._on_find_shortcut,
                  context=scope.WidgetWithChildrenShortcut)  # fmt: skip
        QShortcut(QKeySequence.StandardKey.Delete, self.table, self.delete_selected,
                  context=scope.WidgetShortcut)  # fmt: skip

        self.search.textChanged.connect(self._on_search_text_changed)
        self.filter.returnPressed.connect(self._on_filter_return_pressed)
        self.filter.textChanged.connect(self._on_filter_text_changed)
        self.show_deleted.toggled.connect(self._on_show_deleted_toggled)
        self.include_partial.toggled.connect(self._on_include_partial_toggled)
        self.columns_menu.aboutToShow.connect(self._on_columns_menu_about_to_show)
        bar.column_toggled.connect(self._on_toolbar_column_toggled)
        self.new_button.clicked.connect(self._on_new_button_clicked)
        self.compare_button.clicked.connect(self.compare_selected)
        self.reproduce_button.clicked.connect(self.reproduce_selected)
        self.export_button.clicked.connect(self.export_selected)
        self.register_button.clicked.connect(self._on_register_button_clicked)
        self.delete_button.clicked.connect(self.delete_selected)
        self.restore_button.clicked.connect(self.restore_selected)
        bar.refresh_button.clicked.connect(self.refresh)
        self.table.activated.connect(self._on_table_activated)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu_requested)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.model.total_changed.connect(self._on_model_total_changed)
        self.model.query_failed.connect(self._on_error)
        self.model.sort_changed.connect(self._on_model_sort_changed)
        self.model.loading_changed.connect(self._on_model_loading_changed)
        self.model.modelReset.connect(self._on_table_selection_changed)
        self.detail.note_save_requested.connect(self._on_detail_note_save_requested)
        self.detail.run_link_activated.connect(self.show_run)
        self.detail.study_link_activated.connect(self._on_detail_study_link_activated)
        self.compare.notice.connect(self.messages.info)

        self._restore_columns()
        self.model.refresh()
        if not self._columns_chosen:  # the default columns need the names; else after page 0
            self._load_keys()
        self._update_buttons()

    # -- public API --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the table (same query) and the column names."""
        self.model.refresh()
        self._load_keys()

    def selected_run_ids(self) -> list[int]:
        """Ids of the selected rows whose page is in memory, in table order."""
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        runs = (self.model.run_at(r) for r in rows)
        return [run.id for run in runs if run is not None]

    def selected_runs(self) -> list[Any]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [run for run in (self.model.run_at(r) for r in rows) if run is not None]

    def set_columns(self, columns: list[str]) -> None:
        self._columns_chosen = True
        self.toolbar.save_columns(self.COLUMNS_KEY, columns)
        self.model.update_query(columns=tuple(columns))

    def show_run(self, run_id: int) -> None:
        """Open the detail of ``run_id`` (and select it when it is on a loaded page)."""
        row = self.model.row_of(run_id)
        if row is not None:
            self.table.selectRow(row)
        self.tabs.setCurrentWidget(self.detail)
        self._load_detail(run_id)

    def _on_detail_study_link_activated(self, name: str) -> None:
        self.open_requested.emit("tuning", StudyItem(name))

    def open_item(self, item: Any) -> None:
        """Show what another panel or a menu points at: a run (a lineage node, a trial's run)
        opens its detail; a dataset opens New run on it. Other kinds are ignored."""
        if isinstance(item, RunItem) or (isinstance(item, TrialItem) and item.run_id is not None):
            self.show_run(item.run_id)
        elif isinstance(item, DatasetItem):
            self.new_run(item)

    def selected_item(self) -> RunItem | None:
        ids = self.selected_run_ids()
        return RunItem(ids[0]) if ids else None

    def close_jobs(self) -> None:
        """Stop asking and listening: the panel is closing (the runner may be gone next)."""
        self._search_timer.stop()
        self._detail_timer.stop()
        self.model.stop()
        if isinstance(self.train_form, QWidget) and hasattr(self.train_form, "stop"):
            self.train_form.stop()
        self._jobs.close()
        if self.launcher is not None:
            self.launcher.close_jobs()

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue(self.SPLITTER_KEY, self.splitter.saveState())
        settings.setValue(self.SHOW_DELETED_KEY, self.show_deleted.isChecked())

    def restore_settings(self, settings: QSettings) -> None:
        state = settings.value(self.SPLITTER_KEY)
        if state is not None:
            self.splitter.restoreState(state)
        self.show_deleted.setChecked(settings.value(self.SHOW_DELETED_KEY, False, type=bool))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_jobs()
        super().closeEvent(event)

    # -- jobs --------------------------------------------------------------------------------

    def _load_detail(self, run_id: int) -> None:
        self.detail.show_loading(run_id)
        self._detail_slot.start(
            load_detail,
            self._tracking,
            self._datasets,
            run_id,
            name=f"Run {run_id}",
            done=self._on_detail_loaded,
        )

    def _load_keys(self) -> None:
        self._keys_requested = True
        self._jobs.start(call, self._tracking.keys, name="Run columns", done=self._on_keys_loaded)

    def _make_train_form(self) -> QWidget:
        if self.launcher is None or self._datasets is None:
            label = QLabel("Training is not available in this window (no training service).")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            return label
        from app.ui.panels.runs_train_form import TrainForm

        return TrainForm(
            datasets=self._datasets,
            launcher=self.launcher,
            runner=self._runner,
            context=self._context,
            recipes=self._recipes,
        )

    def _restore_columns(self) -> None:
        columns = self.toolbar.saved_columns(self.COLUMNS_KEY)
        if columns is not None:
            self._columns_chosen = True
            self.model.update_query(columns=tuple(columns))

    def _update_buttons(self) -> None:
        runs = self.selected_runs()
        one = len(runs) == 1
        trainable = self.launcher is not None
        self.compare_button.setEnabled(len(runs) >= 2)
        self.delete_button.setEnabled(any(not r.deleted for r in runs))
        self.restore_button.setEnabled(any(r.deleted for r in runs))
        self.restore_button.setVisible(self.show_deleted.isChecked())
        self.reproduce_button.setEnabled(trainable and one and runs[0].status == "finished")
        self.export_button.setEnabled(trainable and one and runs[0].status == "finished")
        self.register_button.setEnabled(
            self._registry is not None and one and runs[0].status == "finished"
        )
        self.new_button.setEnabled(trainable)

    # -- slots -------------------------------------------------------------------------------

    def _on_search_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def _on_search_timer_timeout(self) -> None:
        self.model.update_query(text=self.search.text().strip())

    def _on_filter_return_pressed(self) -> None:
        self.messages.clear()
        self.model.update_query(filter=self.filter.text().strip())

    def _on_filter_text_changed(self, text: str) -> None:
        if not text.strip() and self.model.query.filter:
            self.messages.clear()
            self.model.update_query(filter="")

    def _on_show_deleted_toggled(self, checked: bool) -> None:
        self.model.update_query(include_deleted=checked)
        self._update_buttons()

    def _on_include_partial_toggled(self, checked: bool) -> None:
        self.model.update_query(include_partial=checked)

    def _on_find_shortcut(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _on_new_button_clicked(self) -> None:
        self.tabs.setCurrentWidget(self.train_form)

    def _on_table_activated(self, index: QModelIndex) -> None:
        run = self.model.run_at(index.row())
        if run is not None:
            self.tabs.setCurrentWidget(self.detail)
            self._load_detail(run.id)
            self.item_activated.emit(RunItem(run.id))

    def _on_table_context_menu_requested(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        run = self.model.run_at(index.row()) if index.isValid() else None
        if run is None:
            return
        if not self.table.selectionModel().isRowSelected(index.row(), QModelIndex()):
            self.table.selectRow(index.row())
        self.item_menu_requested.emit(RunItem(run.id), self.table.viewport().mapToGlobal(pos))

    def _on_table_selection_changed(self, *_args: Any) -> None:
        self._update_buttons()
        self._detail_timer.start()
        item = self.selected_item()
        if self._context is not None and item is not None:
            self._context.update(run_id=item.run_id)
        self.selection_changed.emit(item)

    def _on_detail_timer_timeout(self) -> None:
        current = self.table.selectionModel().currentIndex()
        run = self.model.run_at(current.row()) if current.isValid() else None
        selected = current.isValid() and self.table.selectionModel().isRowSelected(
            current.row(), QModelIndex()
        )
        if run is None or not selected:
            self.run_selected.emit(None)
            return
        self.run_selected.emit(run.id)
        if run.id != self.detail.run_id:
            self._load_detail(run.id)

    def _on_detail_loaded(self, _bridge: JobBridge, detail: Any) -> None:
        self.detail.set_detail(detail)

    def _on_compare_loaded(self, _bridge: JobBridge, data: Any) -> None:
        self.compare.set_data(data)

    def _on_detail_note_save_requested(self, run_id: int, note: str) -> None:
        save, done = self._tracking.set_note, self._on_note_saved
        self._jobs.start(call, save, run_id, note, name="Save note", done=done, run_id=run_id)

    def _on_note_saved(self, bridge: JobBridge, _result: Any) -> None:
        run_id = bridge.context["run_id"]
        self.messages.info(f"Saved the note of run {run_id}.")
        if self.detail.run_id == run_id:
            self._load_detail(run_id)

    def _on_launcher_started(self, run_id: int, bridge: JobBridge) -> None:
        self.jobs.add(bridge, f"Training run {run_id}")
        self.model.refresh()

    def _on_launcher_ended(self, run_id: int, state: str) -> None:
        self.runs_changed.emit()
        self.refresh()
        if state == "cancelled":
            self.messages.info(f"Run {run_id} was cancelled.")
        if self.detail.run_id in (None, run_id):
            self._load_detail(run_id)

    def _on_launcher_exported(self, run_id: int, path: str) -> None:
        self.messages.info(f"Exported run {run_id} as a script: {path}")

    def _on_keys_loaded(self, _bridge: JobBridge, keys: tuple[list[str], list[str]]) -> None:
        self._keys = keys
        if not self._columns_chosen and keys[1]:
            self.model.update_query(columns=tuple(default_columns(keys[1])))

    def _on_columns_menu_about_to_show(self) -> None:
        params, metrics = self._keys
        self.toolbar.fill_columns_menu(params, metrics, self.model.query.columns)

    def _on_toolbar_column_toggled(self, key: str, on: bool) -> None:
        columns = [c for c in self.model.query.columns if c != key]
        if on:
            columns.append(key)
        self.set_columns(columns)

    def _on_model_total_changed(self, total: int) -> None:
        q = self.model.query
        scope = " matching" if (q.filter or q.text) else ""
        empty = "No runs yet: train one in the New run tab." if not (total or scope) else ""
        self.count_label.setText(empty or f"{total:,}{scope} run{'s' if total != 1 else ''}")
        self.table.fit_extra_columns(len(FIXED_COLUMNS))

    def _on_model_loading_changed(self, loading: bool) -> None:
        if loading and self.model.total == 0:
            self.count_label.setText("Loading runs…")
        elif not loading and not self._keys_requested:
            self._load_keys()

    def _on_model_sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        header = self.table.horizontalHeader()
        with QSignalBlocker(header):
            header.setSortIndicator(column, order)
        header.viewport().update()

    def _on_error(self, error: BaseException, tb: str) -> None:
        """A failed query or job: ``ModelDeskError`` in the bar, anything else in the dialog."""
        if isinstance(error, ModelDeskError):
            self.messages.show_error(error)
        else:
            show_unexpected_error(error, tb, self)


def build_panel(services: Any, runner: JobRunner, context: CurrentContext | None = None) -> QWidget:
    """The window's and ``open_alone``'s entry point (``PanelSpec.module``)."""
    return RunsPanel(
        tracking=services.tracking,
        datasets=services.datasets,
        runner=runner,
        training=getattr(services, "training", None),
        registry=lambda: services.registry,
        context=context,
        recipes=lambda: services.recipes,
    )


def main(argv: list[str] | None = None) -> int:
    """Open the Runs panel alone against the default store (or ``--store URL``)."""
    from app.ui.panels.standalone import open_alone

    return open_alone("runs", argv)


if __name__ == "__main__":
    sys.exit(main())
