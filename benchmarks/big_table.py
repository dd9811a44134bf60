"""Select-all, copy and sort on a 1,000,000-row table: how long the GUI thread is busy.

Goal (issue 14): select-all on 1M rows ≤ 100 ms of GUI-thread time, and copy and sort never
stall the event loop more than 100 ms. The baseline is the same ``DataTableView`` with Qt's
own column header, in the same run: that header asks the selection model, for every column
it paints, whether each row is selected, so its select-all costs grow with the rows (it is
measured on ``--baseline-rows`` rows, because on 1M rows it takes minutes).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.big_table [--rows N] [--columns N]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def table(rows: int, columns: int):
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(0)
    return pa.table({f"x{i}": rng.normal(size=rows) for i in range(columns)})


def select_all_seconds(app, view) -> float:
    """GUI-thread time of Ctrl+A and the repaint that follows it."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    view.clearSelection()
    app.processEvents()
    start = time.perf_counter()
    QTest.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    view.viewport().repaint()
    view.horizontalHeader().viewport().repaint()
    return time.perf_counter() - start


def longest_gap_until(app, done) -> tuple[float, float]:
    """Spin the event loop until ``done()``: (wall seconds, longest gap between two spins)."""
    start = last = time.perf_counter()
    longest = 0.0
    while not done():
        app.processEvents()
        time.sleep(0.005)
        now = time.perf_counter()
        longest = max(longest, now - last - 0.005)
        last = now
    return time.perf_counter() - start, longest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=21)
    parser.add_argument("--baseline-rows", type=int, default=50_000)
    args = parser.parse_args()

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QHeaderView

    from app.jobs.runner import JobRunner
    from app.ui.widgets.table_view import DataTableView

    app = QApplication.instance() or QApplication([])
    runner = JobRunner()
    try:
        small = table(args.baseline_rows, args.columns)
        qt_header = DataTableView(runner=runner)
        qt_header.setHorizontalHeader(QHeaderView(Qt.Orientation.Horizontal, qt_header))
        ours_small = DataTableView(runner=runner)
        for view in (qt_header, ours_small):
            view.resize(1000, 650)
            view.show()
            view.set_table(small)
        app.processEvents()
        base = select_all_seconds(app, qt_header)
        mine = select_all_seconds(app, ours_small)
        print(
            f"select-all on {args.baseline_rows:,} rows × {args.columns}: Qt's header "
            f"{base * 1000:.0f} ms, ModelDesk's {mine * 1000:.1f} ms ({base / mine:.0f}× less)"
        )

        big = table(args.rows, args.columns)
        view = DataTableView(runner=runner)
        view.resize(1000, 650)
        view.show()
        view.set_table(big)
        app.processEvents()
        seconds = select_all_seconds(app, view)
        print(
            f"select-all on {args.rows:,} rows: {seconds * 1000:.1f} ms of GUI-thread time "
            f"(goal ≤ 100 ms) {'OK' if seconds <= 0.1 else 'MISSED'}"
        )
        copied: list[int] = []
        view.copied.connect(lambda rows, _cols: copied.append(rows))
        QTest.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
        wall, gap = longest_gap_until(app, lambda: bool(copied))
        print(
            f"copy of {copied[0]:,} rows: {wall:.1f} s in a job; longest GUI gap {gap * 1e3:.0f} ms"
        )
        sorted_: list[int] = []
        view.sorted.connect(lambda column, _order: sorted_.append(column))
        view.sort_by(0, Qt.SortOrder.AscendingOrder)
        wall, gap = longest_gap_until(app, lambda: bool(sorted_))
        print(
            f"sort of {args.rows:,} rows: {wall:.2f} s in a job; longest GUI gap {gap * 1e3:.0f} ms"
        )
        QGuiApplication.clipboard().setText("")
    finally:
        runner.shutdown(timeout=30)


if __name__ == "__main__":
    main()
