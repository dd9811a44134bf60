"""The Registry panel: models, their versions, aliases under the promotion policy, lineage,
model cards, audit history, compare, archive/restore, export and import.

Contract
--------
Services: ``registry`` (``RegistryService``) and ``runner`` (``JobRunner``). Every service
call is a job on the runner, delivered on the GUI thread through ``PanelJobs``; a detail
result carries its request number and is dropped when a newer selection was made.

Signals: ``version_selected(object)`` (a ``ModelVersion`` or None), ``open_requested(str,
object)`` (panel key, the key that panel opens: emitted by a click on a lineage node),
``registry_changed()``.
Moving an alias: the button (or dropping an alias from the alias list onto a version row)
runs the policy; a refusal opens ``ReasonDialog`` with the reasons, and a written reason
forces the move (logged). Import asks, in ``TrustDialog``, to trust each type skops lists.

``python -m app.ui.panels.registry_panel [--store URL]`` opens the panel alone.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QDrag, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError, PolicyRefused
from app.ui.job_bridge import PanelJobs
from app.ui.widgets.error_dialog import show_unexpected_error
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.jobs.runner import JobRunner

ALIAS_MIME = "application/x-modeldesk-alias"
SEARCH_DELAY_MS = 200
CARD_FIELDS = ("intended_use", "out_of_scope", "limitations", "ethical_considerations", "owner")


# -- job bodies (worker threads; plain functions of their inputs) -------------------------------


def _call(fn: Any, *args: Any, progress: Any, **kwargs: Any) -> Any:
    progress.check_cancelled()
    return fn(*args, **kwargs)


def load_detail(registry: Any, ref: str, *, progress: Any) -> dict[str, Any]:
    progress.check_cancelled()
    version = registry.resolve(ref)
    return {
        "version": version,
        "lineage": registry.lineage(version.ref),
        "audit": registry.audit_log(version.ref),
        "card": registry.card_html(version.ref),
        "policy": registry.policy_of(version.model_name),
    }


def load_model_versions(registry: Any, name: str, *, progress: Any) -> dict[str, Any]:
    progress.check_cancelled()
    return {"model": registry.get_model(name), "versions": registry.list_versions(name)}


def move_alias(
    registry: Any, name: str, alias: str, version: int, force: bool, reason: str, *, progress: Any
):
    progress.check_cancelled()
    return registry.set_alias(name, alias, version, force=force, reason=reason)


# -- dialogs -----------------------------------------------------------------------------------


class ReasonDialog(QDialog):
    """Shows why the policy refused a move and asks for a written reason to force it."""

    def __init__(self, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Promotion refused by the policy")
        self.message = QLabel(message)
        self.message.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("Why force it? This goes into the audit log.")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.force_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.force_button.setText("Force with this reason")
        self.force_button.setEnabled(False)
        self.reason.textChanged.connect(self._on_reason_changed)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)

    def _on_reason_changed(self) -> None:
        self.force_button.setEnabled(bool(self.reason.toPlainText().strip()))


class TrustDialog(QDialog):
    """Each type skops would construct from an outside file, to be ticked one by one."""

    def __init__(self, path: str, types: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Trust the types in this model file?")
        layout = QVBoxLayout(self)
        text = QLabel(
            f"{path} would construct these types, which are not trusted by default. "
            "Only tick them if you know where the file came from."
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.boxes = [QCheckBox(t) for t in types]
        for box in self.boxes:
            layout.addWidget(box)
        self.name = QLineEdit()
        form = QFormLayout()
        form.addRow("Register as model", self.name)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def trusted(self) -> list[str]:
        return [b.text() for b in self.boxes if b.isChecked()]


# -- widgets -----------------------------------------------------------------------------------


class AliasList(QListWidget):
    """The model's aliases; drag one onto a version row to move it there."""

    def __init__(self) -> None:
        super().__init__()
        self.setDragEnabled(True)
        self.setMaximumHeight(90)

    def startDrag(self, _actions: Any) -> None:
        item = self.currentItem()
        if item is None:
            return
        mime = QMimeData()
        mime.setData(ALIAS_MIME, item.data(Qt.ItemDataRole.UserRole).encode())
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.MoveAction)


