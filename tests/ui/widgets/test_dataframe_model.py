"""DataFrameModel: a million rows without a Python object per cell."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView

from app.ui.widgets.dataframe_model import (
    CACHE_BLOCKS,
    MISSING_ROLE,
    NULL_TEXT,
    VALUE_ROLE,
    DataFrameModel,
)

ROWS = 1_000_000


@pytest.fixture(scope="module")
def million() -> pa.Table:
    ids = np.arange(ROWS, dtype=np.int64)
    price = ids * 0.25
    price_mask = ids % 1000 == 999  # the last row's price is null
    names = pa.array([f"n{i % 97}" for i in range(1000)] * (ROWS // 1000))
    return pa.table(
        {
            "id": ids,
            "price": pa.array(price, mask=price_mask),
            "name": names,
            "flag": ids % 2 == 0,
        }
    )


def test_million_rows_last_row_and_null(qapp, million) -> None:
    model = DataFrameModel(million)
    assert model.rowCount() == ROWS and model.columnCount() == 4
    last = ROWS - 1
    assert model.data(model.index(last, 0)) == str(last)
    assert model.data(model.index(last, 2)) == f"n{(last % 1000) % 97}"
    assert model.data(model.index(last, 3)) == "false"
    # the price of the last row is null: shown as the null marker, flagged, greyed
    null = model.index(last, 1)
    assert model.data(null) == NULL_TEXT
    assert model.data(null, MISSING_ROLE) is True
    assert model.data(null, Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(null, VALUE_ROLE) is None
    present = model.index(last - 1, 1)
    assert model.data(present) == format((last - 1) * 0.25, ".10g")
    assert model.data(present, MISSING_ROLE) is False
    assert model.data(present, Qt.ItemDataRole.ForegroundRole) is None
    # numbers right-aligned, text left-aligned
    assert model.data(present, Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert model.data(model.index(0, 2), Qt.ItemDataRole.TextAlignmentRole) & (
        Qt.AlignmentFlag.AlignLeft
    )
    assert model.headerData(1, Qt.Orientation.Horizontal) == "price"
    assert model.headerData(last, Qt.Orientation.Vertical) == str(ROWS)
    assert not model.index(ROWS, 0).isValid() and not model.index(0, 4).isValid()


def test_cells_are_converted_in_bounded_blocks(qapp, million) -> None:
    model = DataFrameModel(million)
    for row in range(0, ROWS, ROWS // 2000):
        model.data(model.index(row, 2))
    assert len(model._cache) <= CACHE_BLOCKS  # no per-cell objects accumulate


def test_formats(qapp) -> None:
    table = pa.table(
        {
            "f": pa.array([1.5, float("nan"), 1e-12, 1234567.125, None]),
            "t": pa.array([dt.datetime(2024, 5, 1, 13, 2, 3)] * 4 + [None], pa.timestamp("s")),
            "d": pa.array([dt.date(2024, 5, 1)] * 5),
            "s": pa.array(["a\nb", "x" * 1000, "", None, "plain"]),
            "b": pa.array([b"\x00\x01", None, b"", b"x", b"yz"]),
        }
    )
    model = DataFrameModel(table)
    text = model.display_text
    assert [text(r, 0) for r in range(5)] == ["1.5", "NaN", "1e-12", "1234567.125", NULL_TEXT]
    assert model.data(model.index(1, 0), MISSING_ROLE) is True  # NaN counts as missing
    assert text(0, 1) == "2024-05-01 13:02:03" and text(4, 1) == NULL_TEXT
    assert text(0, 2) == "2024-05-01"
    assert text(0, 3) == "a ↵ b" and len(text(1, 3)) <= 300 and text(1, 3).endswith("…")
    assert model.data(model.index(1, 3), Qt.ItemDataRole.ToolTipRole) == "x" * 1000
    assert text(2, 3) == "" and text(3, 3) == NULL_TEXT
    assert text(0, 4) == "<2 bytes>"


def test_view_over_million_rows_paints(qtbot, million) -> None:
    model = DataFrameModel(million)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    view.scrollToBottom()
    view.viewport().grab()  # paints the last rows through the real delegate
    assert view.rowAt(view.viewport().height() - 2) == ROWS - 1


def test_set_table_none_empties(qapp, million) -> None:
    model = DataFrameModel(million)
    model.set_table(None)
    assert model.rowCount() == 0 and model.columnCount() == 0 and model.table() is None
