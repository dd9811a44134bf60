"""The Data panel: datasets and their versions, a virtualised table and the inferred schema.

Contract
--------
Services (keyword arguments): ``datasets`` (``DatasetService``), ``runner`` (``JobRunner``).
Every service call runs as a job on the runner; results come back through a ``JobBridge`` on
the GUI thread. The list, the table and the roles each have a ``JobSlot``: a newer job of the
same slot cancels the older, whose result is dropped (a stale table never shows under a new
selection).

Keeps the panel contract (``app.ui.panels.contract``): ``open_item(DatasetItem)``,
``selected_item()``, and the signals ``open_requested``, ``item_menu_requested`` (the tree's
right-click: the window builds the menu from the actions), ``item_activated`` (double-click)
and ``selection_changed(DatasetItem | None)``; a pick updates the ``CurrentContext``
(dataset, version and its stored target). The Schema tab edits each column's role (feature,
target, identifier, ignored), stored with the version (``edit_roles``).

Signals too: ``dataset_selected(DatasetVersion | None)``, ``ingest_finished(DatasetVersion)``,
``datasets_changed()``, ``datasets_listed(int)`` (how many datasets the list holds).

Messages: ``ModelDeskError``s go to the panel's ``MessageBar`` with the file name and hint;
anything else opens the shared error dialog with its traceback.

Settings: ``data_panel/splitter``, ``data_panel/show_deleted``.

``python -m app.ui.panels.data_panel [--store URL]`` opens the panel alone.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMenu,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import Cancelled, ModelDeskError
from app.ui.items import DatasetItem
from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs, call
from app.ui.panels.data_jobs import (
    ingest_file,
    list_datasets,
    load_version_table,
    workbook_sheets,
)
from app.ui.widgets.dataset_tree import DatasetTree
from app.ui.widgets.error_dialog import show_unexpected_error
from app.ui.widgets.job_progress import JobProgressList
from app.ui.widgets.message_bar import MessageBar
from app.ui.widgets.schema_model import ROLE_COLUMN, RoleDelegate, SchemaModel
from app.ui.widgets.sheet_dialog import ask_sheets
from app.ui.widgets.table_view import DataTableView

if TYPE_CHECKING:
    from app.core.datasets import Dataset, DatasetService, DatasetVersion, IngestResult
    from app.jobs.runner import JobRunner
    from app.ui.context import CurrentContext

EXIT_AFTER_PAINT_ENV = "MODELDESK_EXIT_AFTER_PAINT"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
EXPORT_FILTER = (
    "CSV (*.csv);;TSV (*.tsv);;Parquet (*.parquet);;Feather (*.feather *.arrow);;"
    "JSON lines (*.jsonl);;JSON (*.json);;Excel (*.xlsx)"
)
EMPTY_TEXT = (
    "No datasets yet. Drop a CSV, TSV, Parquet, Excel, JSON or Feather file on the window, "
    "or use File ▸ Open dataset… (Ctrl+O)."
)


def is_workbook(path: Path) -> bool:
    """Whether ``path`` names a workbook (possibly compressed), whose sheets to ask about."""
    name = path.name.lower()
    for compression in (".gz", ".bz2", ".xz", ".zip"):
        name = name.removesuffix(compression)
    return name.endswith(WORKBOOK_SUFFIXES)


# -- the panel ---------------------------------------------------------------------------------


class DataPanel(QWidget):
    open_requested = Signal(str, object)
    item_menu_requested = Signal(object, QPoint)  # DatasetItem, global position
    item_activated = Signal(object)  # DatasetItem
    selection_changed = Signal(object)  # DatasetItem or None
    dataset_selected = Signal(object)  # DatasetVersion, or None when nothing is selected
    ingest_finished = Signal(object)  # DatasetVersion
    datasets_changed = Signal()
    datasets_listed = Signal(int)

    SPLITTER_KEY = "data_panel/splitter"
    SHOW_DELETED_KEY = "data_panel/show_deleted"

    def __init__(
        self,
        *,
        datasets: DatasetService,
        runner: JobRunner,
        context: CurrentContext | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel-data")
        self._datasets = datasets
        self._runner = runner
        self._context = context
        self._jobs = PanelJobs(
            self, runner, on_failed=self._on_job_failed, on_cancelled=self._on_job_cancelled
        )
        self._list_slot = JobSlot(self._jobs)
        self._table_slot = JobSlot(self._jobs)
        self._roles_slot = JobSlot(self._jobs)
        self._shown_version: DatasetVersion | None = None
        self._select_after_refresh: int | None = None

        self.messages = MessageBar()
        self.show_deleted = QCheckBox("Show deleted")
        self.show_deleted.setToolTip("List deleted datasets too, so that you can restore them")
        self.show_deleted.toggled.connect(self._on_show_deleted_toggled)

        self.tree = DatasetTree()
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu)
        self.tree.itemSelectionChanged.connect(self._on_tree_selection_changed)
        # double-click or Enter (a single click where the desktop activates on one)
        self.tree.itemActivated.connect(self._on_tree_item_activated)
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setWordWrap(True)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.jobs = JobProgressList()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.show_deleted)
        left_layout.addWidget(self.tree, 1)
        left_layout.addWidget(self.empty_label)
        left_layout.addWidget(self.jobs)

        self.table_view = DataTableView(runner=runner)
        self.table_model = self.table_view.data_model
        self.table_status = QLabel("Select a dataset version to see its rows.")
        table_tab = QWidget()
        table_layout = QVBoxLayout(table_tab)
        table_layout.setContentsMargins(0, 4, 0, 0)
        table_layout.addWidget(self.table_status)
        table_layout.addWidget(self.table_view, 1)

        self.schema_model = SchemaModel(self)
        self.schema_view = QTableView()
        self.schema_view.setModel(self.schema_model)
        self.schema_view.setAlternatingRowColors(True)
        self.schema_view.setWordWrap(False)
        self.schema_view.verticalHeader().setVisible(False)
        self.schema_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.schema_view.horizontalHeader().setStretchLastSection(False)
        self.schema_view.setObjectName("data-schema")
        self.schema_view.setItemDelegateForColumn(ROLE_COLUMN, RoleDelegate(self.schema_view))
        self.schema_view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.schema_model.role_edited.connect(self._on_schema_role_edited)

        self.tabs = QTabWidget()
        self.tabs.addTab(table_tab, "Table")
        self.tabs.addTab(self.schema_view, "Schema")

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([340, 800])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.messages)
        layout.addWidget(self.splitter, 1)

        self.refresh()

    # -- public API --------------------------------------------------------------------------

    def refresh(self, *, select_version_id: int | None = None) -> None:
        """Reload the list of datasets; keep (or move to) a selection afterwards."""
        current = self.selected_version()
        if select_version_id is None and current is not None:
            select_version_id = current.id
        self._select_after_refresh = select_version_id
        self._list_slot.start(
            list_datasets,
            self._datasets,
            self.show_deleted.isChecked(),
            name="List datasets",
            done=self._on_list_done,
        )

    # -- the panel contract ------------------------------------------------------------------

    def open_item(self, item: object) -> None:
        """Select a dataset version (a ``DatasetItem``); other items are not shown here."""
        if isinstance(item, DatasetItem):
            self.select(item.ref)

    def selected_item(self) -> DatasetItem | None:
        version = self.selected_version()
        if version is None:
            return None
        return DatasetItem(version.name, version.version, version.target)

    def edit_roles(self, item: DatasetItem | None = None) -> None:
        """Show the Schema tab with the Role column ready to edit (on ``item`` if given)."""
        if item is not None:
            self.open_item(item)
        self.tabs.setCurrentWidget(self.schema_view)
        if self.schema_model.rowCount():
            index = self.schema_model.index(0, ROLE_COLUMN)
            self.schema_view.setCurrentIndex(index)
            self.schema_view.scrollTo(index)
        self.schema_view.setFocus()

    def set_role(self, column: str, role: str) -> None:
        """Set one column's role on the shown version (what the Role combo does)."""
        row = self.schema_model.column_names().index(column)
        self.schema_model.setData(self.schema_model.index(row, ROLE_COLUMN), role)

    def ingest_files(self, paths: list[str | Path]) -> None:
        """Ingest each file as a job; workbooks with several sheets ask which sheets first."""
        for raw in paths:
            path = Path(raw)
            if is_workbook(path):
                self._jobs.start(
                    workbook_sheets,
                    path,
                    name=f"Inspect {path.name}",
                    done=self._on_sheets_listed,
                    subject=path.name,
                    path=path,
                )
            else:
                self._start_ingest(path, None)

    def selected_version(self) -> DatasetVersion | None:
        return self.tree.selected_version()

    def selected_dataset(self) -> Dataset | None:
        return self.tree.selected_dataset()

    def select_version(self, version_id: int) -> bool:
        return self.tree.select_version(version_id)

    def select(self, ref: str) -> None:
        """Select the dataset version ``name@version`` (another panel asked to open it)."""
        self._jobs.start(
            call,
            self._datasets.resolve,
            str(ref),
            name="Find dataset version",
            done=lambda _bridge, version: (
                self.select_version(version.id) or self.refresh(select_version_id=version.id)
            ),
        )

    def dataset_names(self) -> list[str]:
        return self.tree.dataset_names()

    def shown_version(self) -> DatasetVersion | None:
        """The version whose table and schema are on screen (or loading)."""
        return self._shown_version

    def rename_selected(self) -> None:
        dataset = self.selected_dataset()
        if dataset is None or dataset.deleted:
            return
        new = self._ask_new_name(dataset.name)
        if not new or new.strip() == dataset.name:
            return
        version, new = self.selected_version(), new.strip()
        self._jobs.start(
            call, self._datasets.rename, dataset.name, new, name="Rename dataset",
            done=self._on_changed, subject=dataset.name,
            message=f"Renamed '{dataset.name}' to '{new}'.", select=version and version.id,
        )  # fmt: skip

    def delete_selected(self) -> None:
        dataset = self.selected_dataset()
        if dataset is None or dataset.deleted:
            return
        self._jobs.start(
            call, self._datasets.delete, dataset.name, name="Delete dataset",
            done=self._on_changed, subject=dataset.name, message=f"Deleted '{dataset.name}'.",
            hint="Edit ▸ Restore deleted dataset… brings it back.",
        )  # fmt: skip

    def restore_dataset(self, name: str | None = None) -> None:
        """Restore ``name``, the selected deleted dataset, or one the user picks."""
        selected = self.selected_dataset()
        if name is None and selected is not None and selected.deleted:
            name = selected.name
        if name is not None:
            self._start_restore(name)
            return
        self._jobs.start(
            list_datasets,
            self._datasets,
            True,
            name="List deleted datasets",
            done=self._on_deleted_listed,
        )

    def export_selected(self, dest: str | None = None) -> None:
        version = self.selected_version()
        if version is None:
            self.messages.info("Select a dataset version to export.")
            return
        dest = dest or self._ask_export_path(version)
        if not dest:
            return
        bridge = self._jobs.start(
            self._datasets.export,
            version,
            dest,
            name=f"Export {version.ref}",
            done=self._on_exported,
            subject=version.ref,
        )
        self.jobs.add(bridge, f"Exporting {version.ref}")

    def close_jobs(self) -> None:
        """Cancel this panel's jobs and stop listening to them (the panel is closing)."""
        self._jobs.close()

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue(self.SPLITTER_KEY, self.splitter.saveState())
        settings.setValue(self.SHOW_DELETED_KEY, self.show_deleted.isChecked())

    def restore_settings(self, settings: QSettings) -> None:
        state = settings.value(self.SPLITTER_KEY)
        if state is not None:
            self.splitter.restoreState(state)
        show = settings.value(self.SHOW_DELETED_KEY, False, type=bool)
        if show != self.show_deleted.isChecked():
            self.show_deleted.setChecked(show)

    # -- questions (methods so that tests can replace them) -----------------------------------

    def _ask_new_name(self, current: str) -> str | None:
        text, ok = QInputDialog.getText(self, "Rename dataset", "New name:", text=current)
        return text if ok else None

    def _ask_sheets(self, file_name: str, sheets: list[str]) -> list[str]:
        return ask_sheets(file_name, sheets, self)

    def _ask_export_path(self, version: DatasetVersion) -> str | None:
        suggested = str(Path.home() / f"{version.name}-v{version.version}.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export dataset", suggested, EXPORT_FILTER)
        return path or None

    def _ask_restore_name(self, names: list[str]) -> str | None:
        name, ok = QInputDialog.getItem(
            self, "Restore deleted dataset", "Dataset:", names, 0, False
        )
        return name if ok and name else None

    # -- jobs --------------------------------------------------------------------------------

    def _start_ingest(self, path: Path, sheet: str | None) -> None:
        label = path.name if sheet is None else f"{path.name} ▸ {sheet}"
        bridge = self._jobs.start(
            ingest_file,
            self._datasets,
            path,
            sheet,
            name=f"Ingest {label}",
            done=self._on_ingested,
            subject=label,
            path=path,
            cancel_note=True,
        )
        self.jobs.add(bridge, f"Ingesting {label}")

    def _start_restore(self, name: str) -> None:
        self._jobs.start(
            call, self._datasets.restore, name, name="Restore dataset", done=self._on_changed,
            subject=name, message=f"Restored '{name}'.", select_latest=True,
        )  # fmt: skip

    # -- slots -------------------------------------------------------------------------------

    def _on_list_done(self, bridge: JobBridge, datasets: list[Dataset]) -> None:
        self.tree.set_datasets(datasets, select_version_id=self._select_after_refresh)
        self.empty_label.setVisible(not datasets)
        self._on_tree_selection_changed()
        self.datasets_listed.emit(len(datasets))

    def _on_tree_selection_changed(self) -> None:
        version = self.selected_version()
        shown = self._shown_version
        if version == shown:
            return
        self._shown_version = version
        if version is not None and shown is not None and version.id == shown.id:
            # the same version read again (its roles changed): no new table to load
            self.schema_model.set_usages(version.usages)
            self._announce(version)
            return
        self._table_slot.cancel()
        self.table_model.set_table(None)
        if version is None:
            self.schema_model.set_schema((), 0)
            self.table_status.setText("Select a dataset version to see its rows.")
        else:
            self.schema_model.set_schema(version.schema, version.rows, version.usages)
            self.schema_view.resizeColumnsToContents()
            for col in range(self.schema_model.columnCount()):
                self.schema_view.setColumnWidth(col, self.schema_view.columnWidth(col) + 16)
            self.table_status.setText(f"Loading {version.ref}…")
            self._table_slot.start(
                load_version_table,
                self._datasets,
                version,
                name=f"Load {version.ref}",
                done=self._on_table_loaded,
                subject=version.ref,
            )
        self._announce(version)

    def _announce(self, version: DatasetVersion | None) -> None:
        """Tell the window and the current context what is selected now."""
        item = self.selected_item() if version is not None else None
        if item is not None and self._context is not None:
            self._context.update(dataset=item.name, version=item.version, target=item.target)
        self.dataset_selected.emit(version)
        self.selection_changed.emit(item)

    def _on_schema_role_edited(self, _column: str, _role: str) -> None:
        version = self._shown_version
        if version is None:
            return
        self._roles_slot.start(
            call,
            self._datasets.set_usages,
            version,
            self.schema_model.usages(),
            name=f"Set the roles of {version.ref}",
            done=self._on_roles_stored,
            subject=version.ref,
            roles=True,
        )

    def _on_roles_stored(self, _bridge: JobBridge, version: DatasetVersion) -> None:
        self.datasets_changed.emit()
        self.refresh(select_version_id=version.id)

    def _on_table_loaded(self, bridge: JobBridge, table: Any) -> None:
        self.table_view.set_table(table)
        version = self._shown_version
        ref = f"{version.ref}: " if version else ""
        self.table_status.setText(f"{ref}{table.num_rows:,} rows × {table.num_columns} columns")

    def _on_sheets_listed(self, bridge: JobBridge, sheets: list[str]) -> None:
        path: Path = bridge.context["path"]
        if len(sheets) <= 1:
            self._start_ingest(path, None)
            return
        for sheet in self._ask_sheets(path.name, sheets):
            self._start_ingest(path, sheet)

    def _on_ingested(self, bridge: JobBridge, result: IngestResult) -> None:
        version = result.version
        if not result.created:
            self.messages.info(
                f"{bridge.context['subject']} is already stored as {version.ref}.",
                hint="Nothing new was added; the stored version is selected.",
            )
        self.ingest_finished.emit(version)
        self.datasets_changed.emit()
        self.refresh(select_version_id=version.id)

    def _on_changed(self, bridge: JobBridge, result: Any) -> None:
        ctx = bridge.context
        self.messages.info(ctx["message"], hint=ctx.get("hint"))
        select = ctx.get("select")
        if ctx.get("select_latest") and result is not None and result.versions:
            select = result.latest.id
        self.datasets_changed.emit()
        self.refresh(select_version_id=select)

    def _on_deleted_listed(self, bridge: JobBridge, datasets: list[Dataset]) -> None:
        names = [d.name for d in datasets if d.deleted]
        if not names:
            self.messages.info("There are no deleted datasets to restore.")
            return
        name = self._ask_restore_name(names)
        if name:
            self._start_restore(name)

    def _on_exported(self, bridge: JobBridge, path: Path) -> None:
        self.messages.info(f"Exported {bridge.context['subject']} to {path}.")

    def _on_job_failed(self, bridge: JobBridge, error: BaseException, tb: str) -> None:
        if self._table_slot.is_current(bridge) and self._shown_version is not None:
            self.table_status.setText(f"Could not load {self._shown_version.ref}.")
        if bridge.context.get("roles") and self._shown_version is not None:
            self.schema_model.set_usages(self._shown_version.usages)  # the store refused
        if isinstance(error, ModelDeskError):
            self.messages.show_error(error, subject=bridge.context.get("subject"))
        else:
            show_unexpected_error(error, tb, self)

    def _on_job_cancelled(self, bridge: JobBridge) -> None:
        if bridge.context.get("cancel_note"):
            subject = bridge.context.get("subject") or bridge.job.name
            self.messages.show_error(
                Cancelled(f"Ingest of {subject} was cancelled; nothing was stored.")
            )

    def _on_show_deleted_toggled(self, _checked: bool) -> None:
        self.refresh()

    def _on_tree_item_activated(self, _item: Any, _column: int) -> None:
        item = self.selected_item()
        if item is not None and not (self.selected_dataset() and self.selected_dataset().deleted):
            self.item_activated.emit(item)

    def _on_tree_context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is not None:
            self.tree.setCurrentItem(item)
        dataset = self.selected_dataset()
        selected = self.selected_item()
        global_pos = self.tree.viewport().mapToGlobal(pos)
        live = selected is not None and dataset is not None and not dataset.deleted
        if live and self.isSignalConnected(_signal(self, "item_menu_requested")):
            # a live dataset's next steps: the window builds the menu from the actions
            self.item_menu_requested.emit(selected, global_pos)
            return
        menu = QMenu(self)
        live = dataset is not None and not dataset.deleted
        menu.addAction("Rename…", self.rename_selected).setEnabled(live)
        menu.addAction("Delete", self.delete_selected).setEnabled(live)
        menu.addAction("Restore", self.restore_dataset).setEnabled(
            dataset is not None and dataset.deleted
        )
        menu.addSeparator()
        menu.addAction("Export…", self.export_selected).setEnabled(dataset is not None)
        menu.popup(global_pos)


def _signal(obj: QWidget, name: str) -> Any:
    meta = obj.metaObject()
    for i in range(meta.methodCount()):
        method = meta.method(i)
        if method.name().data().decode() == name:
            return method
    raise KeyError(name)


def build_panel(services: Any, runner: JobRunner, context: CurrentContext | None = None) -> QWidget:
    """The window's and ``open_alone``'s entry point (``PanelSpec.module``)."""
    return DataPanel(datasets=services.datasets, runner=runner, context=context)


def main(argv: list[str] | None = None) -> int:
    """Open the Data panel alone; files named on the command line are ingested."""
    from app.ui.panels.standalone import open_alone

    return open_alone("data", argv, size=(1100, 700), with_files=DataPanel.ingest_files)


if __name__ == "__main__":
    sys.exit(main())
