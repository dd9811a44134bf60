"""Does the GUI thread stay free while the Tuning panel draws Optuna's plots?

Goal (issue 14, uirest item 2): no GUI stall over ~100 ms while the plots of a study of 40
trials render (the old panel drew each figure on the GUI thread: 384 ms worst stall
measured). For every plot the baseline is the old way, in the same run: the figure built in
a worker, then laid out and drawn on the GUI thread at 1200×760 (``FigureCanvasAgg.draw``,
what ``FigureCanvasQTAgg`` does in its paint). The new way is ``PlotView``: build and draw
in a job, then a resize drawn again in a job. A ``QTimer`` probe ticks every 10 ms on the
GUI thread and records, between two ticks, the GUI thread's CPU time (work done on it) and
the wall time (which on a loaded machine also counts time without a core).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.tuning_plots [--trials N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROBE_MS = 10


class Probe:
    """GUI-thread ticks: the worst CPU time and the worst lateness between two of them."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.cpu = self.wall = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(PROBE_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.cpu = self.wall = 0.0
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self._timer.start()

    def stop(self) -> tuple[float, float]:
        self._timer.stop()
        self._tick()
        return self.cpu, self.wall

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.wall = max(self.wall, now - self._last - PROBE_MS / 1000)
        self.cpu = max(self.cpu, cpu - self._last_cpu)
        self._last, self._last_cpu = now, cpu


def make_study(storage, trials: int, *, name: str = "bench"):
    """A real Optuna study: a float (log), an int and a categorical parameter, three reported
    steps per trial and a median pruner (the Tuning plot test uses it too)."""
    import optuna

    def objective(trial):
        x = trial.suggest_float("x", 1e-3, 10.0, log=True)
        n = trial.suggest_int("n", 1, 50)
        kind = trial.suggest_categorical("kind", ["a", "b", "c"])
        value = 0.0
        for step in range(1, 4):
            value = 1 / (1 + (x - 3) ** 2) + n / 500 + {"a": 0, "b": 0.05, "c": 0.1}[kind] + step
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study = optuna.create_study(
        study_name=name, storage=storage, direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5),
    )  # fmt: skip
    study.optimize(objective, n_trials=trials)
    return study


def spin(app, until, seconds: float = 120) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not until():
        app.processEvents()
        time.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args()

    import optuna
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    from app.bootstrap import build_services
    from app.core.tuning import plots
    from app.jobs.runner import JobRunner
    from app.ui.job_bridge import PanelJobs
    from app.ui.panels.tuning_plots import PlotView

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    app = QApplication.instance() or QApplication([])
    folder = tempfile.mkdtemp(prefix="md-tuning-plots-")
    services = build_services(f"sqlite:///{folder}/store.db")
    study = make_study(services.tuning.storage, args.trials)
    for kind in plots.available(1):  # one-off imports, paid before anything is measured
        with contextlib.suppress(plots.NotEnoughTrials):
            plots.figure(study, kind)

    runner = JobRunner()
    owner = QObject()
    jobs = PanelJobs(owner, runner)
    view = PlotView(tuning=services.tuning, jobs=jobs)
    view.resize(900, 600)
    view.show()
    view.show_study("bench", 1)
    probe = Probe()
    print(f"{args.trials} trials; GUI-thread CPU / worst tick lateness, ms")
    print(f"{'plot':14s} {'old: drawn on GUI':>20s} {'new: PlotView':>20s}")
    worst_old = worst_new = 0.0
    for i, kind in enumerate(view.kinds()):
        figure = plots.figure(study, kind)
        figure.set_size_inches(1200 / 96, 760 / 96)
        probe.start()
        try:  # the old panel: layout and raster on the GUI thread
            FigureCanvasAgg(figure).draw()
        except ZeroDivisionError:  # a layout with no room (it raised in the old paint too)
            figure.set_layout_engine("none")
            FigureCanvasAgg(figure).draw()
        old = probe.stop()

        probe.start()
        shown = view.picture
        if view.kind() == kind:
            view.render()
        view.kind_combo.setCurrentIndex(i)
        spin(app, lambda s=shown: view.picture is not s and not view.busy)
        drawn = view.picture
        view.resize(1200 if i % 2 else 760, 760 if i % 2 else 520)
        spin(app, lambda d=drawn: view.picture is not d and not view.busy)
        new = probe.stop()
        worst_old, worst_new = max(worst_old, old[0]), max(worst_new, new[0])
        print(
            f"{kind:14s} {old[0] * 1000:9.0f} / {old[1] * 1000:6.0f}   "
            f"{new[0] * 1000:9.0f} / {new[1] * 1000:6.0f}"
        )
    print(
        f"worst GUI-thread work: old {worst_old * 1000:.0f} ms, new {worst_new * 1000:.0f} ms "
        f"(ratio {worst_old / max(worst_new, 1e-3):.0f}×)"
    )
    view.stop()
    jobs.close()
    runner.shutdown(timeout=10)
    services.close()


if __name__ == "__main__":
    main()
