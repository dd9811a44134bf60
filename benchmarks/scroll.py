"""Scrolling a million rows: the display text of one screen at random positions.

Loads the shared 1,000,000 × 21 benchmark table (``benchmarks.data``), puts it in the
``DataFrameModel`` and, at random first rows, asks ``model.data(model.index(r, c))`` for the
display text of 50 rows × all 21 columns, as a view does when it paints a screen. Positions
are random over the whole table, so nearly every screen converts fresh row blocks (the cold
case). Reports median and p95 in ms. Goal (issue: foundation): ≤ 5 ms per screen.
It also times a real repaint of a 50-row ``QTableView`` after a jump, for reference.

    .venv/bin/python -m benchmarks.scroll [--positions 500]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

VISIBLE_ROWS = 50


def load_table(rows: int):
    import pyarrow.csv as pacsv

    from benchmarks.data import mixed_csv

    return pacsv.read_csv(mixed_csv(rows))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--positions", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import pyarrow.compute  # noqa: F401  (the app imports it in the loading job)
    from PySide6.QtWidgets import QApplication

    from app.ui.widgets.table_view import DataTableView

    app = QApplication.instance() or QApplication([])
    table = load_table(args.rows)
    view = DataTableView()
    view.set_table(table)
    model = view.data_model
    rows, cols = model.rowCount(), model.columnCount()
    rng = random.Random(args.seed)

    fetch: list[float] = []
    for _ in range(args.positions):
        first = rng.randrange(0, rows - VISIBLE_ROWS)
        start = time.perf_counter()
        for r in range(first, first + VISIBLE_ROWS):
            for c in range(cols):
                model.data(model.index(r, c))
        fetch.append((time.perf_counter() - start) * 1000)

    row_height = view.verticalHeader().defaultSectionSize()
    view.resize(1400, row_height * VISIBLE_ROWS + view.horizontalHeader().height() + 4)
    view.show()
    app.processEvents()
    paint: list[float] = []
    for _ in range(min(args.positions, 200)):
        view.verticalScrollBar().setValue(rng.randrange(0, rows - VISIBLE_ROWS))
        start = time.perf_counter()
        view.viewport().grab()
        paint.append((time.perf_counter() - start) * 1000)

    print(f"table: {rows:,} rows × {cols} columns; {args.positions} random positions")
    print(
        f"display text of {VISIBLE_ROWS} rows × {cols} columns: median "
        f"{statistics.median(fetch):.2f} ms, p95 {percentile(fetch, 0.95):.2f} ms (goal <= 5 ms)"
    )
    print(
        f"full repaint of the view after a jump (reference): median "
        f"{statistics.median(paint):.2f} ms, p95 {percentile(paint, 0.95):.2f} ms"
    )


if __name__ == "__main__":
    main()
