"""Select-all, copy and sort on a 1,000,000-row table never stall the GUI thread.

Ctrl+A used to freeze the window for about 16 s (Qt's header asks the selection model about
every row of each painted column; Orange3 #5162 has the same freeze). These tests press the
real keys on a real ``DataTableView`` with the real runner, while a timer on the GUI thread
measures the longest gap between its ticks.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from app.jobs.runner import JobRunner
from app.ui.widgets.table_jobs import CellRange, copy_cells, selected_rows_and_columns
from app.ui.widgets.table_view import COPY_MIME, DataTableView

ROWS = 1_000_000
MAX_GAP_S = 0.100  # beyond one ordinary repaint of the view (see repaint_cost)
WAIT_MS = 120_000


class GapProbe:
    """Ticks every 10 ms on the GUI thread and keeps the longest gap between two ticks."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.ticks = 0
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last - 0.010)
        self._last = now
        self.ticks += 1

    def stop(self) -> None:
        self._timer.stop()


def repaint_cost(view: DataTableView) -> float:
    """The longest of three synchronous repaints of the whole view: what any frame costs on
    this machine now, whatever the selection (a busy CI machine makes it tens of ms)."""
    costs = []
    for _ in range(3):
        start = time.perf_counter()
        view.viewport().repaint()
        view.horizontalHeader().viewport().repaint()
        view.verticalHeader().viewport().repaint()
        costs.append(time.perf_counter() - start)
    return max(costs)


@pytest.fixture(scope="module")
def big_table() -> pa.Table:
    rng = np.random.default_rng(7)
    return pa.table(
        {
            "x": rng.normal(size=ROWS),
            "n": rng.integers(0, 1000, size=ROWS),
            "city": pa.array(rng.choice(["Paris", "Lyon", "Nice"], ROWS)).dictionary_encode(),
            "with\ttab": np.where(rng.random(ROWS) < 0.5, "a\tb", "plain"),
        }
    )


@pytest.fixture
def view(qtbot, big_table):
    runner = JobRunner()
    table_view = DataTableView(runner=runner)
    qtbot.addWidget(table_view)
    table_view.resize(1000, 650)
    table_view.show()
    qtbot.waitExposed(table_view)
    table_view.set_table(big_table)
    yield table_view
    QGuiApplication.clipboard().setText("")  # nothing lazy left for the interpreter's exit
    runner.shutdown(timeout=30)


def test_select_all_and_copy_keep_the_gui_fluid(qtbot, view, big_table) -> None:
    bound = MAX_GAP_S + repaint_cost(view)
    probe = GapProbe()
    try:
        QTest.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        assert view.selected_ranges() == [CellRange(0, ROWS - 1, 0, 3)]
        with qtbot.waitSignal(view.copied, timeout=WAIT_MS) as copied:
            QTest.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    finally:
        probe.stop()
    assert copied.args == [ROWS, 4]
    assert probe.ticks > 5
    assert probe.longest < bound, f"the GUI thread stalled {probe.longest * 1000:.0f} ms"
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.hasFormat(COPY_MIME)
    lines = bytes(mime.data("text/plain")).decode().split("\n")
    assert lines[0].split("\t")[0].strip('"') == "x"
    assert len(lines) == ROWS + 2  # header, every row, the final newline
    first = big_table.slice(0, 1).to_pylist()[0]
    cells = lines[1].split("\t")
    assert float(cells[0]) == pytest.approx(first["x"]) and int(cells[1]) == first["n"]


def test_sort_by_a_header_click_runs_off_the_gui_thread(qtbot, view, big_table) -> None:
    header = view.horizontalHeader()
    bound = MAX_GAP_S + repaint_cost(view)
    probe = GapProbe()
    try:
        with qtbot.waitSignal(view.sorted, timeout=WAIT_MS):
            centre = _section_centre(header, 0)
            QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    finally:
        probe.stop()
    assert probe.longest < bound, f"the GUI thread stalled {probe.longest * 1000:.0f} ms"
    values = big_table.column("x").to_numpy()
    assert float(view.data_model.display_text(0, 0)) == pytest.approx(values.min())
    top = view.data_model.table_row(0)
    assert view.data_model.headerData(0, Qt.Orientation.Vertical) == str(top + 1)
    with qtbot.waitSignal(view.sorted, timeout=WAIT_MS):  # a second click: descending
        QTest.mouseClick(
            header.viewport(), Qt.MouseButton.LeftButton, pos=_section_centre(header, 0)
        )
    assert float(view.data_model.display_text(0, 0)) == pytest.approx(values.max())


def _section_centre(header, section: int):
    from PySide6.QtCore import QPoint

    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    return QPoint(x, header.height() // 2)


def test_several_rectangles_copy_as_rows_by_columns(big_table) -> None:
    class Progress:
        def update(self, *_a) -> None: ...
        def check_cancelled(self) -> None: ...

    small = big_table.slice(0, 10)
    ranges = [CellRange(1, 2, 0, 0), CellRange(5, 5, 1, 1)]
    rows, columns = selected_rows_and_columns(ranges)
    assert rows.tolist() == [1, 2, 5] and columns == [0, 1]
    order = pa.array(list(range(9, -1, -1)))  # the view shows the rows reversed
    text = copy_cells(small, ranges, order, progress=Progress()).payload.to_pybytes().decode()
    lines = text.strip("\n").split("\n")
    expected_rows = [9 - r for r in (1, 2, 5)]
    assert [int(line.split("\t")[1]) for line in lines[1:]] == [
        small.column("n")[r].as_py() for r in expected_rows
    ]
