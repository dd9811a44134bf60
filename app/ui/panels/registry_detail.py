"""The detail tabs of one model version: signature, metrics, card (with its editable fields),
lineage graph, audit history, and the side-by-side comparison of two versions.

The tabs only show what a ``load_detail`` job returned; saving a card field is asked of the
panel through ``card_save_requested(field, text)``, which runs it as a job.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.ui.panels.registry_lineage import LineageView

CARD_FIELDS = ("intended_use", "out_of_scope", "limitations", "ethical_considerations", "owner")


def small_table(headers: list[str]) -> QTableWidget:
    """A read-only table for a handful of rows (a version's columns, metrics, audit)."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    return table


def fill(table: QTableWidget, rows: list[list[Any]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, float):
                text = f"{value:.4f}"
            else:
                text = "–" if value is None else str(value)
            table.setItem(r, c, QTableWidgetItem(text))


def signature_rows(version: Any) -> list[list[Any]]:
    rows = []
    for c in version.signature.get("columns", []):
        if c.get("categories"):
            values = ", ".join(map(str, c["categories"][:8]))
        elif "min" in c:
            values = f"{c['min']:.4g} … {c['max']:.4g}"
        else:
            values = ""
        rows.append([c["name"], c.get("dtype"), c.get("treatment"), c.get("missing"), values])
    return rows


def audit_rows(entries: list[Any]) -> list[list[Any]]:
    return [
        [
            e.at[:19],
            e.actor,
            e.action,
            e.subject,
            ", ".join(f"{k}={x}" for k, x in e.details.items() if k != "policy"),
        ]
        for e in entries
    ]


def compare_rows(a: Any, b: Any) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["estimator", a.estimator, b.estimator],
        ["run", a.run_id, b.run_id],
        ["dataset version id", a.dataset_version_id, b.dataset_version_id],
        ["status", a.status, b.status],
        ["aliases", ", ".join(a.aliases), ", ".join(b.aliases)],
    ]
    for key in sorted(set(a.metrics) | set(b.metrics)):
        rows.append([key, a.metrics.get(key), b.metrics.get(key)])
    return rows


class VersionDetail(QTabWidget):
    card_save_requested = Signal(str, str)  # card field, text

    def __init__(self) -> None:
        super().__init__()
        self.signature = small_table(["Column", "Dtype", "Treatment", "Missing", "Values"])
        self.metrics = small_table(["Metric", "Value"])
        self.card = QTextBrowser()
        self.card_edit = QPlainTextEdit()
        self.card_field = QComboBox()
        self.card_field.addItems(CARD_FIELDS)
        self.card_save = QPushButton("Save field")
        self.lineage = LineageView()
        self.audit = small_table(["When", "Who", "Action", "Subject", "Details"])
        self.compare = small_table(["", "", ""])
        self._card_values: dict[str, str] = {}

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
            self.addTab(widget, title)
        self.card_field.currentTextChanged.connect(self._on_card_field_changed)
        self.card_save.clicked.connect(self._on_card_save_clicked)

    def show_detail(self, detail: dict[str, Any]) -> None:
        v = detail["version"]
        fill(self.signature, signature_rows(v))
        fill(self.metrics, [[k, val] for k, val in sorted(v.metrics.items())])
        self.card.setHtml(detail["card"])
        self._card_values = dict(v.card)
        self.card_edit.setPlainText(self._card_values.get(self.card_field.currentText(), ""))
        self.lineage.show_graph(detail["lineage"])
        fill(self.audit, audit_rows(detail["audit"]))

    def show_compare(self, a: Any, b: Any) -> None:
        self.compare.setHorizontalHeaderLabels(["", f"version {a.version}", f"version {b.version}"])
        fill(self.compare, compare_rows(a, b))
        self.setCurrentWidget(self.compare)

    def _on_card_field_changed(self, field: str) -> None:
        self.card_edit.setPlainText(self._card_values.get(field, ""))

    def _on_card_save_clicked(self) -> None:
        self.card_save_requested.emit(self.card_field.currentText(), self.card_edit.toPlainText())
