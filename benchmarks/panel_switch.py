"""Switching panels once they are built: a click in the switcher → the new panel painted.

Goal (issue 14): ≤ 100 ms, median and worst, over all eight panels. A real ``MainWindow``
(offscreen, 1400×900) on a temporary store with a dataset, ``--runs`` trained runs and two
registered versions of one model with a champion, so Runs, Registry, Deploy and Monitor show
rows. Each panel is first shown once (the *cold* switch: the panel is built and starts its
loading jobs, the baseline this run compares against), the window waits until every job has
answered, and then each panel is switched to ``--rounds`` times in turn. One switch is timed
from ``show_panel`` (what a click in the switcher or a View-menu entry calls) to the end of a
synchronous repaint of the window with the posted events processed (wall time, and the GUI
thread's CPU time, which other load on the machine barely changes); the jobs a switch starts
are awaited off the clock before the next one.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.panel_switch [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

GOAL_S = 0.100


def populate(services, runs: int) -> None:
    """A dataset, ``runs`` runs on it, two versions of one model, the second the champion."""
    import numpy as np
    import pyarrow as pa

    from app.core.training import TrainRequest

    rng = np.random.default_rng(0)
    n = 600
    cols = {f"x{i}": rng.normal(size=n) for i in range(8)}
    signal = cols["x0"] + 0.5 * cols["x1"] - cols["x2"] + rng.normal(scale=0.7, size=n)
    cols["label"] = np.where(signal > 0, "yes", "no")
    services.datasets.add_table(pa.table(cols), name="bench", source_kind="benchmark")
    ids = []
    for i in range(runs):
        request = TrainRequest(
            "bench@1",
            "label",
            "random_forest" if i % 2 else "logistic",
            folds=2,
            test_size=0.0,
            plots=False,
        )
        ids.append(services.training.train_inline(request).id)
    for run_id in ids[:2]:
        services.registry.register(run_id, "bench-model")
    services.registry.set_alias("bench-model", "champion", 2 if len(ids) > 1 else 1)


def wait_idle(app, runner, timeout: float = 120.0) -> None:
    """Process events until no job is live and every job's last event has been delivered."""
    from app.ui.job_bridge import JobBridge

    deadline = time.perf_counter() + timeout
    while runner.live or JobBridge.live_count():
        if time.perf_counter() > deadline:
            raise SystemExit("the panels' jobs did not finish within the deadline")
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()


CPU: list[float] = []  # GUI-thread CPU seconds of each timed switch (load barely moves it)


def switch(app, window, key: str) -> float:
    start, cpu = time.perf_counter(), time.thread_time()
    window.show_panel(key)
    window.repaint()
    app.processEvents()
    CPU.append(time.thread_time() - cpu)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.bootstrap import build_services
    from app.jobs.runner import JobRunner
    from app.ui.main_window import MainWindow
    from app.ui.panels import PANEL_KEYS

    folder = Path(tempfile.mkdtemp(prefix="md-panel-switch-"))
    app = QApplication.instance() or QApplication([])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "cfg"))
    services = build_services(f"sqlite:///{folder / 'store' / 'modeldesk.db'}")
    runner = JobRunner()
    try:
        populate(services, args.runs)
        window = MainWindow(services=services, runner=runner)
        window.resize(1400, 900)
        window.show()
        wait_idle(app, runner)
        cold = {}
        for key in PANEL_KEYS[1:] + PANEL_KEYS[:1]:  # the window opens on the first
            cold[key] = switch(app, window, key)
            wait_idle(app, runner)
        warm: dict[str, list[float]] = {key: [] for key in PANEL_KEYS}
        CPU.clear()
        for _ in range(args.rounds):
            for key in PANEL_KEYS[1:] + PANEL_KEYS[:1]:
                warm[key].append(switch(app, window, key))
                wait_idle(app, runner)
        window.close()
        wait_idle(app, runner)
    finally:
        runner.shutdown(timeout=10)
        services.close()
        shutil.rmtree(folder, ignore_errors=True)

    print(f"panel switch, offscreen 1400x900, {args.rounds} rounds, {args.runs} runs in store")
    print(f"{'panel':<10} {'cold (builds)':>14} {'median':>9} {'worst':>9}")
    for key in PANEL_KEYS:
        print(
            f"{key:<10} {cold[key] * 1000:>11.1f} ms {statistics.median(warm[key]) * 1000:>6.1f} ms"
            f" {max(warm[key]) * 1000:>6.1f} ms"
        )
    every = [t for times in warm.values() for t in times]
    median, worst = statistics.median(every), max(every)
    cold_median = statistics.median(cold.values())
    print(
        f"all panels: median {median * 1000:.1f} ms, worst {worst * 1000:.1f} ms "
        f"(goal ≤ {GOAL_S * 1000:.0f} ms: {'met' if worst <= GOAL_S else 'NOT met'}); "
        f"baseline cold switch median {cold_median * 1000:.1f} ms, ratio {median / cold_median:.3f}"
    )
    print(
        f"GUI-thread CPU per switch: median {statistics.median(CPU) * 1000:.1f} ms, "
        f"worst {max(CPU) * 1000:.1f} ms (wall figures above include waiting for a CPU)"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
