"""The Explore panel's other tabs: overview cards and warnings, association heatmaps and
missing values (the target analysis is in ``explore_target``). Each view only shows the
profile document it is given; plots are drawn when the view is first shown
(``ensure_drawn``), not all at once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

MEASURE_NAMES = {
    "pearson": "Pearson r",
    "spearman": "Spearman ρ",
    "cramers_v": "Cramér's V",
    "correlation_ratio": "η",
}
MEASURES = (
    ("pearson", "Pearson r (numeric × numeric)"),
    ("spearman", "Spearman ρ (numeric × numeric)"),
    ("cramers_v", "Cramér's V, bias-corrected (categorical × categorical)"),
    ("correlation_ratio", "Correlation ratio η (numeric × categorical)"),
)
NAME_ROLE = Qt.ItemDataRole.UserRole


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _fixed(v: Any, decimals: int) -> str:
    return "—" if v is None else f"{v:.{decimals}f}"


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
    return table


def _canvas(name: str, parent: QWidget | None = None) -> Any:
    from app.ui.widgets.plot_canvas import PlotCanvas

    canvas = PlotCanvas(parent, export_name=name)
    canvas.setObjectName(f"explore-{name}")
    canvas.setMinimumHeight(220)
    return canvas


# -- overview ---------------------------------------------------------------------------------


class Card(QFrame):
    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName(f"card-{caption.lower().replace(' ', '-')}")
        self.value = QLabel("—")
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        self.caption = QLabel(caption)
        self.caption.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        self.setMinimumWidth(120)

    def set_value(self, text: str, tip: str = "") -> None:
        self.value.setText(text)
        self.setToolTip(tip)


class OverviewView(QWidget):
    """Cards with the headline numbers, notes on sampling, and the warnings list."""

    column_activated = Signal(str)

    CARDS = ("Rows", "Columns", "Missing cells", "Duplicate rows", "Memory", "Warnings")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards = {name: Card(name) for name in self.CARDS}
        grid = QGridLayout()
        grid.setSpacing(8)
        for i, card in enumerate(self.cards.values()):
            grid.addWidget(card, 0, i)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings = QTreeWidget()
        self.warnings.setObjectName("explore-warnings")
        self.warnings.setHeaderLabels(["Warning", "Columns", "Details"])
        self.warnings.setRootIsDecorated(False)
        self.warnings.setAlternatingRowColors(True)
        self.warnings.setWordWrap(True)
        self.warnings.setUniformRowHeights(False)
        header = self.warnings.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 170)
        header.setStretchLastSection(True)
        self.warnings.itemActivated.connect(self._on_warnings_item_activated)
        self.warnings.itemDoubleClicked.connect(self._on_warnings_item_activated)
        hint = QLabel("Double-click a warning to open its column.")
        hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(grid)
        layout.addWidget(self.notes)
        layout.addWidget(self.warnings, 1)
        layout.addWidget(hint)

    def set_profile(self, doc: dict[str, Any], *, cached: bool, seconds: float) -> None:
        ov = doc["overview"]
        dup = ov.get("duplicates") or {}
        warnings = doc.get("warnings", [])
        severe = sum(1 for w in warnings if w["severity"] == "warning")
        values = {
            "Rows": (f"{ov['rows']:,}", ""),
            "Columns": (
                f"{ov['columns']:,}",
                ", ".join(f"{n} {r}" for r, n in sorted(ov["roles"].items())),
            ),
            "Missing cells": (
                f"{ov['missing_share'] * 100:.1f}%",
                f"{ov['missing_cells']:,} cells; {ov.get('rows_with_missing', 0):,}"
                " rows have at least one",
            ),
            "Duplicate rows": (f"{dup.get('count', 0):,}", dup.get("method", "")),
            "Memory": (_bytes(ov["memory_bytes"]), "in memory as Arrow"),
            "Warnings": (
                f"{len(warnings)}",
                f"{severe} serious, {len(warnings) - severe} to look at",
            ),
        }
        for name, (text, tip) in values.items():
            self.cards[name].set_value(text, tip)
        how = "Read from the store" if cached else f"Computed in {seconds:.1f} s"
        roles = ", ".join(f"{n} {r}" for r, n in sorted(ov["roles"].items()))
        sampled = [
            f"{s['part']} on a sample of {s['rows']:,} rows"
            for s in doc.get("samples", [])
            if s["rows"] < s["of"]
        ]
        text = f"{how}. Roles: {roles}."
        if sampled:
            text += " Sampled: " + "; ".join(sampled) + ". Everything else is exact."
        self.notes.setText(text)
        self.warnings.clear()
        style = self.style()
        icons = {
            "warning": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
            "info": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation),
        }
        for w in warnings:
            item = QTreeWidgetItem([w["title"], ", ".join(w["columns"]), w["message"]])
            item.setIcon(0, icons[w["severity"]])
            item.setToolTip(2, w["message"])
            item.setData(0, NAME_ROLE, w["columns"][0] if w["columns"] else "")
            self.warnings.addTopLevelItem(item)

    def warning_texts(self) -> list[str]:
        return [
            self.warnings.topLevelItem(i).text(2) for i in range(self.warnings.topLevelItemCount())
        ]

    def _on_warnings_item_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        name = item.data(0, NAME_ROLE)
        if name:
            self.column_activated.emit(name)


# -- associations -----------------------------------------------------------------------------


class AssociationsView(QWidget):
    column_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc: dict[str, Any] | None = None
        self._drawn: str | None = None
        self._cells: tuple[list[str], list[str], list[list[Any]], str] | None = None
        self.measure = QComboBox()
        for key, title in MEASURES:
            self.measure.addItem(title, key)
        self.measure.currentIndexChanged.connect(self._on_measure_changed)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.canvas = _canvas("associations")
        self.canvas.set_hover(self._hover)
        self.pairs = _table(["Column", "Column", "Measure", "Value"])
        self.pairs.setObjectName("explore-pairs")
        self.pairs.cellDoubleClicked.connect(self._on_pairs_cell_double_clicked)
        top = QHBoxLayout()
        top.addWidget(QLabel("Measure:"))
        top.addWidget(self.measure, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.canvas)
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(QLabel("Strongest pairs"))
        bl.addWidget(self.pairs, 1)
        split.addWidget(box)
        split.setStretchFactor(0, 3)
        split.setSizes([800, 360])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(split, 1)

    def set_profile(self, doc: dict[str, Any]) -> None:
        self._doc = doc
        self._drawn = None
        a = doc.get("associations") or {}
        if a.get("sampled"):
            text = f"On a random sample of {a['sample_rows']:,} of {a['rows']:,} rows."
        else:
            text = f"On all {a.get('rows', 0):,} rows."
        excluded = a.get("excluded") or {}
        if excluded:
            text += " Not compared: " + ", ".join(f"{k} ({v})" for k, v in excluded.items())
            text += "."
        self.note.setText(text + " Hover a cell for its value.")
        pairs = a.get("pairs", [])[:40]
        self.pairs.setRowCount(len(pairs))
        for r, p in enumerate(pairs):
            value = "—" if p["value"] is None else f"{p['value']:.3f}"
            for c, v in enumerate((p["a"], p["b"], MEASURE_NAMES[p["method"]], value)):
                self.pairs.setItem(r, c, QTableWidgetItem(v))
        self.pairs.resizeColumnsToContents()

    def ensure_drawn(self) -> None:
        key = self.measure.currentData()
        if self._doc is None or self._drawn == key:
            return
        from app.core.profiling import plots

        a = self._doc.get("associations") or {}
        rows = a.get("categorical" if key == "cramers_v" else "numeric", [])
        cols = a.get("numeric" if key in ("pearson", "spearman") else "categorical", [])
        matrix = a.get(key, [])
        title = self.measure.currentText().split(" (")[0]
        signed = key in ("pearson", "spearman")
        plots.draw_heatmap(
            self.canvas.figure,
            rows,
            cols,
            matrix,
            title,
            vmin=-1.0 if signed else 0.0,
            vmax=1.0,
            annotate=False,
        )
        self._cells = (list(rows), list(cols), matrix, title)
        self.canvas.export_name = f"associations-{key}"
        self.canvas.draw_idle()
        self._drawn = key

    def cell_text(self, i: int, j: int) -> str | None:
        if self._cells is None:
            return None
        rows, cols, matrix, title = self._cells
        if not (0 <= i < len(rows) and 0 <= j < len(cols)):
            return None
        v = matrix[i][j]
        return f"{rows[i]} × {cols[j]}\n{title}: {'n/a' if v is None else f'{v:.3f}'}"

    def _hover(self, event: Any) -> str | None:
        if event.inaxes is None or event.xdata is None or self._cells is None:
            return None
        if not event.inaxes.images:
            return None
        return self.cell_text(round(event.ydata), round(event.xdata))

    def _on_measure_changed(self, _index: int) -> None:
        self.ensure_drawn()

    def _on_pairs_cell_double_clicked(self, row: int, column: int) -> None:
        item = self.pairs.item(row, 0 if column != 1 else 1)
        if item is not None:
            self.column_activated.emit(item.text())


# -- missing values ---------------------------------------------------------------------------


class MissingView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc: dict[str, Any] | None = None
        self._drawn = False
        self._corr: tuple[list[str], list[list[Any]], list[list[int]]] | None = None
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.matrix = _canvas("missing-matrix")
        self.correlation = _canvas("missing-correlation")
        self.correlation.set_hover(self._hover)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.matrix)
        split.addWidget(self.correlation)
        split.setSizes([700, 460])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(split, 1)

    def set_profile(self, doc: dict[str, Any]) -> None:
        self._doc = doc
        self._drawn = False
        ov = doc["overview"]
        m = doc.get("missing") or {}
        shown = len(m.get("matrix", {}).get("rows", []))
        self.note.setText(
            f"{ov['missing_cells']:,} missing cells ({ov['missing_share'] * 100:.2f}%) in "
            f"{ov.get('rows_with_missing', 0):,} rows. Left: {shown:,} randomly sampled rows in "
            "file order. Right: how missingness of two columns goes together (exact; hover for "
            "counts)."
        )

    def ensure_drawn(self) -> None:
        if self._doc is None or self._drawn:
            return
        from app.core.profiling import plots

        m = self._doc.get("missing") or {}
        plots.draw_missing_matrix(self.matrix.figure, m, self._doc["columns"])
        self.matrix.draw_idle()
        co = m.get("cooccurrence") or {"columns": [], "correlation": [], "counts": []}
        if co["columns"]:
            plots.draw_heatmap(
                self.correlation.figure,
                co["columns"],
                co["columns"],
                co["correlation"],
                "Nullity correlation",
                annotate=False,
            )
            self._corr = (co["columns"], co["correlation"], co["counts"])
        else:
            self.correlation.figure.clear()
            self.correlation.figure.text(0.5, 0.5, "No value is missing.", ha="center")
            self._corr = None
        self.correlation.draw_idle()
        self._drawn = True

    def _hover(self, event: Any) -> str | None:
        if self._corr is None or event.inaxes is None or not event.inaxes.images:
            return None
        names, corr, counts = self._corr
        i, j = round(event.ydata), round(event.xdata)
        if not (0 <= i < len(names) and 0 <= j < len(names)):
            return None
        v = corr[i][j]
        return (
            f"{names[i]} × {names[j]}\nnullity correlation "
            f"{'n/a' if v is None else f'{v:.3f}'}\nmissing in both: {counts[i][j]:,} rows"
        )
