"""Tuning: bookkeeping cost per trial, scaling of two workers, GUI stall during a study.

Three measurements, each against its baseline in the same run, on fresh SQLite stores:

- bookkeeping: a trivial objective (``x**2``) through ModelDesk's trial loop (budget lock,
  stop flag, heartbeat, the trial's run written in one transaction, its run id on the trial)
  against plain Optuna 5 ``study.optimize`` with the same sampler on the same store file.
  Goal: ModelDesk's per-trial time minus Optuna's ≤ 10 ms.
- scaling: a random forest whose trial takes about half a second, the same trial budget run
  by 1 then 2 worker processes; trials per minute from the first trial's start to the last
  trial's end. Goal: 2 workers ≥ 1.7 × 1 worker.
- GUI stall: the Tuning panel (offscreen) starts a 2-worker study from its form; a 10 ms timer
  on the GUI thread records how late it fires (``benchmarks.gui_stall``) from the click to one
  second after the study ended, while the panel polls the trials and renders Optuna's plot.
  Goal: p99 < 100 ms.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.tuning [--trials 300]
        [--scale-trials 16] [--skip-gui]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _services(folder: Path, rows: int = 200):
    import optuna

    from app.bootstrap import build_services
    from benchmarks.gui_stall import dataset

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    services = build_services(f"sqlite:///{folder / 'store.db'}")
    services.datasets.add_table(dataset(rows), name="churn", source_kind="file")
    return services


def bookkeeping(trials: int) -> None:
    import optuna

    from app.core.tuning import StudyRequest
    from app.core.tuning.engine import engine_kwargs
    from app.core.tuning.loop import open_loop
    from app.core.tuning.objective import Outcome

    folder = Path(tempfile.mkdtemp(prefix="md-tune-bench-"))
    services = _services(folder)
    try:
        url = services.store.url
        plain_storage = optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs(url))

        def plain(label: str) -> float:
            study = optuna.create_study(
                storage=plain_storage,
                study_name=label,
                sampler=optuna.samplers.RandomSampler(seed=0),
            )
            t0 = time.perf_counter()
            study.optimize(lambda t: t.suggest_float("x", -10, 10) ** 2, n_trials=trials)
            return (time.perf_counter() - t0) / trials

        def evaluate(trial, check) -> Outcome:
            x = trial.suggest_float("x", -10, 10)
            return Outcome("knn", {}, values=[x * x], points=[("x2", x * x, 0)])

        def modeldesk(label: str) -> float:
            services.tuning.create(
                StudyRequest(
                    dataset="churn", target="churn", estimators=("knn",), n_trials=trials,
                    sampler="random", pruner="none", name=label,
                )
            )  # fmt: skip
            loop = open_loop(
                services.store,
                services.datasets,
                label,
                budget=trials,
                deadline=None,
                evaluate=evaluate,
            )
            t0 = time.perf_counter()
            loop.run()
            assert loop.ran == trials
            return (time.perf_counter() - t0) / trials

        plain("warm-plain")  # imports, table creation, caches
        results = {"optuna": [], "modeldesk": []}
        for i in range(2):  # interleaved, best of two: the machine is shared
            results["optuna"].append(plain(f"plain-{i}"))
            results["modeldesk"].append(modeldesk(f"md-{i}"))
        base, ours = min(results["optuna"]), min(results["modeldesk"])
        runs = services.tracking.search(filter="study = 'md-0'", limit=None).total
        print(
            f"bookkeeping, {trials} trials of x**2 (random sampler, SQLite):\n"
            f"  plain Optuna   {base * 1000:7.2f} ms/trial ({1 / base:6.1f} trials/s)\n"
            f"  ModelDesk      {ours * 1000:7.2f} ms/trial ({1 / ours:6.1f} trials/s), "
            f"{runs} runs written per study\n"
            f"  cost per trial {(ours - base) * 1000:7.2f} ms (goal ≤ 10 ms) "
            f"{'OK' if ours - base <= 0.010 else 'MISSED'}; ratio {ours / base:.2f}"
        )
    finally:
        services.close()
        shutil.rmtree(folder, ignore_errors=True)


def scaling(trials: int, rows: int, trees: int) -> None:
    from app.core.tuning import StudyRequest, parse_edit
    from app.jobs.runner import JobRunner

    folder = Path(tempfile.mkdtemp(prefix="md-tune-scale-"))
    services = _services(folder, rows)
    runner = JobRunner()  # both cases in child processes, as the GUI runs them
    try:
        rates = {}
        for workers in (1, 2):
            name = f"scale-{workers}"
            services.tuning.create(
                StudyRequest(
                    dataset="churn", target="churn", estimators=("rf",), n_trials=trials,
                    sampler="random", pruner="none", folds=3, workers=workers, name=name,
                    space=(parse_edit(f"rf.n_estimators={trees}", fixed=True),),
                )
            )  # fmt: skip
            services.tuning.optimize(name, workers=workers, runner=runner)
            done = [t for t in services.tuning.trials(name) if t.state == "COMPLETE"]
            span = max(t.ended_at for t in done) - min(t.started_at for t in done)
            per_trial = sum(t.duration for t in done) / len(done)
            rates[workers] = 60 * len(done) / span.total_seconds()
            print(
                f"scaling: {workers} worker(s): {len(done)} trials in "
                f"{span.total_seconds():.1f} s, {per_trial:.2f} s per trial, "
                f"{rates[workers]:.1f} trials/min"
            )
        ratio = rates[2] / rates[1]
        verdict = "OK" if ratio >= 1.7 else "MISSED"
        print(f"  2 workers / 1 worker = {ratio:.2f} × (goal ≥ 1.7) {verdict}")
    finally:
        runner.shutdown(timeout=10)
        services.close()
        shutil.rmtree(folder, ignore_errors=True)


def gui_stall(trials: int, rows: int, trees: int) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.jobs.runner import JobRunner
    from app.ui.panels.tuning_panel import TuningPanel
    from benchmarks.gui_stall import Probe, report, spin_events

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="md-tune-stall-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "ini"))
    services = _services(folder, rows)
    runner = JobRunner()
    try:
        from app.ui.items import DatasetItem

        panel = TuningPanel(tuning=services.tuning, datasets=services.datasets, runner=runner)
        panel.resize(1200, 800)
        panel.show()

        def spin(seconds: float, until=None) -> bool:
            return spin_events(app, seconds, until)

        panel.new_study(DatasetItem("churn", 1, "churn"))
        spin(30, lambda: panel.form.dataset_ref() == "churn@1")
        panel.estimators_edit.setText("rf")
        panel.trials_spin.setValue(trials)
        panel.workers_spin.setValue(2)
        panel.folds_spin.setValue(3)
        panel.name_edit.setText("stall")
        panel.load_space_button.click()
        spin(60, lambda: panel.space_table.rowCount() > 0)
        for r in range(panel.space_table.rowCount()):
            if panel.space_table.item(r, 1).text() == "n_estimators":
                panel.space_table.item(r, 7).setText(str(trees))  # the Fixed column
        probe = Probe()
        probe.start()
        spin(3.0)
        idle = probe.stop()
        probe.start()
        started = time.perf_counter()
        panel.start_button.click()
        spin(60, lambda: panel.running)
        if not spin(900, lambda: not panel.running):
            raise TimeoutError("the study did not end within 15 minutes")
        seconds = time.perf_counter() - started
        spin(1.0)
        busy = probe.stop()
        summary = services.tuning.summary("stall")
        print(f"GUI stall: 2-worker study of {summary.done} trials, {seconds:.1f} s")
        report("idle panel (3 s)", idle)
        p99 = report("while tuning (click → end + 1 s)", busy)
        print(f"  p99 stall while tuning: {p99 * 1000:.1f} ms (goal < 100 ms) "
              f"{'OK' if p99 < 0.1 else 'MISSED'}")  # fmt: skip
        panel.close()
        probe.close()
        spin(0.2)
    finally:
        runner.shutdown(timeout=10)
        services.close()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300, help="bookkeeping trials")
    parser.add_argument("--scale-trials", type=int, default=16)
    parser.add_argument("--rows", type=int, default=3000, help="rows for the real fits")
    parser.add_argument("--trees", type=int, default=40, help="trees per forest (≈ 0.5 s trial)")
    parser.add_argument("--skip-gui", action="store_true")
    parser.add_argument("--only", choices=("bookkeeping", "scaling", "gui"))
    args = parser.parse_args()
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    if args.only in (None, "bookkeeping"):
        bookkeeping(args.trials)
    if args.only in (None, "scaling"):
        scaling(args.scale_trials, args.rows, args.trees)
    if not args.skip_gui and args.only in (None, "gui"):
        gui_stall(args.scale_trials, args.rows, args.trees)
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
