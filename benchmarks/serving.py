"""Model serving: ModelDesk's server against ``mlflow models serve``, measured in this run.

The model is the issue's: a 100-tree random forest on scikit-learn's breast-cancer data,
behind median imputation and scaling (the same scikit-learn pipeline in both servers, fitted
with the same seed, so both hold the same forest). Measured for each server, 1-row requests
(MLflow's ``dataframe_split`` JSON, the same bytes for both):

- latency p50/p99 of sequential requests on one keep-alive connection;
- throughput at concurrency 8 (8 client threads, one connection each) for ``--seconds``;
- the in-process ``predict`` of the same 1-row DataFrame, so that overhead = p50 − predict.

Goals (issue 7): overhead p50 ≤ 1.5 ms; throughput ≥ 3 × MLflow with one worker each.
MLflow 3.17 runs in its own throwaway virtual environment (``--mlflow-venv``, created with
``python3 -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install 'mlflow==3.17.*'``).
Each measurement is taken ``--repeat`` times, alternating the servers, best kept: the
machine is shared, so the load average is printed with the figures.

    .venv/bin/python -m benchmarks.serving [--requests 1000] [--seconds 10] [--repeat 2]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_VENV = Path("/tmp/mlflow-venv")
N_TREES, SEED = 100, 0

MODEL_CODE = """
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
model = Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True)),
                  ("scale", StandardScaler()),
                  ("model", RandomForestClassifier(n_estimators=N_TREES, random_state=SEED))])
model.fit(X, y)
""".replace("N_TREES", str(N_TREES)).replace("SEED", str(SEED))

MLFLOW_SAVE = (
    MODEL_CODE
    + """
import sys, warnings
warnings.filterwarnings("ignore")
import mlflow.sklearn
mlflow.sklearn.save_model(model, sys.argv[1], input_example=X.head(2),
                          skops_trusted_types=["sklearn.tree._tree.Tree", "numpy.dtype"])
print(",".join(str(v) for v in model.predict(X.head(5))))
"""
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, path: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server on {port} not ready after {timeout}s")


def post(conn: http.client.HTTPConnection, body: bytes) -> bytes:
    conn.request("POST", "/invocations", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}: {data[:300]!r}")
    return data


def latency(port: int, body: bytes, n: int) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(50):
        post(conn, body)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        post(conn, body)
        times.append(time.perf_counter() - t)
    conn.close()
    times.sort()
    return times[len(times) // 2] * 1e3, times[int(len(times) * 0.99)] * 1e3


def throughput(port: int, body: bytes, seconds: float, concurrency: int = 8) -> float:
    counts = [0] * concurrency
    stop = threading.Event()

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        post(conn, body)
        barrier.wait()
        while not stop.is_set():
            post(conn, body)
            counts[i] += 1
        conn.close()

    barrier = threading.Barrier(concurrency + 1)
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def in_process_predict_ms(model, row, n: int) -> float:
    for _ in range(30):
        model.predict(row)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        model.predict(row)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--mlflow-venv", type=Path, default=MLFLOW_VENV)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    mlflow_bin = args.mlflow_venv / "bin"
    if not (mlflow_bin / "mlflow").exists():
        raise SystemExit(f"MLflow is not installed in {args.mlflow_venv}; see the module doc.")

    sys.path.insert(0, str(ROOT))
    from app.core.bundle import write_bundle
    from app.core.training import model_io

    space: dict = {}
    exec(MODEL_CODE, space)  # the very code the MLflow side runs
    model, X = space["model"], space["X"]
    row = X.iloc[[0]]
    body = json.dumps({"dataframe_split": json.loads(row.to_json(orient="split", index=False))})
    body_bytes = body.encode()

    tmp = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    procs: list[subprocess.Popen] = []
    try:
        data, untrusted = model_io.dump(model)
        plans = [{"name": c, "role": "numeric", "treatment": "numeric"} for c in X.columns]
        write_bundle(
            tmp / "bundle",
            data,
            {
                "name": "cancer", "version": 1, "run_id": None, "task": "binary",
                "artifact_sha256": hashlib.sha256(data).hexdigest(), "target": "target",
                "signature": model_io.describe_inputs(X, plans),
                "input_example": model_io.input_example(X), "output": {"task": "binary"},
                "trusted_types": untrusted, "packages": {}, "python_version": "3.11",
            },
        )  # fmt: skip
        saved = subprocess.run(
            [mlflow_bin / "python", "-c", MLFLOW_SAVE, tmp / "mlflow-model"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        same = saved.stdout.strip().splitlines()[-1] == ",".join(
            str(v) for v in model.predict(X.head(5))
        )

        md_port, ml_port = free_port(), free_port()
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "app.serving", "--bundle", tmp / "bundle",
                 "--port", str(md_port)],
                cwd=ROOT, stdout=subprocess.DEVNULL,
            )
        )  # fmt: skip
        env = {**os.environ, "PATH": f"{mlflow_bin}:{os.environ['PATH']}"}
        procs.append(
            subprocess.Popen(
                [mlflow_bin / "mlflow", "models", "serve", "-m", tmp / "mlflow-model",
                 "--env-manager", "local", "--workers", "1", "-h", "127.0.0.1",
                 "-p", str(ml_port)],
                cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        wait_up(md_port, "/ping", procs[0])
        wait_up(ml_port, "/ping", procs[1])
        conn = http.client.HTTPConnection("127.0.0.1", ml_port)
        answers_equal = json.loads(post(conn, body_bytes)) == json.loads(
            post(http.client.HTTPConnection("127.0.0.1", md_port), body_bytes)
        )

        load_before = Path("/proc/loadavg").read_text().split()[:3]
        best = {
            name: {"p50_ms": 1e9, "p99_ms": 1e9, "rps_c8": 0.0} for name in ("modeldesk", "mlflow")
        }
        predict_ms = 1e9
        for _ in range(args.repeat):
            predict_ms = min(predict_ms, in_process_predict_ms(model, row, args.requests))
            for name, port in (("modeldesk", md_port), ("mlflow", ml_port)):
                p50, p99 = latency(port, body_bytes, args.requests)
                rps = throughput(port, body_bytes, args.seconds)
                b = best[name]
                b["p50_ms"], b["p99_ms"] = min(b["p50_ms"], p50), min(b["p99_ms"], p99)
                b["rps_c8"] = max(b["rps_c8"], rps)
        load_after = Path("/proc/loadavg").read_text().split()[:3]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    for b in best.values():
        b["overhead_ms"] = b["p50_ms"] - predict_ms
    result = {
        "in_process_predict_ms": predict_ms,
        **best,
        "throughput_ratio": best["modeldesk"]["rps_c8"] / best["mlflow"]["rps_c8"],
        "same_model": same,
        "same_answers": answers_equal,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "goals": {"overhead_ms_max": 1.5, "throughput_ratio_min": 3.0},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"in-process predict (1 row): {predict_ms:.2f} ms")
    for name in ("modeldesk", "mlflow"):
        b = best[name]
        print(
            f"{name:9}  p50 {b['p50_ms']:.2f} ms  p99 {b['p99_ms']:.2f} ms  "
            f"overhead {b['overhead_ms']:.2f} ms  c8 {b['rps_c8']:.0f} req/s"
        )
    print(
        f"throughput ratio {result['throughput_ratio']:.2f}× (goal ≥ 3×); "
        f"same model {same}, same answers {answers_equal}; "
        f"load {' '.join(load_before)} → {' '.join(load_after)}"
    )


if __name__ == "__main__":
    main()
