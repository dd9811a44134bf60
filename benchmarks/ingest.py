"""Ingest of the 1M × 21 CSV through the core, against a plain pyarrow.csv.read_csv.

Goal (issue: foundation): ingest ≤ 1.3 × the plain read. Both are measured in this run, on
the same file, each best of three; the ingest uses a fresh store every time so the content
is never recognised as already stored.

    .venv/bin/python -m benchmarks.ingest [--rows N]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.data import mixed_csv


def plain_read(path: Path) -> float:
    import pyarrow.csv as pacsv

    start = time.perf_counter()
    pacsv.read_csv(path)
    return time.perf_counter() - start


def ingest(path: Path) -> float:
    from app.bootstrap import build_services

    folder = Path(tempfile.mkdtemp(prefix="md-bench-"))
    try:
        services = build_services(f"sqlite:///{folder / 'store.db'}")
        start = time.perf_counter()
        services.datasets.add_file(path)
        elapsed = time.perf_counter() - start
        services.close()
        return elapsed
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = mixed_csv(args.rows)
    size_mb = path.stat().st_size / 1e6
    plain_read(path)  # warm the page cache for both
    plain = min(plain_read(path) for _ in range(args.repeat))
    ours = min(ingest(path) for _ in range(args.repeat))
    print(f"file: {path.name} ({size_mb:.0f} MB)")
    print(f"plain pyarrow.csv.read_csv: {plain:.3f} s")
    print(f"ModelDesk ingest:           {ours:.3f} s")
    print(f"ratio: {ours / plain:.2f} x (goal <= 1.30)")


if __name__ == "__main__":
    main()
