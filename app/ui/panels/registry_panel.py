"""The Registry panel: models, their versions, aliases under the promotion policy, lineage,
model cards, audit history, compare, archive/restore, export and import.

Contract
--------
Services: ``registry`` (``RegistryService``) and ``runner`` (``JobRunner``). Every service
call is a job on the runner (bodies in ``registry_jobs``), delivered on the GUI thread through
``PanelJobs``; a detail result carries its request number and is dropped when a newer
selection was made.

Signals: ``version_selected(object)`` (a ``ModelVersion``), ``open_requested(str, object)``
(panel key, the key that panel opens: emitted by a click on a lineage node),
``registry_changed()`` and the contract's four (items are ``ModelVersionItem``s).
``open_item(item)`` opens the version another panel asked for. Operations the window's menus
call: ``set_alias``, ``promote``, ``show_card``, ``export_model``, ``import_model``.

Moving an alias: the button (or dropping an alias from the alias list onto a version row)
runs the policy; a refusal opens ``ReasonDialog`` with the reasons, and a written reason
forces the move (logged). Import asks, in ``TrustDialog``, to trust each type skops lists.

Parts: ``registry_versions`` (versions table model and view, alias list), ``registry_detail``
(the tabs), ``registry_lineage`` (the graph), ``registry_dialogs``, ``registry_aliases`` (alias
moves under the policy) and ``registry_files`` (export, model card, import).

``python -m app.ui.panels.registry_panel [--store URL]`` opens the panel alone.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPoint, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.ui.items import ModelVersionItem
from app.ui.job_bridge import JobSlot, PanelJobs
from app.ui.panels.registry_aliases import RegistryAliasesMixin
from app.ui.panels.registry_detail import CARD_FIELDS, VersionDetail
from app.ui.panels.registry_dialogs import ReasonDialog, TrustDialog
from app.ui.panels.registry_files import RegistryFilesMixin
from app.ui.panels.registry_jobs import (
    call,
    find_version,
    load_detail,
    load_model_versions,
)
from app.ui.panels.registry_versions import ALIAS_MIME, AliasList, VersionsView
from app.ui.widgets.error_dialog import show_unexpected_error
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.jobs.runner import JobRunner
    from app.ui.context import CurrentContext

__all__ = ["ALIAS_MIME", "CARD_FIELDS", "RegistryPanel", "build_panel"]

SEARCH_DELAY_MS = 200


class RegistryPanel(RegistryAliasesMixin, RegistryFilesMixin, QWidget):
    version_selected = Signal(object)
    open_requested = Signal(str, object)  # (panel key, item)
    item_menu_requested = Signal(object, QPoint)  # (ModelVersionItem, global position)
    item_activated = Signal(object)
    selection_changed = Signal(object)  # ModelVersionItem or None
    registry_changed = Signal()

    def __init__(
        self,
        *,
        registry: Any,
        runner: JobRunner,
        context: CurrentContext | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("panel-registry")
        self._registry, self._runner = registry, runner
        self._context = context
        self._jobs = PanelJobs(
            self, runner, on_failed=lambda _b, error, tb: self._on_error(error, tb)
        )
        self._detail_slot, self._versions_slot = JobSlot(self._jobs), JobSlot(self._jobs)
        self.alias_dialog: QInputDialog | None = None
        self._model: str | None = None
        #: (model, version) asked for by ``select`` and not shown yet
        self._pending: tuple[str, int] | None = None
        self.reason_dialog: ReasonDialog | None = None
        self.trust_dialog: TrustDialog | None = None
        self.last_export: dict[str, Any] | None = None

        self.messages = MessageBar()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search models")
        self.search.setClearButtonEnabled(True)
        self.models = QListWidget()
        self.models.setAccessibleName("Models")
        self.versions = VersionsView()
        self.aliases = AliasList()
        self.alias_box = QComboBox()
        self.alias_box.setEditable(True)
        self.alias_box.addItems(["champion", "challenger"])
        self.alias_button = QPushButton("Set alias")
        self.archive_button = QPushButton("Archive")
        self.restore_button = QPushButton("Restore")
        self.compare_button = QPushButton("Compare")
        self.file_button = QToolButton()
        self.file_button.setText("File")
        self.file_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.file_button)
        self.export_skops_action = menu.addAction("Export as skops…", lambda: self._export("skops"))
        self.export_onnx_action = menu.addAction("Export as ONNX…", lambda: self._export("onnx"))
        self.card_action = menu.addAction("Save model card…", self._save_card)
        self.import_action = menu.addAction("Import a skops file…", self._choose_import)
        self.file_button.setMenu(menu)

        self.detail = self.tabs = VersionDetail()
        # the tabs' parts, by the names tests and the main window use
        self.signature, self.metrics, self.card = (
            self.detail.signature,
            self.detail.metrics,
            self.detail.card,
        )
        self.lineage, self.audit, self.compare = (
            self.detail.lineage,
            self.detail.audit,
            self.detail.compare,
        )
        self._build_layout()

        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._search_timer.start)
        self.models.currentItemChanged.connect(self._on_models_current_changed)
        self.versions.selectionModel().selectionChanged.connect(self._on_versions_selection_changed)
        self.versions.alias_dropped.connect(self._on_versions_alias_dropped)
        self.alias_button.clicked.connect(self._on_alias_button_clicked)
        self.archive_button.clicked.connect(lambda: self._set_status("archive"))
        self.restore_button.clicked.connect(lambda: self._set_status("restore"))
        self.compare_button.clicked.connect(self._on_compare_clicked)
        self.detail.card_save_requested.connect(self._on_card_save_requested)
        self.lineage.node_clicked.connect(self.open_requested)
        self.versions.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.versions.customContextMenuRequested.connect(self._on_versions_context_menu)
        self.versions.activated.connect(self._on_versions_activated)
        self._update_buttons()
        self.refresh()

    def _build_layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.models)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        for w in (
            self.alias_box,
            self.alias_button,
            self.archive_button,
            self.restore_button,
            self.compare_button,
            self.file_button,
        ):
            bar.addWidget(w)
        bar.addStretch(1)
        right_layout.addLayout(bar)
        right_layout.addWidget(QLabel("Aliases (drag one onto a version):"))
        right_layout.addWidget(self.aliases)
        right_layout.addWidget(self.versions, 1)
        right_layout.addWidget(self.detail, 2)
        self.splitter = splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messages)
        layout.addWidget(splitter)

    # -- public ------------------------------------------------------------------------------

    def refresh(self) -> None:
        self._jobs.start(
            call,
            self._registry.list_models,
            self.search.text(),
            name="List models",
            done=lambda _b, models: self._show_models(models),
        )

    def open_item(self, item: Any) -> None:
        """Show the version another panel or a menu points at; other kinds are ignored."""
        if isinstance(item, ModelVersionItem):
            self.show_version(item.ref)

    def selected_item(self) -> ModelVersionItem | None:
        chosen = self.selected_versions()
        if len(chosen) != 1 or self._model is None:
            return None
        return ModelVersionItem(self._model, chosen[0])

    # -- operations (the window's menus and context menus call these) -------------------------

    def show_card(self, name: str, version: int) -> None:
        self.show_version(f"{name}@{version}")
        self._show_card_tab()

    def _show_card_tab(self) -> None:
        for index in range(self.detail.count()):
            page = self.detail.widget(index)
            if page is self.card or page.isAncestorOf(self.card):
                self.detail.setCurrentIndex(index)

    def show_version(self, ref: object) -> None:
        """Show the version ``ref`` names (``"name@3"``, ``"name@alias"``, a version id):
        another panel asked to open it. An unknown ref is said in the message bar."""
        self._jobs.start(
            find_version,
            self._registry,
            ref,
            name="Find model version",
            done=lambda _b, version: self._select_found(version),
        )

    def select_model(self, name: str) -> bool:
        items = self.models.findItems(name, Qt.MatchFlag.MatchExactly)
        if items:
            self.models.setCurrentItem(items[0])
        return bool(items)

    def select_version(self, version: int) -> bool:
        return self.versions.select_version(version)

    def selected_versions(self) -> list[int]:
        return self.versions.selected_versions()

    def current_model(self) -> str | None:
        return self._model

    SPLITTER_KEY = "registry_panel/splitter"

    def save_settings(self, settings: Any) -> None:
        settings.setValue(self.SPLITTER_KEY, self.splitter.saveState())

    def restore_settings(self, settings: Any) -> None:
        state = settings.value(self.SPLITTER_KEY)
        if state is not None:
            self.splitter.restoreState(state)

    def close_jobs(self) -> None:
        self._jobs.close()

    # -- showing -----------------------------------------------------------------------------

    def _select_found(self, version: Any) -> None:
        name = version.model_name
        self._pending = (name, version.version)
        if self._model == name:
            if self.select_version(version.version):
                self._pending = None
            else:  # a version registered since the table was filled
                self._load_versions(name)
            return
        if self.select_model(name):
            return  # the model's versions load, then _show_versions selects the pending one
        if self.search.text():
            with QSignalBlocker(self.search):
                self.search.clear()  # the model is hidden by the search: show all again
        self.refresh()

    def _show_models(self, models: list[Any]) -> None:
        current = self._pending[0] if self._pending else self._model
        with QSignalBlocker(self.models):
            self.models.clear()
            for m in models:
                item = QListWidgetItem(m.name)
                tip = ", ".join(f"{a}={n}" for a, n in m.aliases.items())
                item.setToolTip(f"{m.versions} versions" + (f"; {tip}" if tip else ""))
                self.models.addItem(item)
        if current and self.models.findItems(current, Qt.MatchFlag.MatchExactly):
            if current != self._model:
                self.select_model(current)  # signals on: loads its versions
                return
            with QSignalBlocker(self.models):
                self.select_model(current)
            self._load_versions(current)
        elif self.models.count():
            self.models.setCurrentRow(0)
        else:
            self._on_models_current_changed(None, None)

    def _load_versions(self, name: str) -> None:
        self._versions_slot.start(
            load_model_versions,
            self._registry,
            name,
            name=f"Versions of {name}",
            done=lambda _b, result: self._show_versions(name, result),
        )

    def _show_versions(self, name: str, result: dict[str, Any]) -> None:
        if name != self._model:
            return  # a newer model was chosen meanwhile
        selected = self.selected_versions()
        if self._pending and self._pending[0] == name:
            selected, self._pending = [self._pending[1]], None
        with QSignalBlocker(self.versions.selectionModel()):
            self.versions.model().set_versions(result["versions"])
            self.aliases.clear()
            for alias, number in result["model"].aliases.items():
                item = QListWidgetItem(f"{alias} → {number}")
                item.setData(Qt.ItemDataRole.UserRole, alias)
                self.aliases.addItem(item)
        for version in selected:
            self.select_version(version)
        if not self.selected_versions() and result["versions"]:
            self.versions.selectRow(0)
        self._update_buttons()

    def _load_detail(self, version: int) -> None:
        self._detail_slot.start(
            load_detail,
            self._registry,
            f"{self._model}@{version}",
            name="Version detail",
            done=lambda _b, detail: self._show_detail(detail),
        )

    def _show_detail(self, detail: dict[str, Any]) -> None:
        self.detail.show_detail(detail)
        self.version_selected.emit(detail["version"])

    def _update_buttons(self) -> None:
        chosen = self.selected_versions()
        one = len(chosen) == 1
        model = self.versions.model()
        row = model.row_of(chosen[0]) if one else None
        status = model.version_at(row).status if row is not None else None
        self.alias_button.setEnabled(one and status == "active")
        self.archive_button.setEnabled(one and status == "active")
        self.restore_button.setEnabled(one and status == "archived")
        self.compare_button.setEnabled(len(chosen) == 2)
        for action in (self.export_skops_action, self.export_onnx_action, self.card_action):
            action.setEnabled(one)

    def _chosen_ref(self) -> str | None:
        chosen = self.selected_versions()
        if len(chosen) != 1 or self._model is None:
            return None
        return f"{self._model}@{chosen[0]}"

    # -- slots -------------------------------------------------------------------------------

    def _on_models_current_changed(self, current: QListWidgetItem | None, _previous: Any) -> None:
        self._model = current.text() if current else None
        with QSignalBlocker(self.versions.selectionModel()):
            self.versions.model().set_versions([])
        self.aliases.clear()
        if self._model:
            self._load_versions(self._model)
        self._update_buttons()

    def _on_versions_selection_changed(self, *_args: Any) -> None:
        self._update_buttons()
        chosen = self.selected_versions()
        if len(chosen) == 1:
            self._load_detail(chosen[0])
        item = self.selected_item()
        if item is not None and self._context is not None:
            self._context.update(model=item.name, model_version=item.version)
        self.selection_changed.emit(item)

    def _item_at(self, index: QModelIndex) -> ModelVersionItem | None:
        version = self.versions.version_at(index.row()) if index.isValid() else None
        if version is None or self._model is None:
            return None
        return ModelVersionItem(self._model, version)

    def _on_versions_context_menu(self, pos: QPoint) -> None:
        index = self.versions.indexAt(pos)
        item = self._item_at(index)
        if item is None:
            return
        if not self.versions.selectionModel().isRowSelected(index.row(), QModelIndex()):
            self.versions.selectRow(index.row())
        self.item_menu_requested.emit(item, self.versions.viewport().mapToGlobal(pos))

    def _on_versions_activated(self, index: QModelIndex) -> None:
        item = self._item_at(index)
        if item is not None:
            self.item_activated.emit(item)

    def _set_status(self, action: str) -> None:
        ref = self._chosen_ref()
        if ref is None:
            return
        fn = self._registry.archive if action == "archive" else self._registry.restore
        self._jobs.start(
            call,
            fn,
            ref,
            name=action.title(),
            done=lambda _b, _v: (self.registry_changed.emit(), self.refresh()),
        )

    def _on_compare_clicked(self) -> None:
        model = self.versions.model()
        rows = [model.row_of(v) for v in self.selected_versions()]
        if len(rows) != 2 or None in rows:
            return
        self.detail.show_compare(*(model.version_at(r) for r in rows))  # type: ignore[arg-type]

    def _on_card_save_requested(self, field: str, text: str) -> None:
        ref = self._chosen_ref()
        if ref is None:
            return
        version = self.selected_versions()[0]
        self._jobs.start(
            lambda progress: self._registry.update_version(ref, card={field: text}),
            name="Save card field",
            done=lambda _b, _v: self._load_detail(version),
        )

    # -- files -------------------------------------------------------------------------------

    # -- errors ------------------------------------------------------------------------------

    def _on_error(self, error: BaseException, tb: str) -> None:
        if isinstance(error, ModelDeskError):
            self.messages.show_error(error)
        else:
            show_unexpected_error(error, tb, self)


def build_panel(services: Any, runner: JobRunner, context: CurrentContext | None = None) -> QWidget:
    """The window's and ``open_alone``'s entry point (``PanelSpec.module``)."""
    panel = RegistryPanel(registry=services.registry, runner=runner, context=context)
    if context is not None and context.model and context.model_version:
        panel.open_item(ModelVersionItem(context.model, context.model_version))
    return panel


def main(argv: list[str] | None = None) -> int:
    from app.ui.panels.standalone import open_alone

    return open_alone("registry", argv)


if __name__ == "__main__":
    sys.exit(main())
