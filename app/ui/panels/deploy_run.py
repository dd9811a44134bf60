"""The Deploy panel's lower half: the image list with its run options, the deployments with
Stop / Roll back, the live log and the Test request form.

The two lists are ``RecordsTableModel`` views over frozen ``Image`` / ``Deployment`` values
(what the service returns): a refresh swaps the records in one reset and keeps the selection
by id, so a list re-read every few seconds never loses the row the user picked. Every Docker
call is a job on the shared ``PanelJobs``; failures go to the panel's one message bar.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.ui.job_bridge import JobBridge, PanelJobs
from app.ui.widgets.message_bar import MessageBar

AnyIndex = QModelIndex | QPersistentModelIndex
ACTIVE = ("starting", "running")  # the deployment states whose log is still being written


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    tip: str = ""


IMAGE_COLUMNS: tuple[Column, ...] = (
    Column("Image", lambda i: i.tag, "The image's tag on the local daemon"),
    Column("Model", lambda i: i.ref, "The model version inside"),
    Column("Status", lambda i: i.status, "building, built or failed"),
    Column("Size", lambda i: f"{i.size / 1e6:,.0f} MB" if i.size else "-", "Image size"),
    Column("Created", lambda i: f"{i.created_at:%Y-%m-%d %H:%M}", "When the build started"),
    Column("Build s", lambda i: f"{i.build_seconds:.1f}", "Seconds the build took"),
)
DEPLOY_COLUMNS: tuple[Column, ...] = (
    Column("ID", lambda d: str(d.id), "The deployment's number in this store"),
    Column("Model", lambda d: f"{d.model}@{d.version}", "The model version it serves"),
    Column("Status", lambda d: d.status, "starting, running, stopped, failed or vanished"),
    Column("URL", lambda d: d.url, "Where it listens (127.0.0.1 only)"),
    Column(
        "Smoke test",
        lambda d: (
            "passed" if d.smoke_test.get("ok") else (d.smoke_test.get("reason", "") or "-")[:80]
        ),
        "Its answers to the input example against the in-process model's",
    ),
)


class RecordsTableModel(QAbstractTableModel):
    """Read-only rows of frozen records (anything with an ``id``), one per line."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        tooltip: Callable[[Any], str] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._tooltip = tooltip
        self._records: list[Any] = []

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record = self._records[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[index.column()].text(record)
        if role == Qt.ItemDataRole.ToolTipRole and self._tooltip is not None:
            return self._tooltip(record) or None
        if role == Qt.ItemDataRole.UserRole:
            return record.id
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._columns[section].tip or None
        return None

    def set_records(self, records: Sequence[Any]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def records(self) -> list[Any]:
        return list(self._records)

    def record(self, row: int) -> Any:
        return self._records[row]

    def row_of(self, record_id: int) -> int | None:
        return next((r for r, rec in enumerate(self._records) if rec.id == record_id), None)


class RecordsView(QTableView):
    """Single-row selection that survives ``set_records`` (kept by record id)."""

    def __init__(self, model: RecordsTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().setVisible(False)
        self._model = model

    def selected(self) -> Any:
        rows = self.selectionModel().selectedRows()
        return self._model.record(rows[0].row()) if rows else None

    def select_id(self, record_id: int) -> bool:
        row = self._model.row_of(record_id)
        if row is None:
            return False
        self.selectRow(row)
        return True

    def show_records(self, records: Sequence[Any]) -> None:
        current = self.selected()
        blocked = self.selectionModel().blockSignals(True)
        self._model.set_records(records)
        kept = current is not None and self.select_id(current.id)
        self.selectionModel().blockSignals(blocked)
        self.resizeColumnsToContents()
        if current is not None and not kept:
            self.selectionModel().selectionChanged.emit(
                self.selectionModel().selection(), self.selectionModel().selection()
            )


# -- job bodies (run on the runner; plain functions of their inputs) -------------------------


def _run(deploy: Any, image_id: int, options: Any, *, progress: Any) -> Any:
    return deploy.run(image_id, options, progress=progress)


def _stop(deploy: Any, dep_id: int, *, progress: Any) -> Any:
    return deploy.stop(dep_id)


def _rollback(deploy: Any, model: str, *, progress: Any) -> Any:
    return deploy.rollback(model, progress=progress)


def _logs(deploy: Any, dep_id: int, *, progress: Any) -> list[str]:
    return list(deploy.logs(dep_id, tail=300))


def _test(deploy: Any, dep_id: int, rows: list[dict[str, Any]], *, progress: Any) -> Any:
    return deploy.test_request(dep_id, rows)


class RunSection(QWidget):
    """Images → Run; deployments → Stop / Roll back / live log / test request."""

    deployed = Signal(object)
    tested = Signal(object)
    changed = Signal()  # a deployment stopped: the lists need a refresh
    progressed = Signal(float, str)
    status_text = Signal(str)

    def __init__(
        self, *, deploy: Any, jobs: PanelJobs, messages: MessageBar, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._deploy = deploy
        self._jobs = jobs
        self._messages = messages

        self.images_model = RecordsTableModel(
            IMAGE_COLUMNS,
            tooltip=lambda i: "\n".join(f"{k} = {v}" for k, v in i.labels.items()) or i.error,
            parent=self,
        )
        self.images_table = RecordsView(self.images_model)
        self.port_spin = QSpinBox()
        self.port_spin.setRange(0, 65535)
        self.port_spin.setSpecialValueText("free port")
        self.token_edit = QLineEdit()
        self.token_edit.setPlaceholderText("no token")
        self.cpus_spin = QDoubleSpinBox()
        self.cpus_spin.setRange(0, 64)
        self.cpus_spin.setSpecialValueText("no limit")
        self.memory_edit = QLineEdit()
        self.memory_edit.setPlaceholderText("e.g. 512m")
        self.log_dir_edit = QLineEdit()
        self.log_dir_edit.setPlaceholderText("prediction-log folder (optional)")
        self.run_button = QPushButton("Run")

        self.deploy_model = RecordsTableModel(DEPLOY_COLUMNS, parent=self)
        self.deploy_table = RecordsView(self.deploy_model)
        self.stop_button = QPushButton("Stop")
        self.rollback_button = QPushButton("Roll back")
        self.logs_view = QPlainTextEdit(readOnly=True)
        self.logs_view.setMaximumBlockCount(2000)
        self.logs_view.setPlaceholderText("Live log of the selected deployment.")
        self.request_edit = QPlainTextEdit()
        self.request_edit.setPlaceholderText('[{"column": value, …}]')
        self.send_button = QPushButton("Send test request")
        self.response_view = QPlainTextEdit(readOnly=True)
        self.latency_label = QLabel("")

        run_form = QFormLayout()
        run_form.addRow("Port", self.port_spin)
        run_form.addRow("Token", self.token_edit)
        run_form.addRow("CPUs", self.cpus_spin)
        run_form.addRow("Memory", self.memory_edit)
        run_form.addRow("Log folder", self.log_dir_edit)
        run_form.addRow(self.run_button)
        images_box = QHBoxLayout()
        images_box.addWidget(self.images_table, 3)
        images_box.addLayout(run_form, 1)

        buttons = QHBoxLayout()
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.rollback_button)
        buttons.addStretch(1)
        deploy_box = QVBoxLayout()
        deploy_box.addWidget(self.deploy_table, 1)
        deploy_box.addLayout(buttons)
        test_box = QVBoxLayout()
        test_box.addWidget(self.request_edit, 1)
        send_row = QHBoxLayout()
        send_row.addWidget(self.send_button)
        send_row.addWidget(self.latency_label, 1)
        test_box.addLayout(send_row)
        test_box.addWidget(self.response_view, 1)
        logs_box = QVBoxLayout()
        logs_box.addWidget(self.logs_view)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(group("Deployments", deploy_box))
        lower.addWidget(group("Live log", logs_box))
        lower.addWidget(group("Test request", test_box))

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(group("Images", images_box))
        splitter.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        # The live log follows one active deployment: re-read every 2 s, one read at a time,
        # and only while that deployment runs; a read that answers after the follower moved
        # on (another row, a stop) is dropped, so a stop never shows its end as an error.
        self._log_timer = QTimer(self)
        self._log_timer.setInterval(2000)
        self._log_timer.timeout.connect(self._refresh_logs)
        self._following: int | None = None
        self._log_read: JobBridge | None = None
        self._offered = ""  # the example last put in the Test request form

        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.stop_button.clicked.connect(self._on_stop_button_clicked)
        self.rollback_button.clicked.connect(self._on_rollback_button_clicked)
        self.send_button.clicked.connect(self._on_send_button_clicked)
        self.images_table.selectionModel().selectionChanged.connect(
            self._on_images_selection_changed
        )
        self.deploy_table.selectionModel().selectionChanged.connect(
            self._on_deploy_selection_changed
        )

    # -- public API ---------------------------------------------------------------------------

    def show_lists(self, images: Sequence[Any], deployments: Sequence[Any]) -> None:
        self.images_table.show_records(images)
        self.deploy_table.show_records(deployments)
        dep = self.selected_deployment()
        if dep is None or dep.id != self._following or dep.status not in ACTIVE:
            self.stop_logs()

    def selected_image(self) -> Any:
        return self.images_table.selected()

    def selected_deployment(self) -> Any:
        return self.deploy_table.selected()

    def run_selected(self) -> JobBridge | None:
        from app.core.deploy import RunOptions

        image = self.selected_image()
        if image is None or image.status != "built":
            self._messages.warning("Select a built image to run.")
            return None
        options = RunOptions(
            port=self.port_spin.value() or None,
            token=self.token_edit.text().strip() or None,
            cpus=self.cpus_spin.value() or None,
            memory=self.memory_edit.text().strip() or None,
            log_dir=self.log_dir_edit.text().strip() or None,
        )
        self.status_text.emit(f"Starting {image.ref}…")
        bridge = self._jobs.start(
            _run, self._deploy, image.id, options, name=f"Run {image.ref}", done=self._on_deployed
        )
        bridge.progressed.connect(self.progressed)
        return bridge

    def send_test(self) -> JobBridge | None:
        dep = self.selected_deployment()
        if dep is None:
            self._messages.warning("Select a running deployment to test.")
            return None
        try:
            rows = json.loads(self.request_edit.toPlainText() or "[]")
        except ValueError as exc:
            self._messages.error(f"The test request is not JSON: {exc}.")
            return None
        rows = rows if isinstance(rows, list) else [rows]
        return self._jobs.start(
            _test, self._deploy, dep.id, rows, name="Test request", done=self._on_tested
        )

    def stop_logs(self) -> None:
        """Stop following; the lines shown stay (the end of a log is the end)."""
        self._log_timer.stop()
        self._following = None

    @property
    def following(self) -> int | None:
        """The id of the deployment whose log is being followed, if any."""
        return self._following

    @property
    def reading_logs(self) -> bool:
        """A read of the live log is under way (its answer is still to come)."""
        return self._log_read is not None and not self._log_read.done

    # -- slots --------------------------------------------------------------------------------

    def _on_run_button_clicked(self) -> None:
        self.run_selected()

    def _on_send_button_clicked(self) -> None:
        self.send_test()

    def _on_stop_button_clicked(self) -> None:
        dep = self.selected_deployment()
        if dep is None:
            self._messages.warning("Select a deployment to stop.")
            return
        if dep.id == self._following:
            self.stop_logs()  # its log ends with the stop
        self._jobs.start(_stop, self._deploy, dep.id, name="Stop", done=self._on_stopped)

    def _on_rollback_button_clicked(self) -> None:
        dep = self.selected_deployment()
        if dep is None or not dep.model:
            self._messages.warning("Select a deployment of the model to roll back.")
            return
        self._jobs.start(
            _rollback, self._deploy, dep.model, name="Roll back", done=self._on_deployed
        )

    def _on_deployed(self, bridge: JobBridge, dep: Any) -> None:
        self.status_text.emit(f"{dep.model}@{dep.version} runs on {dep.url}; smoke test passed.")
        self.deployed.emit(dep)

    def _on_stopped(self, bridge: JobBridge, dep: Any) -> None:
        self.status_text.emit(f"Deployment {dep.id} stopped.")
        self.changed.emit()

    def _on_tested(self, bridge: JobBridge, answer: Any) -> None:
        self.latency_label.setText(f"HTTP {answer.status} in {answer.latency_ms:.1f} ms")
        self.response_view.setPlainText(json.dumps(answer.body, indent=1, default=str))
        self.tested.emit(answer)

    def offer_example(self, rows: list[dict[str, Any]]) -> None:
        """Put an image's input example in the Test request form, unless the person has typed
        rows of their own there (a selection never throws away what they wrote)."""
        text = self.request_edit.toPlainText().strip()
        if text and text != self._offered:
            return
        self._offered = json.dumps(rows, indent=1)
        self.request_edit.setPlainText(self._offered)

    def _on_images_selection_changed(self, *_: Any) -> None:
        image = self.selected_image()
        if image is not None and image.example.get("rows"):
            self.offer_example(image.example["rows"])

    def _on_deploy_selection_changed(self, *_: Any) -> None:
        dep = self.selected_deployment()
        self.logs_view.clear()
        self.stop_logs()
        if dep is not None and dep.status in ACTIVE:
            match = next((i for i in self.images_model.records() if i.id == dep.image_row_id), None)
            if match is not None and match.example.get("rows"):
                self.offer_example(match.example["rows"])
            self._following = dep.id
            self._refresh_logs()
            self._log_timer.start()

    def _refresh_logs(self) -> None:
        dep_id = self._following
        if dep_id is None or not self.isVisible():
            return
        if self.reading_logs:
            return  # the last read has not answered yet (a loaded machine): no pile-up
        self._log_read = self._jobs.start(
            _logs, self._deploy, dep_id, name="Logs", done=self._on_logs, deployment=dep_id
        )

    def _on_logs(self, bridge: JobBridge, lines: list[str]) -> None:
        if bridge.context.get("deployment") != self._following:
            return  # read for a deployment no longer followed (stopped, or another row)
        self.logs_view.setPlainText("\n".join(lines))
        bar = self.logs_view.verticalScrollBar()
        bar.setValue(bar.maximum())


def group(title: str, layout: Any) -> QGroupBox:
    box = QGroupBox(title)
    box.setLayout(layout)
    return box
