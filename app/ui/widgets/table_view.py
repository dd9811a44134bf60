"""The table view every panel uses for data: a ``QTableView`` over a ``DataFrameModel``.

Rows have a fixed height (a million rows cost nothing to lay out) and columns get a width
from their header and first rows when a table is set, bounded, in O(columns × 64).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.ui.widgets.dataframe_model import DataFrameModel

if TYPE_CHECKING:
    import pyarrow as pa

MIN_WIDTH, MAX_WIDTH, SAMPLE_ROWS = 56, 320, 64


class DataTableView(QTableView):
    def __init__(self, parent: QWidget | None = None, model: DataFrameModel | None = None) -> None:
        super().__init__(parent)
        self.data_model = model or DataFrameModel(parent=self)
        self.setModel(self.data_model)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)

    def set_table(self, table: pa.Table | None) -> None:
        self.data_model.set_table(table)
        self.fit_columns()

    def fit_columns(self) -> None:
        model: Any = self.data_model
        cells = self.fontMetrics()
        header = self.horizontalHeader().fontMetrics()
        names = model.column_names()
        sample = min(model.rowCount(), SAMPLE_ROWS)
        for col, name in enumerate(names):
            width = header.horizontalAdvance(name) + 28
            for row in range(sample):
                width = max(width, cells.horizontalAdvance(model.display_text(row, col)) + 16)
            self.setColumnWidth(col, max(MIN_WIDTH, min(width, MAX_WIDTH)))
