"""The Explore panel: a full profile of a dataset version, its target, and its warnings.

Contract
--------
Services (keyword arguments): ``profiles`` (``ProfileService``), ``datasets``
(``DatasetService``), ``runner`` (``JobRunner``). The panel never opens a session or a file:
listing datasets, profiling (or reading a cached profile) and exporting are jobs on the runner
that come back through a ``JobBridge`` on the GUI thread. One profile job at a time: picking
another dataset or target cancels the running one, and a result that is not from the current
job is dropped (a stale profile never shows under a new choice).

Tabs: Overview (cards, sampling notes, warnings — double-click opens the column), Columns
(list with small histograms, detail with plots), Associations (heatmaps, values on hover),
Missing values (matrix, nullity correlation), Target (balance, mutual information, leakage,
each feature against the target). Every plot exports as PNG, SVG or PDF from its Export button.

Keeps the panel contract (``app.ui.panels.contract``): ``open_item(DatasetItem)`` profiles
that version with the item's target (else the target stored with the dataset),
``selected_item()`` is the shown version as a ``DatasetItem``; it opens on the current
context's dataset and target, and a pick here updates the context.

Signals: ``profile_loaded(object)`` (the ``Profile``), ``column_selected(str)``, and the
contract's four.
Messages: ``ModelDeskError``s go to the ``MessageBar``; anything else opens the error dialog.
Settings: ``explore_panel/tab``.

``python -m app.ui.panels.explore_panel [--store URL]`` opens the panel alone.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QSettings, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.ui.items import DatasetItem
from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs
from app.ui.panels.explore_jobs import export_report, list_versions, profile_version
from app.ui.widgets.error_dialog import show_unexpected_error
from app.ui.widgets.job_progress import JobProgressList
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.core.datasets import DatasetService, DatasetVersion
    from app.core.profiling import Profile, ProfileService
    from app.jobs.runner import JobRunner
    from app.ui.context import CurrentContext

NO_TARGET = "(no target)"


class ExplorePanel(QWidget):
    open_requested = Signal(str, object)
    item_menu_requested = Signal(object, QPoint)
    item_activated = Signal(object)
    selection_changed = Signal(object)  # DatasetItem or None
    profile_loaded = Signal(object)
    column_selected = Signal(str)

    TAB_KEY = "explore_panel/tab"

    def __init__(
        self,
        *,
        profiles: ProfileService,
        datasets: DatasetService,
        runner: JobRunner,
        context: CurrentContext | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel-explore")
        self._profiles, self._datasets, self._runner = profiles, datasets, runner
        self._profiled_targets: dict[int, str] = {}  # version id → its cached profile's target
        self._context = context
        self._jobs = PanelJobs(
            self, runner, on_failed=self._on_job_failed, on_cancelled=self._on_job_cancelled
        )
        self._versions: list[DatasetVersion] = []
        self._profile_slot = JobSlot(self._jobs)
        self._list_slot = JobSlot(self._jobs)
        self._pending: DatasetItem | None = None  # opened before the list arrived
        self.profile: Profile | None = None
        self._views: Any = None  # built on the first profile (they import matplotlib)

        self.messages = MessageBar()
        self.dataset_combo = QComboBox()
        self.dataset_combo.setObjectName("explore-dataset")
        self.dataset_combo.setAccessibleName("Dataset")
        self.dataset_combo.setMinimumContentsLength(24)
        self.target_combo = QComboBox()
        self.target_combo.setObjectName("explore-target")
        self.target_combo.setAccessibleName("Target column")
        self.target_combo.setMinimumContentsLength(16)
        self.refresh_button = QToolButton()
        self.refresh_button.setText("Reload list")
        self.refresh_button.setToolTip("Read the list of datasets again")
        self.profile_button = QPushButton("Profile")
        self.profile_button.setToolTip("Compute the profile again, even if it is stored")
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Report as HTML…", lambda: self.export_dialog("html"))
        menu.addAction("Profile as JSON…", lambda: self.export_dialog("json"))
        self.export_button.setMenu(menu)
        self.export_button.setEnabled(False)
        self.status = QLabel("")
        self.status.setEnabled(False)
        self.jobs = JobProgressList()

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Dataset:"))
        bar.addWidget(self.dataset_combo, 2)
        bar.addWidget(self.refresh_button)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Target:"))
        bar.addWidget(self.target_combo, 1)
        bar.addWidget(self.profile_button)
        bar.addWidget(self.export_button)
        bar.addStretch(0)
        self.empty = QLabel(
            "Add a dataset on the Data panel, then pick it here to see its profile."
        )
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.messages)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.jobs)
        layout.addWidget(self.stack, 1)

        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_combo_changed)
        self.target_combo.currentIndexChanged.connect(self._on_target_combo_changed)
        self.refresh_button.clicked.connect(self.reload_datasets)
        self.profile_button.clicked.connect(self._on_profile_button_clicked)

    # -- public API --------------------------------------------------------------------------

    def reload_datasets(self) -> None:
        """Read the dataset list again (keeps the current choice when it still exists)."""
        self._list_slot.start(
            list_versions, self._datasets, self._profiles, name="List datasets",
            done=self._on_versions_listed,
        )  # fmt: skip

    def open_item(self, item: object) -> None:
        """Profile a dataset version (a ``DatasetItem``) with its target, or the stored one."""
        if not isinstance(item, DatasetItem):
            return
        if any(v.ref == item.ref for v in self._versions) and not self._list_slot.busy:
            self.show_dataset(item.ref, item.target)
        else:  # not listed yet (just added, or the panel was just built): after the list
            self._pending = item
            self.reload_datasets()

    def selected_item(self) -> DatasetItem | None:
        version = self.selected_version()
        if version is None:
            return None
        return DatasetItem(version.name, version.version, self.selected_target())

    def default_target(self, version: DatasetVersion) -> str | None:
        """The stored target, else the target of the version's newest cached profile."""
        return version.target or self._profiled_targets.get(version.id)

    def selected_version(self) -> DatasetVersion | None:
        i = self.dataset_combo.currentIndex()
        return self._versions[i] if 0 <= i < len(self._versions) else None

    def selected_target(self) -> str | None:
        text = self.target_combo.currentText()
        return None if not text or text == NO_TARGET else text

    def show_dataset(self, ref: str, target: str | None = None) -> None:
        """Pick ``ref`` (name@version) and optionally a target; profiles it."""
        for i, v in enumerate(self._versions):
            if v.ref == ref:
                with QSignalBlocker(self.dataset_combo):
                    self.dataset_combo.setCurrentIndex(i)
                self._fill_targets(v, target)
                self._picked()
                self.start_profile()
                return
        self.messages.error(
            f"No dataset {ref} in the list.", hint="Press Reload list after adding it."
        )

    def start_profile(self, *, refresh: bool = False) -> JobBridge | None:
        """Profile the selected version with the selected target (cancels a running one)."""
        version = self.selected_version()
        if version is None:
            return None
        from app.core.profiling import ProfileSettings

        self.messages.clear()
        settings = ProfileSettings(target=self.selected_target())
        title = f"Profiling {version.ref}" + (
            f" (target {settings.target})" if settings.target else ""
        )
        bridge = self._profile_slot.start(
            profile_version,
            self._profiles,
            version,
            settings,
            refresh,
            name=title,
            done=self._on_profile_done,
            title=title,
        )
        self.jobs.add(bridge, title)
        self.status.setText(f"{title}…")
        return bridge

    def export_dialog(self, kind: str) -> None:
        if self.profile is None:
            return
        suffix = ".html" if kind == "html" else ".json"
        start = str(Path.home() / f"{self.profile.ref.replace('@', '_v')}-profile{suffix}")
        filt = "HTML report (*.html)" if kind == "html" else "JSON (*.json)"
        path, _ = QFileDialog.getSaveFileName(self, "Export profile", start, filt)
        if path:
            self.export(path, kind)

    def export(self, path: str, kind: str = "html") -> JobBridge | None:
        if self.profile is None:
            return None
        return self._jobs.start(
            export_report,
            self._profiles,
            self.profile,
            path,
            kind,
            name=f"Export {kind.upper()}",
            done=self._on_exported,
        )

    def views(self) -> Any:
        """The tab views (built on the first profile); None before."""
        return self._views

    def close_jobs(self) -> None:
        self._jobs.close()

    def save_settings(self, settings: QSettings) -> None:
        if self._views is not None:
            settings.setValue(self.TAB_KEY, self._views.tabs.currentIndex())

    def restore_settings(self, settings: QSettings) -> None:
        self._restore_tab = int(settings.value(self.TAB_KEY, 0) or 0)

    # -- Qt events ---------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Each time the panel comes into view, read the list again (datasets may have been
        # added on the Data panel meanwhile); the current choice is kept when it still exists.
        if not self._list_slot.busy:
            self.reload_datasets()

    # -- jobs --------------------------------------------------------------------------------

    def _picked(self) -> None:
        """The person's choice is the current context (and what the menus act on)."""
        item = self.selected_item()
        if item is not None and self._context is not None:
            self._context.update(dataset=item.name, version=item.version, target=item.target)
        self.selection_changed.emit(item)

    def _fill_targets(self, version: DatasetVersion, target: str | None = None) -> None:
        """The version's columns; ``target``, else the target stored with the dataset, else
        the one its cached profile was made with."""
        target = target or self.default_target(version)
        with QSignalBlocker(self.target_combo):
            self.target_combo.clear()
            self.target_combo.addItem(NO_TARGET)
            for col in version.schema:
                self.target_combo.addItem(col.name)
                if col.role == "identifier":
                    i = self.target_combo.count() - 1
                    self.target_combo.setItemData(
                        i, "An identifier cannot be a target", Qt.ItemDataRole.ToolTipRole
                    )
            index = self.target_combo.findText(target) if target else 0
            self.target_combo.setCurrentIndex(max(index, 0))

    def _ensure_views(self) -> Any:
        if self._views is None:
            from app.ui.panels.explore_columns import ColumnsView
            from app.ui.panels.explore_target import TargetView
            from app.ui.panels.explore_views import AssociationsView, MissingView, OverviewView

            views = _Views(
                OverviewView(), ColumnsView(), AssociationsView(), MissingView(), TargetView()
            )
            views.tabs.currentChanged.connect(self._on_tabs_current_changed)
            views.overview.column_activated.connect(self._on_column_activated)
            views.associations.column_activated.connect(self._on_column_activated)
            views.target.column_activated.connect(self._on_column_activated)
            views.columns.column_selected.connect(self.column_selected)
            self.stack.addWidget(views.tabs)
            tab = getattr(self, "_restore_tab", 0)
            if 0 <= tab < views.tabs.count():
                views.tabs.setCurrentIndex(tab)
            self._views = views
        return self._views

    def show_profile(self, profile: Profile) -> None:
        views = self._ensure_views()
        doc = profile.document
        self.profile = profile
        views.overview.set_profile(doc, cached=profile.cached, seconds=profile.seconds)
        views.columns.set_profile(doc["columns"], doc.get("warnings", []))
        views.associations.set_profile(doc)
        views.missing.set_profile(doc)
        views.target.set_profile(doc)
        n = len(doc.get("warnings", []))
        views.tabs.setTabText(0, f"Overview ({n} warning{'s' if n != 1 else ''})")
        views.tabs.setTabEnabled(4, bool(doc.get("target")))
        self.stack.setCurrentWidget(views.tabs)
        self.export_button.setEnabled(True)
        how = "read from the store" if profile.cached else f"computed in {profile.seconds:.1f} s"
        target = doc.get("target")
        self.status.setText(
            f"{profile.ref}: {doc['overview']['rows']:,} rows × "
            f"{doc['overview']['columns']} columns, profile {how}"
            + (f", target {target['column']} ({target['task']})" if target else "")
            + "."
        )
        self._draw_current()
        self.profile_loaded.emit(profile)

    def _draw_current(self) -> None:
        views = self._views
        if views is None:
            return
        current = views.tabs.currentWidget()
        ensure = getattr(current, "ensure_drawn", None)
        if ensure is not None:
            ensure()

    # -- slots -------------------------------------------------------------------------------

    def _on_versions_listed(self, bridge: JobBridge, listed: tuple[list, dict]) -> None:
        versions, self._profiled_targets = listed
        current = self.selected_version()
        self._versions = list(versions)
        wanted, self._pending = self._pending, None
        if wanted is None and self._context is not None and self._context.dataset_ref:
            state = self._context.state  # the current context: what the person picked last
            wanted = DatasetItem(state.dataset, state.version, state.target)
        with QSignalBlocker(self.dataset_combo):
            self.dataset_combo.clear()
            for v in self._versions:
                self.dataset_combo.addItem(f"{v.ref}  ({v.rows:,} × {v.cols})", v.id)
            index = self.dataset_combo.findData(current.id) if current else -1
            self.dataset_combo.setCurrentIndex(index if index >= 0 else (0 if versions else -1))
        if not versions:
            self.stack.setCurrentWidget(self.empty)
            return
        shown = (self.selected_version(), self.selected_target())
        if wanted is not None and any(v.ref == wanted.ref for v in versions):
            refs = (current.ref if current else None, self.selected_target())
            target = wanted.target or self.default_target(
                next(v for v in versions if v.ref == wanted.ref)
            )
            if refs != (wanted.ref, target) or current is None:
                self.show_dataset(wanted.ref, target)
            return
        if current is None or shown[0].id != current.id:
            self._on_dataset_combo_changed(self.dataset_combo.currentIndex())

    def _on_dataset_combo_changed(self, index: int) -> None:
        version = self.selected_version()
        if version is None:
            return
        self._fill_targets(version)
        self._picked()
        self.start_profile()

    def _on_target_combo_changed(self, _index: int) -> None:
        self._picked()
        self.start_profile()

    def _on_profile_button_clicked(self) -> None:
        self.start_profile(refresh=True)

    def _on_profile_done(self, bridge: JobBridge, profile: Profile) -> None:
        self.show_profile(profile)  # the slot drops a result a newer choice made stale

    def _on_exported(self, _bridge: JobBridge, path: Path) -> None:
        size = Path(path).stat().st_size if Path(path).exists() else 0
        self.messages.info(f"Exported the profile to {path} ({size / 1e6:.2f} MB).")

    def _on_job_failed(self, bridge: JobBridge, error: BaseException, tb: str) -> None:
        current = self._profile_slot.is_current(bridge)
        if bridge.context.get("title") and not current:
            return  # a stale profile job's failure is not news
        if current:
            self.status.setText("")
        if isinstance(error, ModelDeskError):
            self.messages.show_error(error)
        else:
            show_unexpected_error(error, tb, self)

    def _on_job_cancelled(self, bridge: JobBridge) -> None:
        if self._profile_slot.is_current(bridge):
            self.status.setText("Profiling cancelled; nothing was stored.")

    def _on_tabs_current_changed(self, _index: int) -> None:
        self._draw_current()

    def _on_column_activated(self, name: str) -> None:
        views = self._views
        if views is None:
            return
        views.tabs.setCurrentWidget(views.columns)
        views.columns.select(name)


class _Views:
    """The tabs and their views, made together on the first profile."""

    def __init__(
        self, overview: Any, columns: Any, associations: Any, missing: Any, target: Any
    ) -> None:
        self.overview, self.columns = overview, columns
        self.associations, self.missing, self.target = associations, missing, target
        self.tabs = QTabWidget()
        self.tabs.setObjectName("explore-tabs")
        self.tabs.addTab(overview, "Overview")
        self.tabs.addTab(columns, "Columns")
        self.tabs.addTab(associations, "Associations")
        self.tabs.addTab(missing, "Missing values")
        self.tabs.addTab(target, "Target")


def build_panel(services: Any, runner: JobRunner, context: CurrentContext | None = None) -> QWidget:
    """The window's and ``open_alone``'s entry point (``PanelSpec.module``)."""
    return ExplorePanel(
        profiles=services.profiles, datasets=services.datasets, runner=runner, context=context
    )


def main(argv: list[str] | None = None) -> int:
    """Open the Explore panel alone against the default store (or ``--store URL``)."""
    from app.ui.panels.standalone import open_alone

    return open_alone("explore", argv, size=(1280, 820))


if __name__ == "__main__":
    sys.exit(main())
