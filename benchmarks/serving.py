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

``--memory`` measures instead the bound on request bytes in flight (issue 15: six concurrent
15 MB requests took the server from 596 MB to 1.35 GB): the server's resident memory after
start and its peak (VmHWM) under six concurrent 15 MB requests, with the default bound and
with the bound lifted (``--max-inflight-mb 100000``, what the server did before it had one).
No MLflow is needed for it.

    .venv/bin/python -m benchmarks.serving --memory
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


def post(conn: http.client.HTTPConnection, body: bytes, path: str = "/invocations") -> bytes:
    conn.request("POST", path, body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}: {data[:300]!r}")
    return data


def latency(port: int, body: bytes, n: int, path: str = "/invocations") -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(50):
        post(conn, body, path)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        post(conn, body, path)
        times.append(time.perf_counter() - t)
    conn.close()
    times.sort()
    return times[len(times) // 2] * 1e3, times[int(len(times) * 0.99)] * 1e3


def throughput(
    port: int, body: bytes, seconds: float, concurrency: int = 8, path: str = "/invocations"
) -> float:
    counts = [0] * concurrency
    stop = threading.Event()

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        post(conn, body, path)
        barrier.wait()
        while not stop.is_set():
            post(conn, body, path)
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


def write_cancer_bundle(dest: Path, model, X) -> Path:
    from app.core.bundle import write_bundle
    from app.core.training import model_io

    data, untrusted = model_io.dump(model)
    plans = [{"name": c, "role": "numeric", "treatment": "numeric"} for c in X.columns]
    return write_bundle(
        dest,
        data,
        {
            "name": "cancer", "version": 1, "run_id": None, "task": "binary",
            "artifact_sha256": hashlib.sha256(data).hexdigest(), "target": "target",
            "signature": model_io.describe_inputs(X, plans),
            "input_example": model_io.input_example(X), "output": {"task": "binary"},
            "trusted_types": untrusted, "packages": {}, "python_version": "3.11",
        },
    )  # fmt: skip


def rss_mb(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no {field} in /proc/{pid}/status")


def memory_under_big_requests(bundle: Path, X, inflight_mb: float) -> dict[str, float]:
    """Start a server with ``--max-inflight-mb``, send six 15 MB requests at once."""
    reps = int(15 * 2**20 / len(json.dumps(X.to_numpy().tolist()))) + 1
    body = json.dumps(
        {"dataframe_split": {"columns": list(X.columns), "data": X.to_numpy().tolist() * reps}}
    ).encode()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.serving", "--bundle", bundle, "--port", str(port),
         "--max-body-mb", "16", "--max-inflight-mb", str(inflight_mb), "--queue-seconds", "600"],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_up(port, "/ping", proc)
        started = rss_mb(proc.pid, "VmRSS")
        codes: list[int] = []
        barrier = threading.Barrier(6)

        def send() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            barrier.wait()
            conn.request("POST", "/invocations", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            codes.append(response.status)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=send) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - t0
        if codes != [200] * 6:
            raise SystemExit(f"answers {codes}")
        return {
            "body_mb": len(body) / 2**20,
            "rss_start_mb": started,
            "rss_peak_mb": rss_mb(proc.pid, "VmHWM"),
            "seconds": seconds,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def memory_main(as_json: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from app.serving.options import ServeOptions

    space: dict = {}
    exec(MODEL_CODE, space)
    tmp = Path(tempfile.mkdtemp(prefix="bench-serving-memory-"))
    try:
        bundle = write_cancer_bundle(tmp / "bundle", space["model"], space["X"])
        default = ServeOptions().max_inflight_mb
        result = {
            "bounded": {"max_inflight_mb": default,
                        **memory_under_big_requests(bundle, space["X"], default)},
            "unbounded": {"max_inflight_mb": 100000,
                          **memory_under_big_requests(bundle, space["X"], 100000)},
        }  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    for name, r in result.items():
        print(
            f"{name:9} (--max-inflight-mb {r['max_inflight_mb']:g}): "
            f"RSS {r['rss_start_mb']:.0f} MB at start, peak {r['rss_peak_mb']:.0f} MB "
            f"under 6 × {r['body_mb']:.1f} MB at once "
            f"(all answered in {r['seconds']:.1f} s)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--mlflow-venv", type=Path, default=MLFLOW_VENV)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--memory", action="store_true", help="the bound on request bytes instead")
    args = ap.parse_args()
    if args.memory:
        memory_main(args.json)
        return
    mlflow_bin = args.mlflow_venv / "bin"
    if not (mlflow_bin / "mlflow").exists():
        raise SystemExit(f"MLflow is not installed in {args.mlflow_venv}; see the module doc.")

    sys.path.insert(0, str(ROOT))

    space: dict = {}
    exec(MODEL_CODE, space)  # the very code the MLflow side runs
    model, X = space["model"], space["X"]
    row = X.iloc[[0]]
    body = json.dumps({"dataframe_split": json.loads(row.to_json(orient="split", index=False))})
    body_bytes = body.encode()

    tmp = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    procs: list[subprocess.Popen] = []
    try:
        write_cancer_bundle(tmp / "bundle", model, X)
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
