"""The Runs panel's table over a store of 100,000 runs × 10 params × 5 metrics.

Goals (issue 4): open the runs table (first page shown) ≤ 0.5 s; re-sort by a metric
≤ 0.2 s. Both are measured through the real panel and model, offscreen, with the query on
the job runner exactly as in the GUI: "open" is from constructing ``RunsPanel`` (with three
metric and two param columns chosen) to the first page in the model; "re-sort" is from a
header click (``sortByColumn``) to the new first page. Each figure is the median of
``--repeat`` tries (each re-sort alternates metric and direction, so no result is cached by
the model). The store is built once with SQLAlchemy Core bulk inserts in one transaction
and kept in a temporary folder (``--keep`` prints where).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.runs_table [--runs N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

N_PARAMS, N_METRICS = 10, 5
ESTIMATORS = ("random_forest", "logistic_regression", "hist_gradient_boosting", "knn", "svm")


def populate(services, n: int, *, seed: int = 0) -> float:
    """n runs with params p0..p9 and metrics m0..m4; returns the seconds it took."""
    from sqlalchemy import insert

    from app.core.store.models import RunLatestMetricRow, RunMetricRow, RunParamRow, RunRow

    rnd = random.Random(seed)
    start = time.perf_counter()
    base = datetime(2024, 1, 1, tzinfo=UTC)
    batch = 20_000
    with services.store.engine.begin() as conn:
        for first in range(1, n + 1, batch):
            runs, params, latest, points = [], [], [], []
            for i in range(first, min(first + batch, n + 1)):
                when = base + timedelta(seconds=i)
                runs.append(
                    {
                        "id": i,
                        "name": f"run-{i}",
                        "experiment": "Default",
                        "target": "y",
                        "task": "binary",
                        "estimator": ESTIMATORS[i % len(ESTIMATORS)],
                        "status": "failed" if i % 20 == 0 else "finished",
                        "seed": i,
                        "recipe": {},
                        "env": {},
                        "note": "",
                        "owner": "",
                        "started_at": when,
                        "ended_at": when + timedelta(seconds=rnd.uniform(1, 90)),
                    }
                )
                for p in range(N_PARAMS):
                    params.append({"run_id": i, "key": f"p{p}", "value": str(rnd.randint(1, 64))})
                for m in range(N_METRICS):
                    value = rnd.random()
                    latest.append({"run_id": i, "key": f"m{m}", "value": value, "step": 0})
                    points.append(
                        {
                            "run_id": i,
                            "key": f"m{m}",
                            "value": value,
                            "step": 0,
                            "ts": when.timestamp(),
                        }
                    )
            conn.execute(insert(RunRow), runs)
            conn.execute(insert(RunParamRow), params)
            conn.execute(insert(RunLatestMetricRow), latest)
            conn.execute(insert(RunMetricRow), points)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--store", help="reuse a store folder made by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary store")
    args = parser.parse_args()

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from app.bootstrap import build_services
    from app.jobs.runner import JobRunner
    from app.ui.panels.runs_panel import RunsPanel
    from app.ui.panels.runs_table_model import FIXED_COLUMNS

    app = QApplication.instance() or QApplication([])
    folder = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="md-runs-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "ini"))
    app.setOrganizationName("ModelDeskBench")
    app.setApplicationName("ModelDeskBench")
    fresh = not (folder / "store.db").exists()
    services = build_services(f"sqlite:///{folder / 'store.db'}")
    if fresh:
        seconds = populate(services, args.runs)
        print(
            f"store: {args.runs:,} runs × {N_PARAMS} params × {N_METRICS} metrics "
            f"built in {seconds:.1f} s ({folder})"
        )
    runner = JobRunner()
    columns = ["metrics.m0", "metrics.m1", "metrics.m2", "params.p0", "params.p1"]
    QSettings().setValue(RunsPanel.COLUMNS_KEY, columns)

    def wait(predicate, timeout: float = 30.0) -> None:
        end = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > end:
                raise TimeoutError("the runs table did not load")
            app.processEvents()
            time.sleep(0.0005)

    def idle() -> bool:
        return not runner.live

    opens = []
    panel = None
    for _ in range(args.repeat):
        if panel is not None:  # one panel at a time, the previous one's jobs all done
            panel.close()
            panel.deleteLater()
        wait(idle)
        app.processEvents()
        start = time.perf_counter()
        panel = RunsPanel(tracking=services.tracking, datasets=services.datasets, runner=runner)
        panel.resize(1200, 800)
        panel.show()
        wait(lambda p=panel: not p.model.loading and p.model.run_at(0) is not None)
        opens.append(time.perf_counter() - start)
    wait(idle)
    total = panel.model.total

    resorts = []
    for n in range(args.repeat):
        key = f"metrics.m{n % 3}"
        col = len(FIXED_COLUMNS) + panel.model.columns().index(key)
        order = Qt.SortOrder.DescendingOrder if n % 2 else Qt.SortOrder.AscendingOrder
        wait(idle)
        start = time.perf_counter()
        panel.table.sortByColumn(col, order)
        wait(lambda: not panel.model.loading)
        resorts.append(time.perf_counter() - start)
        app.processEvents()
    query = panel.model.last_query_seconds

    filt = []
    for n in range(args.repeat):
        wait(idle)
        start = time.perf_counter()
        panel.model.update_query(filter=f"metrics.m0 > 0.{n + 1} and params.p0 = {n + 3}")
        wait(lambda: not panel.model.loading)
        filt.append(time.perf_counter() - start)

    open_s, resort_s, filter_s = (statistics.median(x) for x in (opens, resorts, filt))
    print(f"runs in store: {total:,}")
    print(
        f"open runs table (first page shown): median {open_s * 1000:.0f} ms, "
        f"max {max(opens) * 1000:.0f} ms  (goal <= 500 ms) "
        f"{'OK' if open_s <= 0.5 else 'MISSED'}"
    )
    print(
        f"re-sort by a metric:                median {resort_s * 1000:.0f} ms, "
        f"max {max(resorts) * 1000:.0f} ms  (goal <= 200 ms) "
        f"{'OK' if resort_s <= 0.2 else 'MISSED'}  (last query alone {query * 1000:.0f} ms)"
    )
    print(f"filter metric + param:              median {filter_s * 1000:.0f} ms")
    print(f"rows held in memory: {panel.model.cached_row_count()} of {total:,}")
    panel.close()
    panel.deleteLater()
    app.processEvents()
    runner.shutdown(timeout=5)
    services.close()
    if not args.keep and not args.store:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
