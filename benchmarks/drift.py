"""Drift report speed: ModelDesk's engine against Evidently's data drift preset, same run.

1,000,000 current rows × 20 features (12 numeric, 8 categorical with 5–26 categories; three
numeric features shifted) against a 1,000,000-row reference, written once to Parquet and read
by both sides. Timed: reading both Parquet files plus the report (ModelDesk: ``compute_drift``
with its PSI, KS, Wasserstein, chi-square, Jensen–Shannon, missing and histograms; Evidently:
``Report([DataDriftPreset()]).run(current, reference)``), best of ``--repeat``, after the
libraries are imported (imports are reported apart). Evidently 0.7.23 runs in its own
throwaway venv (created when missing: ``python3 -m venv /tmp/evidently-venv &&
/tmp/evidently-venv/bin/pip install 'evidently==0.7.23' 'pandas<3'``).

Goals (issue: monitor): ≤ 3 s, and ≥ 5 × faster than Evidently.

    .venv/bin/python -m benchmarks.drift [--rows 1000000] [--repeat 3] [--evidently-repeat 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVIDENTLY_VENV = Path("/tmp/evidently-venv")
NUMERIC, CATEGORICAL = 12, 8

EVIDENTLY_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
t0 = time.perf_counter()
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
imports = time.perf_counter() - t0
ref_path, cur_path, numeric, categorical, repeat = sys.argv[1:6]
numeric, categorical = numeric.split(","), categorical.split(",")
best, drifted = float("inf"), None
for _ in range(int(repeat)):
    start = time.perf_counter()
    ref, cur = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    result = snapshot.dict()
    best = min(best, time.perf_counter() - start)
drift_count = None
for metric in result.get("metrics", []):
    value = metric.get("value")
    if isinstance(value, dict) and "count" in value:
        drift_count = value["count"]
        break
import evidently
print(json.dumps({"seconds": best, "imports": imports, "drifted": drift_count,
                  "version": evidently.__version__}))
"""


def make_data(folder: Path, rows: int) -> tuple[Path, Path, list[str], list[str]]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    numeric = [f"num_{i}" for i in range(NUMERIC)]
    categorical = [f"cat_{i}" for i in range(CATEGORICAL)]
    paths = []
    for label, seed, shift in (("reference", 1, 0.0), ("current", 2, 0.5)):
        rng = np.random.default_rng(seed)
        cols: dict[str, object] = {}
        for i, name in enumerate(numeric):
            values = rng.normal(10.0 + (shift if i < 3 else 0.0), 2.0, rows)
            if i % 4 == 3:
                values[rng.random(rows) < 0.02] = np.nan  # some missing values
            cols[name] = values
        for i, name in enumerate(categorical):
            cats = np.array([f"c{i}_{k}" for k in range(5 + 3 * i)])
            cols[name] = pa.array(cats[rng.integers(0, cats.size, rows)])
        path = folder / f"{label}.parquet"
        pq.write_table(pa.table(cols), path)
        paths.append(path)
    return paths[0], paths[1], numeric, categorical


def ensure_evidently(python: Path) -> Path:
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run(
            [
                str(EVIDENTLY_VENV / "bin/pip"),
                "install",
                "-q",
                "evidently==0.7.23",
                "pandas<3",
                "pyarrow",
            ],
            check=True,
        )
    return python


def run_modeldesk(
    ref: Path, cur: Path, numeric: list[str], categorical: list[str], repeat: int
) -> dict[str, float | int]:
    t0 = time.perf_counter()
    import pyarrow.parquet as pq
    import scipy.spatial
    import scipy.stats  # noqa: F401

    from app.core.monitoring import compute_drift
    from app.core.monitoring.stats import ks_and_wasserstein  # noqa: F401 (imports scipy paths)

    imports = time.perf_counter() - t0
    kinds = {**dict.fromkeys(numeric, "numeric"), **dict.fromkeys(categorical, "categorical")}
    best, cpu, report = float("inf"), float("inf"), None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        # categories read as Arrow dictionaries, as Parquet stores them: counting codes is
        # cheaper than hashing a million strings
        reference = pq.read_table(ref, read_dictionary=categorical)
        current = pq.read_table(cur, read_dictionary=categorical)
        report = compute_drift(reference, current, columns=kinds)
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    assert report is not None
    return {"seconds": best, "cpu_seconds": cpu, "imports": imports, "drifted": report.n_drifted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--evidently-repeat", type=int, default=1)
    parser.add_argument("--evidently-python", type=Path, default=EVIDENTLY_VENV / "bin/python")
    parser.add_argument("--skip-evidently", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        ref, cur, numeric, categorical = make_data(folder, args.rows)
        print(
            f"data: {args.rows:,} + {args.rows:,} rows × {NUMERIC + CATEGORICAL} features "
            f"written in {time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        ours = run_modeldesk(ref, cur, numeric, categorical, args.repeat)
        print(
            f"modeldesk: {ours['seconds']:.2f} s ({ours['drifted']} features drifted)",
            file=sys.stderr,
        )
        result: dict[str, object] = {
            "rows": args.rows,
            "features": NUMERIC + CATEGORICAL,
            "modeldesk": ours,
        }
        if not args.skip_evidently:
            python = ensure_evidently(args.evidently_python)
            out = subprocess.run(
                [
                    str(python),
                    "-c",
                    EVIDENTLY_SCRIPT,
                    str(ref),
                    str(cur),
                    ",".join(numeric),
                    ",".join(categorical),
                    str(args.evidently_repeat),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            theirs = json.loads(out.stdout.strip().splitlines()[-1])
            result["evidently"] = theirs
            result["speedup"] = theirs["seconds"] / ours["seconds"]
        result["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
        result["goals"] = {
            "seconds_le_3": ours["seconds"] <= 3.0,
            "speedup_ge_5": result.get("speedup", 0) >= 5,
        }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
