"""Run detail: what went in (parameters, dataset version, seed), what came out (metrics with
their per-fold values, plots, artifacts), what produced it (environment, worker log) and the
user's note.

``load_detail`` is the job body: it gathers everything on a worker thread (the run, each
metric's history, the dataset version, decoded plot images, the log text) so that showing a
run costs the GUI thread only filling widgets. ``RunDetailView`` shows a ``RunDetail``; it
never calls a service itself and asks the panel to save a note through ``note_save_requested``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractItemModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.ui.panels.runs_colors import ErrorLabel, pruned_text
from app.ui.panels.runs_metrics import MetricRow, history_keys, summarize_metrics
from app.ui.panels.runs_rows_model import RowsModel
from app.ui.panels.runs_table_model import format_duration, format_value, local_time

if TYPE_CHECKING:
    from app.core.datasets import DatasetService, DatasetVersion
    from app.core.tracking import Run, RunArtifact, TrackingService

PLOT_WIDTH = 440  # pixels a plot is scaled to in the Plots tab
MAX_LOG_BYTES = 2_000_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class RunDetail:
    run: Run
    history: dict[str, list[tuple[int, float]]]  # metric → (step, value) in step order
    dataset: DatasetVersion | None = None
    dataset_note: str = ""
    plots: list[tuple[str, QImage]] = field(default_factory=list)
    plot_notes: list[str] = field(default_factory=list)
    log_text: str | None = None

    def metric_rows(self) -> list[MetricRow]:
        """One row per metric: value, spread and per-fold values (see ``runs_metrics``)."""
        history = {k: [v for _, v in points] for k, points in self.history.items()}
        return summarize_metrics(self.run.metrics, history)


def is_plot(art: RunArtifact) -> bool:
    return art.name.lower().endswith(IMAGE_SUFFIXES) and art.kind in ("plot", "image", "file")


def log_artifact(run: Run) -> RunArtifact | None:
    for art in run.artifacts:
        if (
            art.kind == "log"
            or art.name.lower() in ("log", "worker.log")
            or art.name.endswith(".log")
        ):
            return art
    return None


def load_detail(
    tracking: TrackingService, datasets: DatasetService | None, run_id: int, *, progress: Any
) -> RunDetail:
    """Job body (worker thread): everything the detail view shows for one run."""
    run = tracking.get(run_id)
    history = {}
    for key in sorted(history_keys(run.metrics)):
        progress.check_cancelled()
        history[key] = [(step, value) for step, value, _ in tracking.metric_history(run_id, key)]
    dataset, dataset_note = None, ""
    if run.dataset_version_id is not None and datasets is not None:
        try:
            dataset = datasets.version_by_id(run.dataset_version_id)
        except ModelDeskError as exc:
            dataset_note = exc.message
    elif run.dataset_version_id is None:
        dataset_note = "No dataset version recorded (a run logged from a script?)."
    plots, notes = [], []
    for art in run.artifacts:
        if not is_plot(art):
            continue
        progress.check_cancelled()
        try:
            path = tracking.artifacts.open_verified(art.sha256)
        except ModelDeskError as exc:
            notes.append(f"{art.name}: {exc.message}")
            continue
        image = QImage(str(path))
        if image.isNull():
            notes.append(f"{art.name}: not a readable image.")
            continue
        if image.width() > PLOT_WIDTH:
            image = image.scaledToWidth(PLOT_WIDTH, Qt.TransformationMode.SmoothTransformation)
        plots.append((art.name, image))
    log_text = None
    art = log_artifact(run)
    if art is not None:
        try:
            path = tracking.artifacts.open_verified(art.sha256)
            with open(path, "rb") as fh:
                data = fh.read(MAX_LOG_BYTES)
            log_text = data.decode("utf-8", errors="replace")
            if art.size > MAX_LOG_BYTES:
                log_text += f"\n… ({art.size - MAX_LOG_BYTES:,} more bytes not shown)"
        except ModelDeskError as exc:
            log_text = exc.message
    return RunDetail(run, history, dataset, dataset_note, plots, notes, log_text)


def _table(model: QAbstractItemModel, *, stretch_last: bool = True) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
    view.horizontalHeader().setStretchLastSection(stretch_last)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


class RunDetailView(QWidget):
    note_save_requested = Signal(int, str)  # run id, note
    run_link_activated = Signal(int)  # a parent run was clicked
    study_link_activated = Signal(str)  # the study a trial's run belongs to was clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detail: RunDetail | None = None
        self._run_id: int | None = None

        self.title = QLabel("Select a run to see its details.")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)
        self.error_label = ErrorLabel()  # readable in light and dark palettes
        self.error_label.setVisible(False)

        # Summary
        self.summary = QFormLayout()
        self.summary.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self._fields: dict[str, QLabel] = {}
        for key in (
            "Status",
            "Estimator",
            "Task",
            "Target",
            "Dataset",
            "Seed",
            "Started",
            "Duration",
            "Parent run",
            "Study",
            "Tags",
        ):
            label = QLabel()
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            self._fields[key] = label
            self.summary.addRow(f"{key}:", label)
        self._fields["Parent run"].linkActivated.connect(self._on_parent_link_activated)
        self._fields["Study"].linkActivated.connect(self.study_link_activated)
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText("A note about this run (what you tried, what you saw)")
        self.note_edit.setMaximumHeight(90)
        self.note_edit.textChanged.connect(self._on_note_edit_text_changed)
        self.save_note_button = QPushButton("Save note")
        self.save_note_button.setEnabled(False)
        self.save_note_button.clicked.connect(self._on_save_note_clicked)
        summary_tab = QWidget()
        s_layout = QVBoxLayout(summary_tab)
        s_layout.addLayout(self.summary)
        s_layout.addWidget(QLabel("Note:"))
        s_layout.addWidget(self.note_edit)
        note_row = QHBoxLayout()
        note_row.addStretch(1)
        note_row.addWidget(self.save_note_button)
        s_layout.addLayout(note_row)
        s_layout.addStretch(1)

        self.params_model = RowsModel(["Parameter", "Value"], self)
        self.params_view = _table(self.params_model)
        self.metrics_model = RowsModel(["Metric", "Value"], self)
        self.metrics_view = _table(self.metrics_model, stretch_last=False)

        self.plots_area = QScrollArea()
        self.plots_area.setWidgetResizable(True)
        self._plots_host = QWidget()
        self._plots_grid = QGridLayout(self._plots_host)
        self.plots_area.setWidget(self._plots_host)

        self.env_label = QLabel()
        self.env_label.setWordWrap(True)
        self.env_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.packages_model = RowsModel(["Package", "Version"], self)
        self.packages_proxy = QSortFilterProxyModel(self)
        self.packages_proxy.setSourceModel(self.packages_model)
        self.packages_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.packages_view = _table(self.packages_proxy)
        self.package_filter = QLineEdit()
        self.package_filter.setPlaceholderText("Filter packages")
        self.package_filter.setClearButtonEnabled(True)
        self.package_filter.textChanged.connect(self.packages_proxy.setFilterFixedString)
        env_tab = QWidget()
        e_layout = QVBoxLayout(env_tab)
        e_layout.addWidget(self.env_label)
        e_layout.addWidget(self.package_filter)
        e_layout.addWidget(self.packages_view, 1)

        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = self.log_view.font()
        mono.setStyleHint(mono.StyleHint.Monospace)
        mono.setFamily("monospace")
        self.log_view.setFont(mono)

        self.lineage_label = QLabel()
        self.lineage_label.setWordWrap(True)
        self.lineage_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.artifacts_model = RowsModel(["Artifact", "Kind", "Size", "SHA-256"], self)
        self.artifacts_view = _table(self.artifacts_model)
        self.recipe_view = QPlainTextEdit()
        self.recipe_view.setReadOnly(True)
        self.recipe_view.setFont(mono)
        lineage_tab = QWidget()
        l_layout = QVBoxLayout(lineage_tab)
        l_layout.addWidget(self.lineage_label)
        l_layout.addWidget(QLabel("Artifacts:"))
        l_layout.addWidget(self.artifacts_view, 1)
        l_layout.addWidget(QLabel("Recipe (what Reproduce runs again):"))
        l_layout.addWidget(self.recipe_view, 1)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        summary_area = QScrollArea()  # the summary's rows scroll rather than grow the window
        summary_area.setWidgetResizable(True)
        summary_area.setFrameShape(QScrollArea.Shape.NoFrame)
        summary_area.setWidget(summary_tab)
        self.tabs.addTab(summary_area, "Summary")
        self.tabs.addTab(self.params_view, "Parameters")
        self.tabs.addTab(self.metrics_view, "Metrics")
        self.tabs.addTab(self.plots_area, "Plots")
        self.tabs.addTab(env_tab, "Environment")
        self.tabs.addTab(self.log_view, "Log")
        self.tabs.addTab(lineage_tab, "Lineage")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.error_label)
        layout.addWidget(self.tabs, 1)

    # -- public API --------------------------------------------------------------------------

    @property
    def run_id(self) -> int | None:
        return self._run_id

    def show_loading(self, run_id: int) -> None:
        self._run_id = run_id
        self.title.setText(f"Run {run_id} — loading…")

    def clear(self, text: str = "Select a run to see its details.") -> None:
        self._run_id, self.detail = None, None
        self.title.setText(text)
        self.error_label.setVisible(False)
        for label in self._fields.values():
            label.clear()
        self.note_edit.blockSignals(True)
        self.note_edit.clear()
        self.note_edit.blockSignals(False)
        self.save_note_button.setEnabled(False)
        for model in (
            self.params_model,
            self.metrics_model,
            self.packages_model,
            self.artifacts_model,
        ):
            model.clear()
        self._set_plots([], [])
        self.env_label.clear()
        self.log_view.clear()
        self.lineage_label.clear()
        self.recipe_view.clear()

    def set_detail(self, detail: RunDetail) -> None:
        run = detail.run
        self.detail, self._run_id = detail, run.id
        name = run.name or f"run {run.id}"
        deleted = " (deleted)" if run.deleted else ""
        estimator = run.estimator or "—"
        pruned = pruned_text(run.status, run.tags, run.error)
        status = f"{pruned} (its metrics are partial)" if pruned else run.status
        self.title.setText(f"Run {run.id} · {name} · {estimator} · {pruned or run.status}{deleted}")
        self.error_label.setVisible(bool(run.error))
        if run.error:
            self.error_label.setText(f"⚠ {run.error}")
        dataset = detail.dataset.ref if detail.dataset else (detail.dataset_note or "—")
        values = {
            "Status": status + deleted,
            "Estimator": run.estimator or "—",
            "Task": run.task or "—",
            "Target": run.target or "—",
            "Dataset": dataset,
            "Seed": "—" if run.seed is None else str(run.seed),
            "Started": local_time(run.started_at),
            "Duration": format_duration(run.duration)
            or ("still running" if not run.ended_at else ""),
            "Tags": ", ".join(f"{k}={v}" for k, v in sorted(run.tags.items())) or "—",
        }
        for key, text in values.items():
            self._fields[key].setTextFormat(Qt.TextFormat.PlainText)
            self._fields[key].setText(text)
        parent = self._fields["Parent run"]
        if run.parent_run_id is not None:
            parent.setTextFormat(Qt.TextFormat.RichText)
            parent.setText(f'<a href="{run.parent_run_id}">run {run.parent_run_id}</a>')
        else:
            parent.setTextFormat(Qt.TextFormat.PlainText)
            parent.setText("—")
        study = self._fields["Study"]
        if run.study_name:
            study.setTextFormat(Qt.TextFormat.RichText)
            study.setText(
                f'<a href="{html.escape(run.study_name, quote=True)}">'
                f"{html.escape(run.study_name)}</a>, trial {run.trial_number}"
            )
        else:
            study.setTextFormat(Qt.TextFormat.PlainText)
            study.setText("—")
        self.note_edit.blockSignals(True)
        self.note_edit.setPlainText(run.note)
        self.note_edit.blockSignals(False)
        self.save_note_button.setEnabled(False)

        self.params_model.set_rows(
            ["Parameter", "Value"], [(k, v) for k, v in sorted(run.params.items())]
        )
        self.params_view.resizeColumnToContents(0)
        self._fill_metrics(detail)
        self._set_plots(detail.plots, detail.plot_notes)
        self._fill_environment(run.env)
        self.log_view.setPlainText(
            detail.log_text if detail.log_text is not None else "This run has no worker log."
        )
        self._fill_lineage(detail)

    # -- filling -----------------------------------------------------------------------------

    def _fill_metrics(self, detail: RunDetail) -> None:
        rows = detail.metric_rows()
        k = max((len(r.folds) for r in rows), default=0)
        has_test = any(r.test is not None for r in rows)
        headers = [
            "Metric",
            "Value",
            "± Std",
            *(["Test"] if has_test else []),
            *(f"Fold {i + 1}" for i in range(k)),
        ]
        tips = [
            "",
            "Mean over the folds (or the last logged value)",
            "Standard deviation over the folds",
            *(["On the held-out test rows"] if has_test else []),
        ]
        table = []
        for r in rows:
            table.append(
                [
                    r.key,
                    format_value(r.value),
                    format_value(r.std),
                    *([format_value(r.test)] if has_test else []),
                    *(format_value(v) for v in r.folds),
                    *([""] * (k - len(r.folds))),
                ]
            )
        self.metrics_model.set_rows(
            headers, table, right_aligned=set(range(1, len(headers))), header_tips=tips
        )
        self.metrics_view.resizeColumnsToContents()

    def _set_plots(self, plots: list[tuple[str, QImage]], notes: list[str]) -> None:
        while self._plots_grid.count():
            item = self._plots_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        columns = 2
        for i, (name, image) in enumerate(plots):
            box = QWidget()
            box_layout = QVBoxLayout(box)
            picture = QLabel()
            picture.setPixmap(QPixmap.fromImage(image))
            picture.setToolTip(name)
            picture.setObjectName(f"plot-{name}")
            caption = QLabel(name)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box_layout.addWidget(picture)
            box_layout.addWidget(caption)
            self._plots_grid.addWidget(box, i // columns, i % columns)
        text = "\n".join(notes) if notes else ("" if plots else "This run stored no plots.")
        if text:
            note = QLabel(text)
            note.setWordWrap(True)
            self._plots_grid.addWidget(note, (len(plots) + 1) // columns + 1, 0, 1, columns)
        self._plots_grid.setRowStretch(self._plots_grid.rowCount(), 1)

    def plot_names(self) -> list[str]:
        return [name for name, _ in self.detail.plots] if self.detail else []

    def _fill_environment(self, env: dict[str, Any]) -> None:
        packages = env.get("packages") or {}
        self.env_label.setText(
            f"Python {env.get('python', '?')} ({env.get('implementation', '?')}) · "
            f"ModelDesk {env.get('modeldesk', '?')} · {env.get('platform', '?')} · "
            f"{len(packages)} packages"
        )
        self.packages_model.set_rows(["Package", "Version"], sorted(packages.items()))
        self.packages_view.resizeColumnToContents(0)

    def _fill_lineage(self, detail: RunDetail) -> None:
        run, version = detail.run, detail.dataset
        lines = []
        if version is not None:
            lines.append(
                f"Dataset version {version.ref} (id {version.id}), {version.rows:,} rows × "
                f"{version.cols} columns, snapshot SHA-256 {version.snapshot_sha256[:16]}…, "
                f"from {version.source_path or version.source_kind}."
            )
        else:
            lines.append(f"Dataset: {detail.dataset_note or '—'}")
        if run.parent_run_id is not None:
            lines.append(f"Derived from run {run.parent_run_id}.")
        if run.study_name:
            lines.append(f"Trial {run.trial_number} of study '{run.study_name}'.")
        lines.append(f"Experiment: {run.experiment}.")
        self.lineage_label.setText("\n".join(lines))
        self.artifacts_model.set_rows(
            ["Artifact", "Kind", "Size", "SHA-256"],
            [(a.name, a.kind, f"{a.size:,}", a.sha256) for a in run.artifacts],
            right_aligned={2},
        )
        self.artifacts_view.resizeColumnsToContents()
        self.recipe_view.setPlainText(
            json.dumps(run.recipe, indent=2, sort_keys=True, default=str) if run.recipe else "—"
        )

    # -- slots -------------------------------------------------------------------------------

    def _on_note_edit_text_changed(self) -> None:
        saved = self.detail.run.note if self.detail else ""
        self.save_note_button.setEnabled(
            self._run_id is not None and self.note_edit.toPlainText() != saved
        )

    def _on_save_note_clicked(self) -> None:
        if self._run_id is not None:
            self.save_note_button.setEnabled(False)
            self.note_save_requested.emit(self._run_id, self.note_edit.toPlainText())

    def _on_parent_link_activated(self, link: str) -> None:
        if link.isdigit():
            self.run_link_activated.emit(int(link))
