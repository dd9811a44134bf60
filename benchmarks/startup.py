"""Cold start of the window: process start → first painted main window.

Runs the installed ``modeldesk`` command five times (each a new process) with
``MODELDESK_STARTUP_TIMING=1 MODELDESK_EXIT_AFTER_PAINT=1 QT_QPA_PLATFORM=offscreen`` on a
temporary store and reports the median of the time the app itself prints (from the process's
start time in /proc to the first paint), of the wall time of the whole process (including
interpreter start and shutdown) and of its CPU time, which other load on the machine barely
changes. The very first launch, which creates the store, is measured apart, each time on a new
store. Goals (issue 14): first paint ≤ 1.0 s on an existing store, ≤ 1.5 s on the first launch.

``--baseline DIR`` measures a second source tree (``PYTHONPATH=DIR``, e.g. ``/work/main``)
in the same run, alternating with this one, and prints the ratios.

    .venv/bin/python -m benchmarks.startup [--runs 5] [--baseline DIR]
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


def one_run(store: Path, folder: Path, source: str | None = None) -> tuple[float, float, float]:
    env = {
        **os.environ,
        "MODELDESK_STARTUP_TIMING": "1",
        "MODELDESK_EXIT_AFTER_PAINT": "1",
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(folder / "config"),  # the benchmark's settings, not the user's
        "XDG_DATA_HOME": str(folder / "data"),
    }
    if source is not None:
        env["PYTHONPATH"] = source
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


def measure(folder: Path, runs: int, source: str | None) -> dict[str, list[float]]:
    """``runs`` first launches (each on a new store), then ``runs`` launches on one store."""
    firsts = [one_run(folder / f"new{i}" / "modeldesk.db", folder, source) for i in range(runs)]
    store = folder / "store" / "modeldesk.db"
    one_run(store, folder, source)
    again = [one_run(store, folder, source) for _ in range(runs)]
    return {
        "first paint, first launch": [p for p, _, _ in firsts],
        "CPU, first launch": [c for _, _, c in firsts],
        "first paint, existing store": [p for p, _, _ in again],
        "CPU, existing store": [c for _, _, c in again],
        "process wall, existing store": [w for _, w, _ in again],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", metavar="DIR", help="another source tree to compare")
    args = parser.parse_args()
    sources: dict[str, str | None] = {"this tree": os.environ.get("PYTHONPATH") or None}
    if args.baseline:
        sources["baseline"] = args.baseline
    results: dict[str, dict[str, list[float]]] = {name: {} for name in sources}
    for round_ in range(args.runs):  # alternate, so both see the same load
        for name, source in sources.items():
            folder = Path(tempfile.mkdtemp(prefix="md-startup-"))
            try:
                for key, values in measure(folder, 1, source).items():
                    results[name].setdefault(key, []).extend(values)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        del round_
    print(f"command: {' '.join(modeldesk_command())} (offscreen, {args.runs} runs each)")
    for key in results["this tree"]:
        mine = statistics.median(results["this tree"][key])
        line = f"{key:<30} median {mine:.3f} s"
        if "baseline" in results:
            base = statistics.median(results["baseline"][key])
            line += f"   baseline {base:.3f} s   ratio {mine / base:.2f}"
        print(line)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
