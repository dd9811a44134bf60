"""The main window: a shell of panel switcher, panels, menus, status bar and drops.

It owns no logic of its own beyond wiring: menus, the toolbar and every item's context menu
come from ``app.ui.actions`` (built by ``app.ui.action_menus``, run through
``app.ui.commands``), panels from ``app.ui.panels``, the status bar from ``app.ui.status_bar``.
Every panel's ``selection_changed`` updates the one current context (``window.context``) and
the entries' enabling; ``item_menu_requested`` and ``item_activated`` open an item's context
menu or run its default next step. What it remembers between runs (geometry, window state,
last panel, recent files, theme) lives in ``QSettings`` under the keys in ``app.ui.settings``.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from PySide6.QtCore import QPoint, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QPalette,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from app.bootstrap import Services
from app.jobs.runner import JobRunner
from app.ui import settings as keys
from app.ui.action_menus import install_menus, install_toolbar, item_menu, update_enabled
from app.ui.actions import (
    Action,
    ActionContext,
    Menu,
    about_text,
    default_action,
    reason_not_to_run,
)
from app.ui.commands import module_defines
from app.ui.context import CurrentContext
from app.ui.items import (
    DatasetItem,
    DeploymentItem,
    Item,
    ModelVersionItem,
    RunItem,
    StudyItem,
    TrialItem,
)
from app.ui.job_bridge import PanelJobs
from app.ui.panels import PANEL_KEYS, PANELS, panel_spec
from app.ui.panels.data_panel import DataPanel
from app.ui.status_bar import StatusBar
from app.ui.theme import apply_theme, saved_theme
from app.ui.widgets.message_bar import Level

OPEN_FILTER = (
    "Data files (*.csv *.tsv *.txt *.parquet *.pq *.feather *.arrow *.json *.jsonl *.ndjson "
    "*.xlsx *.xlsm *.xls *.gz *.zip);;All files (*)"
)
SHUTDOWN_WAIT = 5.0  # seconds the window waits for cancelled jobs when it closes
RECONCILE_DELAY_MS = 2000  # deployments are checked against the daemon after start-up

PanelFactory = Callable[[Services, JobRunner, CurrentContext], QWidget]


def panel_factory(key: str) -> PanelFactory:
    """``build_panel`` of the module ``PanelSpec.module`` names (imported on first use)."""
    return importlib.import_module(panel_spec(key).module).build_panel


class PanelHost(Mapping[str, QWidget]):
    """The window's panels, each built the first time it is shown or asked for.

    Building a panel may import what only that panel needs (Optuna, the Docker SDK, pandas)
    and start its first jobs; doing that for eight panels at start-up would put all of it
    before the first paint. Until then its page in the stack is an empty slot, replaced in
    place, so the stack's order stays the switcher's.
    """

    def __init__(self, stack: QStackedWidget, build: Callable[[str], QWidget]) -> None:
        self._stack = stack
        self._build = build
        self._slots: dict[str, QWidget] = {}
        self._built: dict[str, QWidget] = {}

    def add_slot(self, key: str) -> None:
        slot = QWidget()
        self._slots[key] = slot
        self._stack.addWidget(slot)

    def __getitem__(self, key: str) -> QWidget:
        if key in self._built:
            return self._built[key]
        slot = self._slots[key]  # KeyError for an unknown panel, as a dict would
        panel = self._build(key)
        index = self._stack.indexOf(slot)
        was_current = self._stack.currentIndex() == index
        self._stack.insertWidget(index, panel)
        self._stack.removeWidget(slot)
        slot.deleteLater()
        if was_current:
            self._stack.setCurrentIndex(index)
        self._built[key] = panel
        return panel

    def __iter__(self) -> Iterator[str]:
        return iter(self._slots)

    def __len__(self) -> int:
        return len(self._slots)

    def built(self) -> dict[str, QWidget]:
        """The panels built so far (closing and saving settings touch only these)."""
        return dict(self._built)


class MainWindow(QMainWindow):
    panel_changed = Signal(str)
    job_count_changed = Signal(int)

    def __init__(
        self,
        *,
        services: Services,
        runner: JobRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self._owns_runner = runner is None
        self.runner = runner if runner is not None else JobRunner()
        self.recent = keys.RecentFiles()
        self.context = CurrentContext()  # what the person picked last: every panel's default
        self.about_box: QMessageBox | None = None
        self.shortcuts_dialog: QWidget | None = None
        self.item_menu: QMenu | None = None  # the last context menu opened (tests look at it)
        self.start_page: QWidget | None = None
        self.theme = saved_theme(keys.settings())
        self.jobs = PanelJobs(self, self.runner, on_failed=self._on_job_failed)
        self._closed = False
        self.setWindowTitle("ModelDesk")
        self.setAcceptDrops(True)

        self.switcher = QListWidget()
        self.switcher.setObjectName("panel-switcher")
        self.switcher.setAccessibleName("Panels")
        self.stack = QStackedWidget()
        self.panels = PanelHost(self.stack, self._build_panel)
        for spec in PANELS:
            self.panels.add_slot(spec.key)
            item = QListWidgetItem(spec.title)
            item.setToolTip(spec.summary)
            item.setSizeHint(QSize(0, self.switcher.fontMetrics().height() + 14))
            self.switcher.addItem(item)
        self.switcher.setFrameShape(QFrame.Shape.NoFrame)
        self.switcher.setBackgroundRole(QPalette.ColorRole.Window)
        self.switcher.viewport().setBackgroundRole(QPalette.ColorRole.Window)
        self.switcher.setViewportMargins(4, 8, 4, 8)
        self.data_panel: DataPanel = self.panels["data"]  # type: ignore[assignment]
        width = max(self.switcher.sizeHintForColumn(0), 96) + 40
        self.switcher.setFixedWidth(width)
        self.switcher.currentRowChanged.connect(self._on_switcher_row_changed)
        # a click on the current row leaves the start page for that panel
        self.switcher.itemPressed.connect(
            lambda it: self._on_switcher_row_changed(self.switcher.row(it))
        )

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.switcher)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.status = StatusBar(
            store_display=services.store.url_for_display,
            artifacts_display=services.store.artifacts_for_display,
            cluster_display=os.environ.get("MODELDESK_CLUSTER", ""),
            runner=self.runner,
            parent=self,
        )
        self.status.job_count_changed.connect(self.job_count_changed)
        self.status.docker_changed.connect(self._on_status_docker_changed)
        self.setStatusBar(self.status)
        self.qactions, self.menus = install_menus(self, self.menuBar())
        self.toolbar = install_toolbar(self, self.qactions)

        self.data_panel.ingest_finished.connect(self._on_data_panel_ingest_finished)
        self.data_panel.datasets_listed.connect(self._on_data_panel_datasets_listed)
        # a panel's pick in the current context may enable entries (a model version for Deploy)
        self.context.subscribe(lambda _ctx, _changed: self.update_actions())
        self._restore_settings()
        if self.theme != "system":
            apply_theme(QApplication.instance(), self.theme)
        self.update_actions()
        self._reconcile_deployments(services)

    def _reconcile_deployments(self, services: Services) -> None:
        """Fail builds and starts a killed process left, and mark containers that vanished,
        off the GUI thread and after the first paint (the job imports the Docker SDK)."""
        from app.core.deploy import reconcile_at_startup

        def start() -> None:
            if not self._closed:
                self.runner.submit(reconcile_at_startup, services, name="Reconcile deployments")

        QTimer.singleShot(RECONCILE_DELAY_MS, start)

    # -- panels ------------------------------------------------------------------------------

    def _build_panel(self, key: str) -> QWidget:
        """The panel ``key`` with its saved settings, wired to the window: opening other
        panels, its items' context menus and default steps, its selection."""
        panel = panel_factory(key)(self.services, self.runner, self.context)
        if hasattr(panel, "restore_settings"):  # splitters, tabs, columns: its own keys
            panel.restore_settings(keys.settings())
        # getattr: until every panel keeps the contract (tests/ui/test_panel_contract.py)
        if getattr(panel, "open_requested", None) is not None:
            panel.open_requested.connect(self.open_in_panel)
        if getattr(panel, "item_menu_requested", None) is not None:
            panel.item_menu_requested.connect(self.show_item_menu)
        if getattr(panel, "item_activated", None) is not None:
            panel.item_activated.connect(self.activate_item)
        if getattr(panel, "selection_changed", None) is not None:
            panel.selection_changed.connect(
                lambda item, k=key: self._on_panel_selection_changed(k, item)
            )
        return panel

    def show_panel(self, key: str) -> None:
        row = PANEL_KEYS.index(key)
        if self.switcher.currentRow() == row and self.stack.currentIndex() != row:
            self._on_switcher_row_changed(row)  # back from the start page
        self.switcher.setCurrentRow(row)

    def open_in_panel(self, key: str, ref: object = None) -> None:
        """Show panel ``key`` opened on ``ref`` (an item of ``app.ui.items``).

        Panels ask for this through an ``open_requested(key, item)`` signal and the commands
        call it; the panel's ``open_item`` shows the item (every panel keeps the contract).
        """
        if key not in PANEL_KEYS:
            return
        self.show_panel(key)
        if ref is None:
            return
        if isinstance(ref, Item):  # the union of every kind (app.ui.items)
            self.panels[key].open_item(ref)

    def current_panel(self) -> str:
        row = self.switcher.currentRow()
        return PANEL_KEYS[row] if 0 <= row < len(PANEL_KEYS) else "data"

    def has_operation(self, key: str, method: str) -> bool:
        """Whether panel ``key`` has the public operation ``method`` (without building it)."""
        built = self.panels.built().get(key)
        if built is not None:
            return callable(getattr(built, method, None))
        return module_defines(panel_spec(key).module, method)

    # -- files -------------------------------------------------------------------------------

    def open_files(self, paths: list[str | Path]) -> None:
        """Ingest files (command line, Open dialog, Open Recent, drops) on the Data panel."""
        if not paths:
            return
        self.show_panel("data")
        self.data_panel.ingest_files([Path(p) for p in paths])

    def open_dataset_dialog(self) -> None:
        paths = self._ask_open_paths()
        if paths:
            self.open_files(paths)

    def recent_files(self) -> list[str]:
        return self.recent.paths()

    def clear_recent_files(self) -> None:
        self.recent.clear()

    def _ask_open_paths(self) -> list[str]:
        start = self.recent_files()[0] if self.recent_files() else str(Path.home())
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open dataset", str(Path(start).parent), OPEN_FILTER
        )
        return paths

    # -- dataset commands (forwarded to the Data panel) -------------------------------------

    def export_dataset(self) -> None:
        self.show_panel("data")
        self.data_panel.export_selected()

    def rename_dataset(self) -> None:
        self.show_panel("data")
        self.data_panel.rename_selected()

    def delete_dataset(self) -> None:
        self.show_panel("data")
        self.data_panel.delete_selected()

    def restore_dataset(self) -> None:
        self.show_panel("data")
        self.data_panel.restore_dataset()

    # -- tools and help ----------------------------------------------------------------------

    def store_folder(self) -> Path:
        store = self.services.store
        return store.db_path.parent if store.db_path is not None else store.artifacts_dir

    def show_store_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.store_folder())))

    def copy_store_path(self) -> None:
        store = self.services.store
        text = str(store.db_path) if store.db_path is not None else store.url_for_display
        QGuiApplication.clipboard().setText(text)
        self.status.showMessage(f"Copied {text}", 4000)

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setWindowTitle("About ModelDesk")
        box.setIcon(QMessageBox.Icon.Information)
        box.setText(about_text())
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.about_box = box
        box.open()
        return box

    # -- actions -----------------------------------------------------------------------------

    def action_context(self) -> ActionContext:
        selections: dict[str, Item | None] = {}
        for key, panel in self.panels.built().items():
            selected = getattr(panel, "selected_item", None)
            selections[key] = selected() if callable(selected) else None
        return ActionContext(
            panel=self.current_panel(),
            version=self.data_panel.selected_version(),
            dataset=self.data_panel.selected_dataset(),
            selections=selections,
            state=self.context.state,
            docker=self.status.docker_status,
            has_operation=self.has_operation,
        )

    def update_actions(self) -> None:
        update_enabled(self, self.qactions, self.action_context())

    def menu(self, menu: Menu) -> QMenu:
        return self.menus[menu]

    def run_action(self, action: Action, item: Item | None = None) -> bool:
        """Run ``action`` on ``item`` (a context menu's) or on what the menus act on now;
        an entry that cannot act says why in the status bar. Returns whether it ran."""
        ctx = self.action_context()
        if item is None:
            item = ctx.item_for(action.items)
        reason = reason_not_to_run(action, ctx, item)
        if reason is not None:
            self.status.showMessage(reason, 8000)
            return False
        if action.run is not None:
            action.run(self, item)
        return True

    def show_item_menu(self, item: Item, global_pos: QPoint) -> QMenu | None:
        """The context menu of ``item``, built from the actions for its kind."""
        if item is None:
            return None
        menu = item_menu(self, item, self.action_context(), self)
        if not menu.actions():
            menu.deleteLater()
            return None
        if self.item_menu is not None:
            self.item_menu.deleteLater()  # one context menu at a time
        self.item_menu = menu
        menu.popup(global_pos)
        return menu

    def activate_item(self, item: Item) -> bool:
        """A double-click (or Enter) on ``item``: its default next step."""
        action = default_action(item) if item is not None else None
        return action is not None and self.run_action(action, item)

    # -- theme, start page, shortcuts ----------------------------------------------------------

    def set_theme(self, name: str) -> None:
        apply_theme(QApplication.instance(), name)
        self.theme = name
        store = keys.settings()
        store.setValue(keys.THEME_KEY, name)
        store.sync()
        self.update_actions()

    def show_start_page(self) -> QWidget:
        """The first-launch page (also Help ▸ Getting started): open a file, try a sample,
        the journey in five steps."""
        if self.start_page is None:
            from app.ui.start_page import StartPage

            self.start_page = StartPage()
            self.start_page.open_requested.connect(self.open_dataset_dialog)
            self.start_page.sample_requested.connect(self._on_start_page_sample_requested)
            self.stack.addWidget(self.start_page)
        self.stack.setCurrentWidget(self.start_page)
        return self.start_page

    def show_shortcuts(self) -> QWidget:
        from app.ui.start_page import ShortcutsDialog

        dialog = ShortcutsDialog(self)
        self.shortcuts_dialog = dialog
        dialog.open()
        return dialog

    # -- drag and drop -----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if not urls:
            event.ignore()
            return
        event.acceptProposedAction()
        local = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
        remote = [u.toString() for u in urls if not u.isLocalFile()]
        self.show_panel("data")
        for address in remote:
            self.data_panel.messages.show_message(
                Level.ERROR,
                f"{address} is not a file on this computer; only local files can be dropped.",
                hint="Download it first, then drop the downloaded file.",
            )
        self.open_files(local)

    # -- closing -----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed:  # closed twice (Quit, then the test harness): do the work once
            super().closeEvent(event)
            return
        self._closed = True
        self._save_settings()
        self.status.stop()
        self.jobs.close()
        for panel in self.panels.built().values():
            close_jobs = getattr(panel, "close_jobs", None)
            if close_jobs is not None:
                close_jobs()
        live = self.runner.live
        for job in live:
            job.cancel()
        deadline = time.monotonic() + SHUTDOWN_WAIT
        for job in live:
            job.wait(max(0.0, deadline - time.monotonic()))
        if self._owns_runner:
            self.runner.shutdown(timeout=SHUTDOWN_WAIT)
        super().closeEvent(event)

    # -- slots -------------------------------------------------------------------------------

    def _on_switcher_row_changed(self, row: int) -> None:
        if row < 0:
            return
        self.panels[PANEL_KEYS[row]]  # built on its first showing
        self.stack.setCurrentIndex(row)
        self.update_actions()
        self.panel_changed.emit(PANEL_KEYS[row])

    def _on_panel_selection_changed(self, key: str, item: object) -> None:
        """A panel's selection is the current context for its kind, and may enable entries."""
        if isinstance(item, DatasetItem):
            self.context.update(dataset=item.name, version=item.version, target=item.target)
        elif isinstance(item, RunItem):
            self.context.update(run_id=item.run_id)
        elif isinstance(item, TrialItem):
            self.context.update(study=item.study, run_id=item.run_id)
        elif isinstance(item, StudyItem):
            self.context.update(study=item.name)
        elif isinstance(item, ModelVersionItem):
            self.context.update(model=item.name, model_version=item.version)
        elif isinstance(item, DeploymentItem):
            self.context.update(deployment_id=item.deployment_id)
        self.update_actions()

    def _on_data_panel_datasets_listed(self, count: int) -> None:
        if count == 0 and self.start_page is None and self.current_panel() == "data":
            self.show_start_page()  # an empty store: teach the first steps
        elif (
            count and self.start_page is not None and self.stack.currentWidget() is self.start_page
        ):
            self.show_panel("data")

    def _on_start_page_sample_requested(self, name: str) -> None:
        from app.ui.commands import open_sample

        open_sample(self, name)

    def _on_status_docker_changed(self, _status: object) -> None:
        self.update_actions()

    def _on_job_failed(self, _bridge: object, error: BaseException, tb: str) -> None:
        from app.core.errors import ModelDeskError
        from app.ui.widgets.error_dialog import show_unexpected_error

        if isinstance(error, ModelDeskError):
            self.status.showMessage(error.message, 8000)
        else:
            show_unexpected_error(error, tb, self)

    def _on_data_panel_ingest_finished(self, version: object) -> None:
        source = getattr(version, "source_path", "")
        if source:
            self.recent.add(source)

    # -- settings ----------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        store = keys.settings()
        # the last panel first: building it may change the window's minimum size
        panel = str(store.value(keys.PANEL_KEY, "data") or "data")
        self.show_panel(panel if panel in PANEL_KEYS else "data")
        geometry = store.value(keys.GEOMETRY_KEY)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(QSize(1200, 760))
        state = store.value(keys.STATE_KEY)
        if state is not None:
            self.restoreState(state)

    def _save_settings(self) -> None:
        store = keys.settings()
        store.setValue(keys.GEOMETRY_KEY, self.saveGeometry())
        store.setValue(keys.STATE_KEY, self.saveState())
        store.setValue(keys.PANEL_KEY, self.current_panel())
        for panel in self.panels.built().values():
            if hasattr(panel, "save_settings"):
                panel.save_settings(store)
        store.sync()