class VersionsTable(QTableWidget):
    alias_dropped = Signal(str, int)  # alias, version

    HEADERS = ("Version", "Status", "Aliases", "Metric", "Run", "Created")

    def __init__(self) -> None:
        super().__init__(0, len(self.HEADERS))
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.verticalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)

    def version_at(self, row: int) -> int | None:
        item = self.item(row, 0)
        return int(item.text()) if item else None

    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(ALIAS_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(ALIAS_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        if not event.mimeData().hasFormat(ALIAS_MIME):
            return
        row = self.rowAt(int(event.position().y()))
        version = self.version_at(row) if row >= 0 else None
        if version is None:
            return
        alias = bytes(event.mimeData().data(ALIAS_MIME)).decode()
        event.acceptProposedAction()
        self.alias_dropped.emit(alias, version)


class LineageNode(QGraphicsRectItem):
    def __init__(self, node: dict[str, Any], on_click: Any) -> None:
        super().__init__(0, 0, 170, 44)
        self.node, self._on_click = node, on_click
        colors = {"dataset_version": "#e3f2fd", "run": "#fff3e0", "model_version": "#e8f5e9"}
        self.setBrush(QBrush(QColor(colors.get(node["kind"], "#f3e5f5"))))
        self.setPen(QPen(QColor("#888")))
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{node['kind'].replace('_', ' ')}: {node['label']} (click to open)")
        kind = QGraphicsSimpleTextItem(node["kind"].replace("_", " "), self)
        kind.setPos(6, 3)
        kind.setBrush(QBrush(QColor("#666")))
        label = QGraphicsSimpleTextItem(node["label"][:26], self)
        label.setPos(6, 22)

    def mousePressEvent(self, event: Any) -> None:
        self._on_click(self.node)
        event.accept()


class LineageView(QGraphicsView):
    node_clicked = Signal(str, object)  # panel key, key

    COLUMNS = ("dataset_version", "study", "run", "model_version", "image", "deployment")

    def __init__(self) -> None:
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self.nodes: dict[str, LineageNode] = {}

    def show_graph(self, graph: dict[str, Any]) -> None:
        scene = self.scene()
        scene.clear()
        self.nodes = {}
        rows: dict[str, int] = {}
        for node in graph["nodes"]:
            col = self.COLUMNS.index(node["kind"]) if node["kind"] in self.COLUMNS else 0
            row = rows.get(node["kind"], 0)
            rows[node["kind"]] = row + 1
            item = LineageNode(node, self._on_node_clicked)
            item.setPos(col * 200, row * 64)
            scene.addItem(item)
            self.nodes[node["id"]] = item
        for edge in graph["edges"]:
            a, b = self.nodes.get(edge["from"]), self.nodes.get(edge["to"])
            if a and b:
                line = scene.addLine(
                    a.x() + 170, a.y() + 22, b.x(), b.y() + 22, QPen(QColor("#555"), 1.5)
                )
                line.setZValue(-1)

    def _on_node_clicked(self, node: dict[str, Any]) -> None:
        self.node_clicked.emit(node["panel"], node["key"])


def _table(headers: list[str], rows: list[list[Any]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    _fill(table, rows)
    return table


def _fill(table: QTableWidget, rows: list[list[Any]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = (
                f"{value:.4f}"
                if isinstance(value, float)
                else ("–" if value is None else str(value))
            )
            table.setItem(r, c, QTableWidgetItem(text))


# -- the panel ---------------------------------------------------------------------------------


class RegistryPanel(QWidget):
    version_selected = Signal(object)
    open_requested = Signal(str, object)
    registry_changed = Signal()

    def __init__(self, *, registry: Any, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("panel-registry")
        self._registry, self._runner = registry, runner
        self._jobs = PanelJobs(
            self, runner, on_failed=lambda _b, error, tb: self._on_error(error, tb)
        )
        self._detail_request = 0
        self._model: str | None = None
        self._versions: list[Any] = []
        self.reason_dialog: ReasonDialog | None = None
        self.trust_dialog: TrustDialog | None = None
        self.last_export: dict[str, Any] | None = None

        self.messages = MessageBar()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search models")
        self.search.setClearButtonEnabled(True)
        self.models = QListWidget()
        self.models.setAccessibleName("Models")

        self.versions = VersionsTable()
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
        self.aliases = AliasList()

        self.signature = _table(["Column", "Dtype", "Treatment", "Missing", "Values"], [])
        self.metrics = _table(["Metric", "Value"], [])
        self.card = QTextBrowser()
        self.card_edit = QPlainTextEdit()
        self.card_field = QComboBox()
        self.card_field.addItems(CARD_FIELDS)
        self.card_save = QPushButton("Save field")
        self.lineage = LineageView()
        self.audit = _table(["When", "Who", "Action", "Subject", "Details"], [])
        self.compare = _table(["", "", ""], [])
        self.tabs = QTabWidget()
        card_tab = QWidget()
        card_layout = QVBoxLayout(card_tab)
        card_layout.addWidget(self.card, 3)
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.card_field)
        edit_row.addWidget(self.card_save)
        card_layout.addLayout(edit_row)
        card_layout.addWidget(self.card_edit, 1)
        for widget, title in (
            (self.signature, "Signature"),
            (self.metrics, "Metrics"),
            (card_tab, "Card"),
            (self.lineage, "Lineage"),
            (self.audit, "Audit"),
            (self.compare, "Compare"),
        ):
            self.tabs.addTab(widget, title)

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
        right_layout.addWidget(self.tabs, 2)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messages)
        layout.addWidget(splitter)

        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._search_timer.start)
        self.models.currentItemChanged.connect(self._on_models_current_changed)
        self.versions.itemSelectionChanged.connect(self._on_versions_selection_changed)
        self.versions.alias_dropped.connect(self._on_versions_alias_dropped)
        self.alias_button.clicked.connect(self._on_alias_button_clicked)
        self.archive_button.clicked.connect(lambda: self._set_status("archive"))
        self.restore_button.clicked.connect(lambda: self._set_status("restore"))
        self.compare_button.clicked.connect(self._on_compare_clicked)
        self.card_save.clicked.connect(self._on_card_save_clicked)
        self.lineage.node_clicked.connect(self.open_requested)
        self._update_buttons()
        self.refresh()

    # -- public ------------------------------------------------------------------------------

    def refresh(self) -> None:
        self._jobs.start(
            _call,
            self._registry.list_models,
            self.search.text(),
            name="List models",
            done=lambda _b, models: self._show_models(models),
        )

    def select_model(self, name: str) -> None:
        items = self.models.findItems(name, Qt.MatchFlag.MatchExactly)
        if items:
            self.models.setCurrentItem(items[0])

    def select_version(self, version: int) -> None:
        for row in range(self.versions.rowCount()):
            if self.versions.version_at(row) == version:
                self.versions.selectRow(row)
                return

    def selected_versions(self) -> list[int]:
        rows = sorted({i.row() for i in self.versions.selectedIndexes()})
        return [v for v in (self.versions.version_at(r) for r in rows) if v is not None]

    def request_alias(
        self, alias: str, version: int, *, force: bool = False, reason: str = ""
    ) -> None:
        """Move ``alias`` of the current model to ``version`` (the policy decides)."""
        if self._model is None:
            return
        name = self._model
        bridge = self._jobs.start(
            move_alias,
            self._registry,
            name,
            alias,
            version,
            force,
            reason,
            name=f"Move {alias}",
            done=lambda _b, moved: self._on_alias_moved(moved, alias),
        )
        bridge.failed.disconnect()
        bridge.failed.connect(lambda error, tb: self._on_alias_failed(error, tb, alias, version))

    def close_jobs(self) -> None:
        self._jobs.close()

    # -- showing -----------------------------------------------------------------------------

    def _show_models(self, models: list[Any]) -> None:
        current = self._model
        with QSignalBlocker(self.models):
            self.models.clear()
            for m in models:
                item = QListWidgetItem(m.name)
                tip = ", ".join(f"{a}={n}" for a, n in m.aliases.items())
                item.setToolTip(f"{m.versions} versions" + (f"; {tip}" if tip else ""))
                self.models.addItem(item)
        if current:
            self.select_model(current)
        if self.models.currentItem() is None and self.models.count():
            self.models.setCurrentRow(0)
        elif self.models.currentItem() is not None and current:
            self._load_versions(current)

    def _load_versions(self, name: str) -> None:
        self._jobs.start(
            load_model_versions,
            self._registry,
            name,
            name=f"Versions of {name}",
            done=lambda _b, result: self._show_versions(name, result),
        )

    def _show_versions(self, name: str, result: dict[str, Any]) -> None:
        if name != self._model:
            return  # a newer model was chosen meanwhile
        from app.core.training.metrics import PRIMARY

        selected = self.selected_versions()
        self._versions = result["versions"]
        with QSignalBlocker(self.versions):
            self.versions.setRowCount(0)
            for v in self._versions:
                key = PRIMARY.get(v.task or "", "")
                metric = v.metrics.get(key)
                row = self.versions.rowCount()
                self.versions.insertRow(row)
                for col, text in enumerate(
                    (
                        str(v.version),
                        v.status,
                        ", ".join(v.aliases),
                        f"{key} {metric:.4f}" if metric is not None else "–",
                        str(v.run_id or "import"),
                        f"{v.created_at:%Y-%m-%d %H:%M}",
                    )
                ):
                    self.versions.setItem(row, col, QTableWidgetItem(text))
            self.aliases.clear()
            for alias, number in result["model"].aliases.items():
                item = QListWidgetItem(f"{alias} → {number}")
                item.setData(Qt.ItemDataRole.UserRole, alias)
                self.aliases.addItem(item)
        for version in selected:
            self.select_version(version)
        if not self.selected_versions() and self._versions:
            self.versions.selectRow(0)
        self._update_buttons()

    def _load_detail(self, version: int) -> None:
        self._detail_request += 1
        request = self._detail_request
        self._jobs.start(
            load_detail,
            self._registry,
            f"{self._model}@{version}",
            name="Version detail",
            done=lambda _b, detail: self._show_detail(request, detail),
        )

    def _show_detail(self, request: int, detail: dict[str, Any]) -> None:
        if request != self._detail_request:
            return
        v = detail["version"]
        _fill(
            self.signature,
            [
                [
                    c["name"],
                    c.get("dtype"),
                    c.get("treatment"),
                    c.get("missing"),
                    ", ".join(c["categories"][:8])
                    if c.get("categories")
                    else (f"{c['min']:.4g} … {c['max']:.4g}" if "min" in c else ""),
                ]
                for c in v.signature.get("columns", [])
            ],
        )
        _fill(self.metrics, [[k, val] for k, val in sorted(v.metrics.items())])
        self.card.setHtml(detail["card"])
        self.card_edit.setPlainText(v.card.get(self.card_field.currentText(), ""))
        self.lineage.show_graph(detail["lineage"])
        _fill(
            self.audit,
            [
                [
                    e.at[:19],
                    e.actor,
                    e.action,
                    e.subject,
                    ", ".join(f"{k}={x}" for k, x in e.details.items() if k != "policy"),
                ]
                for e in detail["audit"]
            ],
        )
        self.version_selected.emit(v)

    def _update_buttons(self) -> None:
        chosen = self.selected_versions()
        by_number = {v.version: v for v in self._versions}
        one = len(chosen) == 1
        status = by_number[chosen[0]].status if one and chosen[0] in by_number else None
        self.alias_button.setEnabled(one and status == "active")
        self.archive_button.setEnabled(one and status == "active")
        self.restore_button.setEnabled(one and status == "archived")
        self.compare_button.setEnabled(len(chosen) == 2)
        for action in (self.export_skops_action, self.export_onnx_action, self.card_action):
            action.setEnabled(one)

    # -- slots -------------------------------------------------------------------------------

    def _on_models_current_changed(self, current: QListWidgetItem | None, _previous: Any) -> None:
        self._model = current.text() if current else None
        self._versions = []
        self.versions.setRowCount(0)
        self.aliases.clear()
        if self._model:
            self._load_versions(self._model)
        self._update_buttons()

    def _on_versions_selection_changed(self) -> None:
        self._update_buttons()
        chosen = self.selected_versions()
        if len(chosen) == 1:
            self._load_detail(chosen[0])

    def _on_versions_alias_dropped(self, alias: str, version: int) -> None:
        self.request_alias(alias, version)

    def _on_alias_button_clicked(self) -> None:
        chosen = self.selected_versions()
        alias = self.alias_box.currentText().strip()
        if len(chosen) == 1 and alias:
            self.request_alias(alias, chosen[0])

    def _on_alias_moved(self, moved: Any, alias: str) -> None:
        self.messages.info(f"{moved.model_name}@{alias} now points at version {moved.version}.")
        self.registry_changed.emit()
        self.refresh()

    def _on_alias_failed(self, error: BaseException, tb: str, alias: str, version: int) -> None:
        if not isinstance(error, PolicyRefused):
            self._on_error(error, tb)
            return
        dialog = ReasonDialog(str(error), self)
        dialog.accepted.connect(
            lambda: self.request_alias(
                alias, version, force=True, reason=dialog.reason.toPlainText().strip()
            )
        )
        self.reason_dialog = dialog
        dialog.open()

    def _set_status(self, action: str) -> None:
        chosen = self.selected_versions()
        if len(chosen) != 1 or self._model is None:
            return
        fn = self._registry.archive if action == "archive" else self._registry.restore
        self._jobs.start(
            _call,
            fn,
            f"{self._model}@{chosen[0]}",
            name=action.title(),
            done=lambda _b, _v: (self.registry_changed.emit(), self.refresh()),
        )

    def _on_compare_clicked(self) -> None:
        chosen = self.selected_versions()
        by_number = {v.version: v for v in self._versions}
        if len(chosen) != 2 or not all(c in by_number for c in chosen):
            return
        a, b = by_number[chosen[0]], by_number[chosen[1]]
        rows: list[list[Any]] = [
            ["estimator", a.estimator, b.estimator],
            ["run", a.run_id, b.run_id],
            ["dataset version id", a.dataset_version_id, b.dataset_version_id],
            ["status", a.status, b.status],
            ["aliases", ", ".join(a.aliases), ", ".join(b.aliases)],
        ]
        for key in sorted(set(a.metrics) | set(b.metrics)):
            rows.append([key, a.metrics.get(key), b.metrics.get(key)])
        self.compare.setHorizontalHeaderLabels(["", f"version {a.version}", f"version {b.version}"])
        _fill(self.compare, rows)
        self.tabs.setCurrentWidget(self.compare)

    def _on_card_save_clicked(self) -> None:
        chosen = self.selected_versions()
        if len(chosen) != 1 or self._model is None:
            return
        ref = f"{self._model}@{chosen[0]}"
        field, text = self.card_field.currentText(), self.card_edit.toPlainText()
        self._jobs.start(
            lambda progress: self._registry.update_version(ref, card={field: text}),
            name="Save card field",
            done=lambda _b, _v: self._load_detail(chosen[0]),
        )

    # -- files -------------------------------------------------------------------------------

    def _export(self, fmt: str, path: str | None = None) -> None:
        chosen = self.selected_versions()
        if len(chosen) != 1 or self._model is None:
            return
        ref = f"{self._model}@{chosen[0]}"
        if path is None:
            suffix = "onnx" if fmt == "onnx" else "skops"
            path, _ = QFileDialog.getSaveFileName(
                self, f"Export {ref}", f"{self._model}-{chosen[0]}.{suffix}"
            )
            if not path:
                return
        self._jobs.start(
            lambda progress: self._registry.export(ref, path, format=fmt),
            name=f"Export {ref}",
            done=lambda _b, result: self._on_exported(result),
        )

    def _on_exported(self, result: dict[str, Any]) -> None:
        self.last_export = result
        self.messages.info(f"Wrote {result['path']}.")

    def _save_card(self, path: str | None = None) -> None:
        chosen = self.selected_versions()
        if len(chosen) != 1 or self._model is None:
            return
        ref = f"{self._model}@{chosen[0]}"
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self,
                "Save model card",
                f"{self._model}-{chosen[0]}.html",
                "HTML (*.html);;Markdown (*.md)",
            )
            if not path:
                return

        def write(progress: Any) -> str:
            from pathlib import Path

            html = path.lower().endswith((".html", ".htm"))
            text = self._registry.card_html(ref) if html else self._registry.card_markdown(ref)
            Path(path).write_text(text, encoding="utf-8")
            return path

        self._jobs.start(
            write, name="Save card", done=lambda _b, p: self.messages.info(f"Wrote {p}.")
        )

    def _choose_import(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import a model file", "", "skops (*.skops)"
            )
            if not path:
                return
        self._jobs.start(
            _call,
            self._registry.inspect_file,
            path,
            name="Inspect model file",
            done=lambda _b, info: self._on_inspected(info),
        )

    def _on_inspected(self, info: dict[str, Any]) -> None:
        dialog = TrustDialog(info["path"], info["untrusted_types"], self)
        dialog.name.setText(self._model or "")
        path = info["path"]
        dialog.accepted.connect(
            lambda: self._jobs.start(
                lambda progress: self._registry.import_file(
                    path, dialog.name.text().strip(), trust=dialog.trusted()
                ),
                name="Import model",
                done=lambda _b, v: (self.messages.info(f"Imported as {v.ref}."), self.refresh()),
            )
        )
        self.trust_dialog = dialog
        dialog.open()

    # -- errors ------------------------------------------------------------------------------

    def _on_error(self, error: BaseException, tb: str) -> None:
        if isinstance(error, ModelDeskError):
            self.messages.show_error(error)
        else:
            show_unexpected_error(error, tb, self)


def build_panel(services: Any, runner: JobRunner) -> QWidget:
    return RegistryPanel(registry=services.registry, runner=runner)


def main(argv: list[str] | None = None) -> int:
    from app.ui.panels.standalone import open_alone

    return open_alone("registry", argv)


if __name__ == "__main__":
    sys.exit(main())
