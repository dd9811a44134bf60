"""Tracking throughput: ModelDesk's TrackingService against MLflow 3, measured in this run.

Two workloads, each on a fresh SQLite store, best of ``--repeat``:

- runs/s: a run with 10 parameters and 5 metrics. ModelDesk: ``create_run(params=…)``,
  ``log_metrics`` (one call for the five), ``finish``. MLflow (fluent API, as a user writes
  it): ``start_run``, ``log_param`` ×10, ``log_metric`` ×5, ``end_run``.
- metric points/s in batches of 1,000 (MLflow's per-call limit): ``log_batch`` for both.
  Also reported: one point per call (``log_metrics`` / ``mlflow.log_metric``).

MLflow runs in its own throwaway virtual environment (``--mlflow-python``; created with
``python3 -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install mlflow`` when missing)
against ``sqlite:///…``. Goals (issue: runs): ≥ 10 × MLflow and ≥ 300 runs/s; ≥ 10 × MLflow's
log_batch and ≥ 150,000 points/s.

    .venv/bin/python -m benchmarks.tracking [--runs 500] [--points 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MLFLOW_VENV = Path("/tmp/mlflow-venv")

MLFLOW_SCRIPT = r"""
import json, os, sys, time, warnings
warnings.filterwarnings("ignore")
import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

folder, runs, points, single, repeat = sys.argv[1], *map(int, sys.argv[2:6])
best = {"runs_per_s": 0.0, "batch_points_per_s": 0.0, "single_points_per_s": 0.0}
for attempt in range(repeat):
    uri = f"sqlite:///{folder}/mlflow-{attempt}.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(f"bench-{attempt}")
    with mlflow.start_run():  # warm-up: schema creation, imports, caches
        mlflow.log_param("warm", 1)
        mlflow.log_metric("warm", 1.0)
    start = time.perf_counter()
    for i in range(runs):
        with mlflow.start_run(run_name=f"r{i}"):
            for k in range(10):
                mlflow.log_param(f"p{k}", k * 0.5)
            for k in range(5):
                mlflow.log_metric(f"m{k}", k * 0.1)
    best["runs_per_s"] = max(best["runs_per_s"], runs / (time.perf_counter() - start))

    client = MlflowClient(uri)
    run = mlflow.start_run(run_name="points")
    now = int(time.time() * 1000)
    start = time.perf_counter()
    for base in range(0, points, 1000):
        batch = [Metric(f"m{i % 10}", 0.5, now, i) for i in range(base, min(points, base + 1000))]
        client.log_batch(run.info.run_id, metrics=batch)
    best["batch_points_per_s"] = max(
        best["batch_points_per_s"], points / (time.perf_counter() - start)
    )
    start = time.perf_counter()
    for i in range(single):
        mlflow.log_metric("loss", 0.5, step=i)
    best["single_points_per_s"] = max(
        best["single_points_per_s"], single / (time.perf_counter() - start)
    )
    mlflow.end_run()
best["version"] = mlflow.__version__
print(json.dumps(best))
"""


def ensure_mlflow(python: Path) -> Path:
    if python.exists():
        return python
    print(f"creating {MLFLOW_VENV} with MLflow (once) …", file=sys.stderr)
    subprocess.run(["python3", "-m", "venv", str(MLFLOW_VENV)], check=True)
    subprocess.run([str(MLFLOW_VENV / "bin" / "pip"), "install", "-q", "mlflow"], check=True)
    return MLFLOW_VENV / "bin" / "python"


def measure_mlflow(python: Path, runs: int, points: int, single: int, repeat: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="md-bench-mlflow-"))
    try:
        env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
        out = subprocess.run(
            [
                str(python),
                "-c",
                MLFLOW_SCRIPT,
                str(folder),
                str(runs),
                str(points),
                str(single),
                str(repeat),
            ],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure_modeldesk(runs: int, points: int, single: int, repeat: int) -> dict:
    from app.bootstrap import build_services

    best = {"runs_per_s": 0.0, "batch_points_per_s": 0.0, "single_points_per_s": 0.0}
    params = {f"p{k}": k * 0.5 for k in range(10)}
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="md-bench-"))
        try:
            services = build_services(f"sqlite:///{folder / 'store.db'}")
            tracking = services.tracking
            warm = tracking.create_run(name="warm", params={"warm": 1})
            tracking.log_metrics(warm, {"warm": 1.0})
            tracking.finish(warm)

            start = time.perf_counter()
            for i in range(runs):
                run_id = tracking.create_run(name=f"r{i}", params=params)
                tracking.log_metrics(run_id, {f"m{k}": k * 0.1 for k in range(5)})
                tracking.finish(run_id)
            best["runs_per_s"] = max(best["runs_per_s"], runs / (time.perf_counter() - start))

            run_id = tracking.create_run(name="points")
            now = time.time()
            start = time.perf_counter()
            for base in range(0, points, 1000):
                tracking.log_batch(
                    run_id,
                    [(f"m{i % 10}", 0.5, i, now) for i in range(base, min(points, base + 1000))],
                )
            best["batch_points_per_s"] = max(
                best["batch_points_per_s"], points / (time.perf_counter() - start)
            )
            start = time.perf_counter()
            for i in range(single):
                tracking.log_metrics(run_id, {"loss": 0.5}, step=i)
            best["single_points_per_s"] = max(
                best["single_points_per_s"], single / (time.perf_counter() - start)
            )
            services.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--single", type=int, default=1000, help="points logged one per call")
    parser.add_argument("--mlflow-runs", type=int, default=100)
    parser.add_argument("--mlflow-points", type=int, default=20_000)
    parser.add_argument("--mlflow-single", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mlflow-python", type=Path, default=MLFLOW_VENV / "bin" / "python")
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()

    ours = measure_modeldesk(args.runs, args.points, args.single, args.repeat)
    theirs = None
    if not args.skip_mlflow:
        theirs = measure_mlflow(
            ensure_mlflow(args.mlflow_python),
            args.mlflow_runs,
            args.mlflow_points,
            args.mlflow_single,
            args.repeat,
        )
    rows = [
        ("runs/s (10 params + 5 metrics)", "runs_per_s", 300.0),
        ("metric points/s, log_batch ×1000", "batch_points_per_s", 150_000.0),
        ("metric points/s, one per call", "single_points_per_s", None),
    ]
    label = f"MLflow {theirs['version']}" if theirs else "MLflow (skipped)"
    print(f"{'':36} {'ModelDesk':>12} {label:>14} {'ratio':>8}  goal")
    for title, key, floor in rows:
        mine = ours[key]
        other = theirs[key] if theirs else float("nan")
        ratio = mine / other if theirs else float("nan")
        goal = f"≥ 10× and ≥ {floor:,.0f}" if floor else "(reported)"
        ok = (
            ""
            if floor is None or not theirs
            else ("  met" if ratio >= 10 and mine >= floor else "  NOT MET")
        )
        print(f"{title:36} {mine:>12,.0f} {other:>14,.1f} {ratio:>7.1f}×  {goal}{ok}")


if __name__ == "__main__":
    main()
