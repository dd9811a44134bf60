"""Batch scoring: ``modeldesk predict`` against the pipeline's own ``predict`` in a script.

The model is a ModelDesk random forest of 100 trees (its preprocessing included: imputation,
one-hot and ordinal encodings, date parts) trained on 20,000 rows of the benchmark data
(``benchmarks/data.py``, 1,000,000 × 21 mixed CSV, target ``churn``) and registered. Then,
in this one process (so both sides have skops and scikit-learn imported already), alternately
``--repeat`` times, best kept:

- baseline, the plain script: ``pyarrow.csv.read_csv(FILE).to_pandas()`` (the fastest
  reader, and the same frame the trainer gives the pipeline), then ``pipeline.predict`` on
  the model's columns;
- ModelDesk: ``app.core.scoring.score_file`` — load the version (SHA-256 checked), read the
  file, check every column against the signature, score in batches of 100,000 rows, write
  the Parquet output. It does more than the baseline (the checks, the output file).

Throughput is rows per second of each; goal (issue 15): ModelDesk ≥ 0.8 × the baseline.
The wall time of the whole ``modeldesk predict`` command (interpreter start, imports and
model load included) is printed once for information.

    .venv/bin/python -m benchmarks.predict [--rows 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.data import mixed_csv

TRAIN_ROWS, N_TREES = 20_000, 100


def build_model(services, csv_path: Path) -> str:
    import pyarrow.csv as pacsv

    from app.core.training import TrainRequest

    table = pacsv.read_csv(csv_path).slice(0, TRAIN_ROWS)
    services.datasets.add_table(table, name="bench", source_kind="benchmark")
    request = TrainRequest(
        "bench@1",
        "churn",
        "random_forest",
        params={"n_estimators": N_TREES},
        folds=2,
        plots=False,
        test_size=0.0,
        exclude=("id",),
    )
    run = services.training.train_inline(request)
    if run.status != "finished":
        raise SystemExit(f"training failed: {run.error}")
    return services.registry.register(run.id, "bench").ref


def baseline(pipeline, columns: list[str], csv_path: Path) -> tuple[float, float, int]:
    import pyarrow.csv as pacsv

    start, cpu = time.perf_counter(), time.process_time()
    frame = pacsv.read_csv(csv_path).to_pandas()
    predictions = pipeline.predict(frame[columns])
    return time.perf_counter() - start, time.process_time() - cpu, len(predictions)


def modeldesk(services, ref: str, csv_path: Path, out: Path) -> tuple[float, float, int]:
    from app.core.scoring import score_file

    start, cpu = time.perf_counter(), time.process_time()
    result = score_file(services.registry, ref, csv_path, out)
    return time.perf_counter() - start, time.process_time() - cpu, result.scored


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from app.bootstrap import build_services

    csv_path = mixed_csv(args.rows)
    folder = Path(tempfile.mkdtemp(prefix="md-predict-"))
    store = folder / "store" / "md.db"
    try:
        services = build_services(str(store))
        t0 = time.perf_counter()
        ref = build_model(services, csv_path)
        print(f"model {ref}: {N_TREES}-tree forest on {TRAIN_ROWS:,} rows, trained and "
              f"registered in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        version = services.registry.resolve(ref)
        columns = [c["name"] for c in version.signature["columns"]]
        pipeline = services.registry.load_model(ref)
        base_times, ours_times = [], []
        for _ in range(args.repeat):
            *seconds, n = baseline(pipeline, columns, csv_path)
            base_times.append(seconds)
            *seconds, scored = modeldesk(services, ref, csv_path, folder / "out.parquet")
            ours_times.append(seconds)
            assert scored == n == args.rows, (scored, n)
        services.close()
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "app", "predict", ref, str(csv_path), "-o",
             str(folder / "cli.parquet"), "--store", str(store)],
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()},
        )  # fmt: skip
        cli_wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(done.stderr)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    base, ours = min(w for w, _ in base_times), min(w for w, _ in ours_times)
    base_cpu, ours_cpu = min(c for _, c in base_times), min(c for _, c in ours_times)
    n = args.rows
    print(f"rows: {n:,} ({csv_path.name}), best of {args.repeat}; wall, then CPU time")
    print(
        f"baseline read + predict:   {base:7.2f} s {n / base:>9,.0f} rows/s   cpu {base_cpu:7.2f} s"
    )
    print(
        f"modeldesk score_file:      {ours:7.2f} s {n / ours:>9,.0f} rows/s   cpu {ours_cpu:7.2f} s"
    )
    print("  (load + SHA-256, read, check, predict in batches, write Parquet)")
    print(f"throughput ratio modeldesk / baseline: wall {base / ours:.2f}, "
          f"cpu {base_cpu / ours_cpu:.2f} (goal >= 0.80)")  # fmt: skip
    print(
        f"whole `modeldesk predict` command wall: {cli_wall:.1f} s (imports, model load included)"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
