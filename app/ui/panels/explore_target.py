"""The Explore panel's Target tab: balance or distribution, features ranked by mutual
information with their held-out scores, and the selected feature plotted against the target.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QTableWidgetItem, QVBoxLayout, QWidget

from app.ui.panels.explore_views import _canvas, _fixed, _table


class TargetView(QWidget):
    column_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc: dict[str, Any] | None = None
        self._drawn = False
        self.note = QLabel(
            "Pick a target above to see its balance, what each feature says "
            "about it, and possible leakage."
        )
        self.note.setWordWrap(True)
        self.summary = _canvas("target")
        self.features = _table(
            ["Feature", "MI (nats)", "MI / H(target)", "Held-out score", "Pearson", "Spearman"]
        )
        self.features.setObjectName("explore-target-features")
        self.features.currentCellChanged.connect(self._on_features_current_changed)
        self.features.cellDoubleClicked.connect(self._on_features_double_clicked)
        self.feature_plot = _canvas("feature-vs-target")
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.features)
        bottom.addWidget(self.feature_plot)
        bottom.setSizes([520, 640])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.summary)
        split.addWidget(bottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(split, 1)
        self._split = split
        split.setVisible(False)

    def set_profile(self, doc: dict[str, Any]) -> None:
        self._doc = doc
        self._drawn = False
        t = doc.get("target")
        self._split.setVisible(bool(t))
        if not t:
            self.note.setText(
                "Pick a target above to see its balance, what each feature says "
                "about it, and possible leakage."
            )
            self.features.setRowCount(0)
            return
        self.note.setText(
            f"Target {t['column']} ({t['task']}). Mutual information and the held-out score "
            f"(how well the feature alone predicts the target on unseen rows) use a sample of "
            f"{t['sample_rows']:,} rows. Select a feature to plot it against the target."
        )
        feats = t["features"]
        self.features.setRowCount(len(feats))
        for r, f in enumerate(feats):
            values = (
                f["name"],
                _fixed(f["mutual_information"], 4),
                _fixed(f.get("normalized"), 4),
                _fixed(f.get("leakage_score"), 3),
                _fixed(f.get("pearson"), 3),
                _fixed(f.get("spearman"), 3),
            )
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.features.setItem(r, c, item)
        self.features.resizeColumnsToContents()

    def ensure_drawn(self) -> None:
        if self._doc is None or self._drawn or not self._doc.get("target"):
            return
        from app.core.profiling import plots_target as plots

        t = self._doc["target"]
        column = next((c for c in self._doc["columns"] if c["name"] == t["column"]), None)
        plots.draw_target(self.summary.figure, t, column)
        self.summary.draw_idle()
        self._drawn = True
        if t["features"]:
            self.features.selectRow(0)
            self._draw_feature(0)

    def _draw_feature(self, row: int) -> None:
        if self._doc is None or not self._doc.get("target"):
            return
        from app.core.profiling import plots_target as plots

        t = self._doc["target"]
        if 0 <= row < len(t["features"]):
            feat = t["features"][row]
            plots.draw_feature_vs_target(self.feature_plot.figure, t, feat)
            self.feature_plot.export_name = f"{t['column']}-by-{feat['name']}"
            self.feature_plot.draw_idle()

    def _on_features_current_changed(self, row: int, *_args: int) -> None:
        if self._drawn:
            self._draw_feature(row)

    def _on_features_double_clicked(self, row: int, _column: int) -> None:
        item = self.features.item(row, 0)
        if item is not None:
            self.column_activated.emit(item.text())
