"""Cold start of the window: process start → first painted main window.

Runs the installed ``modeldesk`` command five times (each a new process) with
``MODELDESK_STARTUP_TIMING=1 MODELDESK_EXIT_AFTER_PAINT=1 QT_QPA_PLATFORM=offscreen`` on a
temporary store and reports the median of the time the app itself prints (from the process's
start time in /proc to the first paint), of the wall time of the whole process (including
interpreter start and shutdown) and of its CPU time, which other load on the machine barely
changes. The first run creates and migrates the store and is reported
apart. Goal (issue: foundation): first paint ≤ 1.0 s.

    .venv/bin/python -m benchmarks.startup [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_LINE = re.compile(r"startup: first paint ([0-9.]+) s")


def modeldesk_command() -> list[str]:
    script = Path(sys.executable).with_name("modeldesk")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "app"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(store: Path, folder: Path) -> tuple[float, float, float]:
    env = {
        **os.environ,
        "MODELDESK_STARTUP_TIMING": "1",
        "MODELDESK_EXIT_AFTER_PAINT": "1",
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(folder / "config"),  # the benchmark's settings, not the user's
        "XDG_DATA_HOME": str(folder / "data"),
    }
    cpu_before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [*modeldesk_command(), "--store", str(store)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    match = _LINE.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"modeldesk failed (exit {done.returncode}):\n{done.stderr}")
    return float(match.group(1)), wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="md-startup-"))
    try:
        store = folder / "store" / "modeldesk.db"
        first_paint, _, _ = one_run(store, folder)
        runs = [one_run(store, folder) for _ in range(args.runs)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    paints = [p for p, _, _ in runs]
    walls = [w for _, w, _ in runs]
    cpus = [c for _, _, c in runs]
    print(f"command: {' '.join(modeldesk_command())} (offscreen, {args.runs} runs)")
    print(f"first run, new store (migrates): first paint {first_paint:.3f} s")
    print("first paint per run: " + ", ".join(f"{p:.3f}" for p in paints) + " s")
    print(f"median first paint:  {statistics.median(paints):.3f} s (goal <= 1.000)")
    print(f"median process wall: {statistics.median(walls):.3f} s (start to exit)")
    print(
        f"median process CPU:  {statistics.median(cpus):.3f} s (user+sys, start to exit; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
