"""The Deploy panel's build section: pick a version, Build, watch the log, cancel.

The build runs as a job; its log lines come from the worker thread through a queued signal
(``_LogRelay``), so the text box fills line by line while the GUI thread stays free. A failed
build's failing lines (``ModelDeskError.lines``) are appended by the panel's error handler.

The version picker defaults to the version the person picked last (the current context's model
version), else to the champion of that model, else to the first champion: what one deploys is
the champion, never the challenger by accident of order.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.job_bridge import JobBridge, PanelJobs
from app.ui.widgets.message_bar import MessageBar


class _LogRelay(QObject):
    """Carries build-log lines from the worker thread to the GUI thread (queued)."""

    line = Signal(str)


# -- job bodies (run on the runner; plain functions of their inputs) -------------------------


def _list_versions(registry: Any, *, progress: Any) -> tuple[list[str], dict[str, str]]:
    """Active version refs, and each model's champion ref (model name → ``name@N``)."""
    refs, champions = [], {}
    for model in registry.list_models():
        refs += [v.ref for v in registry.list_versions(model.name, include_archived=False)]
        if "champion" in model.aliases:
            champions[model.name] = f"{model.name}@{model.aliases['champion']}"
    return refs, champions


def default_ref(
    refs: list[str], champions: dict[str, str], model: str | None, version: int | None
) -> str | None:
    """The version the picker starts on: the context's version, its model's champion, the
    first champion, the first version."""
    if model and version is not None and f"{model}@{version}" in refs:
        return f"{model}@{version}"
    for ref in ([champions.get(model)] if model else []) + sorted(champions.values()):
        if ref in refs:
            return ref
    return refs[0] if refs else None


def _build(deploy: Any, ref: str, base: str | None, sink: Any, *, progress: Any) -> Any:
    return deploy.build(ref, base_image=base or None, progress=progress, on_log=sink)


class BuildSection(QWidget):
    built = Signal(object)

    def __init__(
        self,
        *,
        deploy: Any,
        registry: Any,
        jobs: PanelJobs,
        messages: MessageBar,
        context: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._deploy = deploy
        self._context = context
        self._wanted: str | None = None  # a ref asked for before the list came in
        self._registry = registry
        self._jobs = jobs
        self._messages = messages
        self._bridge: JobBridge | None = None
        self._relay = _LogRelay(self)
        self._relay.line.connect(self._on_relay_line)

        self.version_combo = QComboBox()
        self.version_combo.setAccessibleName("Model version")
        self.version_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.version_combo.setMinimumContentsLength(16)
        self.base_edit = QLineEdit()
        self.base_edit.setPlaceholderText(getattr(deploy, "base_image", ""))
        self.build_button = QPushButton("Build")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.status = QLabel("")
        self.build_log = QPlainTextEdit(readOnly=True)
        self.build_log.setMaximumBlockCount(5000)
        self.build_log.setPlaceholderText("The build log appears here.")

        top = QHBoxLayout()
        top.addWidget(QLabel("Version"))
        top.addWidget(self.version_combo)
        top.addWidget(QLabel("Base image"))
        top.addWidget(self.base_edit, 1)
        top.addWidget(self.build_button)
        top.addWidget(self.cancel_button)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress)
        progress_row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(progress_row)
        layout.addWidget(self.build_log, 1)

        self.build_button.clicked.connect(self._on_build_button_clicked)
        self.cancel_button.clicked.connect(self.cancel_build)

    # -- public API ---------------------------------------------------------------------------

    def reload_versions(self) -> None:
        if self._registry is None:
            return
        self._jobs.start(
            _list_versions, self._registry, name="List versions", done=self._on_versions_listed
        )

    def pick(self, ref: str) -> None:
        """Put ``ref`` in the picker (now, or once the list has it)."""
        if self.version_combo.findText(ref) >= 0:
            self.version_combo.setCurrentText(ref)
        else:
            self._wanted = ref
            self.reload_versions()

    def build(self, ref: str | None = None) -> JobBridge | None:
        ref = ref or self.version_combo.currentText()
        if not ref:
            self._messages.warning("Pick a model version to build.")
            return None
        self._messages.clear()
        self.build_log.clear()
        self.progress.setValue(0)
        bridge = self._jobs.start(
            _build,
            self._deploy,
            ref,
            self.base_edit.text().strip(),
            self._relay.line.emit,
            name=f"Build {ref}",
            done=self._on_built,
        )
        bridge.progressed.connect(self.show_progress)
        bridge.finished.connect(self._on_build_finished)
        bridge.cancelled.connect(lambda: self.status.setText("Build cancelled; nothing stored."))
        self._bridge = bridge
        self.build_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        return bridge

    def cancel_build(self) -> None:
        if self._bridge is not None and not self._bridge.done:
            self._bridge.cancel()

    def show_progress(self, fraction: float, status: str) -> None:
        """Also used for a run's progress: one bar for the panel's long jobs."""
        self.progress.setValue(round(fraction * 100))
        if status:
            self.status.setText(status)

    def append_log(self, lines: list[str]) -> None:
        self.build_log.appendPlainText("\n".join(lines))

    # -- slots --------------------------------------------------------------------------------

    def _on_build_button_clicked(self) -> None:
        self.build()

    def _on_relay_line(self, line: str) -> None:
        self.build_log.appendPlainText(line)

    def _on_build_finished(self) -> None:
        self.build_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_versions_listed(
        self, bridge: JobBridge, listed: tuple[list[str], dict[str, str]]
    ) -> None:
        refs, champions = listed
        current = self._wanted or self.version_combo.currentText()
        self._wanted = None
        self.version_combo.clear()
        self.version_combo.addItems(refs)
        for ref in champions.values():
            row = self.version_combo.findText(ref)
            if row >= 0:
                self.version_combo.setItemText(row, ref)
                self.version_combo.setItemData(row, "champion", Qt.ItemDataRole.ToolTipRole)
        ctx = self._context
        pick = current if current in refs else None
        pick = pick or default_ref(
            refs, champions, getattr(ctx, "model", None), getattr(ctx, "model_version", None)
        )
        if pick:
            self.version_combo.setCurrentText(pick)

    def _on_built(self, bridge: JobBridge, image: Any) -> None:
        self.status.setText(f"Built {image.tag} ({image.size / 1e6:,.0f} MB)")
        self.built.emit(image)
