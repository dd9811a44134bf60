"""Start-up of the commands that only read the store, against ``modeldesk --version``.

A temporary store gets 1,000 runs (10 params, 5 metrics each, bulk-inserted as in
``benchmarks.runs_table``), 20 datasets and 5 registered models. Then each command is run
``--runs`` times as a new process (``python -m app …``, the same interpreter and code as the
``modeldesk`` script), the commands interleaved so that a change of load on the shared
machine hits all of them alike, and the median wall time and CPU time (user + sys, which
other load barely changes) are printed. ``PYTHONDONTWRITEBYTECODE`` is removed from the
children's environment, as an installed application has its bytecode cached; one untimed
warm-up run of each writes it.

Goal (issue 15): ``runs list``, ``datasets list``, ``models list`` ≤ 0.3 s wall. On a ready
SQLite store they read it through the stdlib ``sqlite3`` driver (``app.core.store.lite``), so
what they cost beyond ``--version`` is reading the store, not importing SQLAlchemy; the CPU
ratio to ``--version`` shows it when the machine's load makes the wall times wander.

    .venv/bin/python -m benchmarks.cli_startup [--runs 7] [--code DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "--version": ["--version"],
    "runs list": ["runs", "list"],
    "datasets list": ["datasets", "list"],
    "models list": ["models", "list"],
}


def build_store(store: Path) -> None:
    import pyarrow as pa

    from app.bootstrap import build_services
    from app.core.training import TrainRequest
    from benchmarks.runs_table import populate

    services = build_services(str(store))
    try:
        populate(services, 1_000, seed=1)  # run ids 1..1000; the trained run comes after
        for i in range(20):
            table = pa.table({"x": list(range(50)), "y": [j % 2 for j in range(50)], "i": [i] * 50})
            services.datasets.add_table(table, name=f"data{i}", source_kind="benchmark")
        run = services.training.train_inline(
            TrainRequest("data0@1", "y", "dummy", folds=2, plots=False, test_size=0.0)
        )
        for i in range(5):
            services.registry.register(run.id, f"model{i}")
    finally:
        services.close()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(argv: list[str], store: Path, env: dict[str, str]) -> tuple[float, float]:
    """One command in a new process, started in the code's folder (``-m`` puts it first)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    extra = [] if argv == ["--version"] else ["--store", str(store)]
    done = subprocess.run(
        [sys.executable, "-m", "app", *argv, *extra],
        env=env,
        cwd=env["PYTHONPATH"],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed ({done.returncode}): {done.stderr}")
    return wall, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--code", type=Path, help="source tree the commands run from (default: this one), "
        "e.g. `git archive BASE | tar -x -C DIR` for a before/after figure",
    )  # fmt: skip
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="md-cli-startup-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str((args.code or Path(__file__).parents[1]).resolve())
    try:
        store = folder / "store" / "md.db"
        build_store(store)
        for argv in COMMANDS.values():
            one_run(argv, store, env)  # warm-up: bytecode cache, page cache
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
        for _ in range(args.runs):
            for name, argv in COMMANDS.items():
                times[name].append(one_run(argv, store, env))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    version_wall = statistics.median(w for w, _ in times["--version"])
    print(f"store: 1,000 runs, 20 datasets, 5 models; median of {args.runs} runs each")
    version_cpu = statistics.median(c for _, c in times["--version"])
    print(
        f"{'command':16s} {'wall':>8s} {'cpu':>8s} {'wall - --version':>18s} "
        f"{'cpu ÷ --version':>16s}"
    )
    for name, samples in times.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        goal = "" if name == "--version" else ("  ok" if wall <= 0.3 else "  over 0.3 s")
        print(
            f"{name:16s} {wall:7.3f}s {cpu:7.3f}s {wall - version_wall:17.3f}s "
            f"{cpu / version_cpu:15.2f}×{goal}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
