"""Bundles of real fitted pipelines and real servers (``python -m app.serving``) on free ports.

Starting a server imports pandas, scikit-learn and FastAPI (seconds on a loaded machine), so
the servers most tests talk to are shared per module; tests that stop or break a server
start their own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_bundle(
    dest: Path,
    pipeline: Any,
    X: pd.DataFrame,
    *,
    name: str,
    task: str,
    plans: list[dict[str, str]],
    version: int = 1,
) -> Path:
    """A bundle written the way the packager writes one (app.core.bundle.write_bundle)."""
    from app.core.bundle import write_bundle
    from app.core.training import model_io

    data, untrusted = model_io.dump(pipeline)
    output: dict[str, Any] = {"task": task}
    if task != "regression":
        output["classes"] = [c.item() if hasattr(c, "item") else c for c in pipeline.classes_]
    meta = {
        "name": name,
        "version": version,
        "artifact_sha256": hashlib.sha256(data).hexdigest(),
        "run_id": None,
        "task": task,
        "target": "y",
        "signature": model_io.describe_inputs(X, plans),
        "input_example": model_io.input_example(X),
        "output": output,
        "trusted_types": untrusted,
        "packages": {},
        "python_version": "3.11",
    }
    return write_bundle(dest, data, meta)


# -- the models ------------------------------------------------------------------------------


def cancer_data() -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y.to_numpy()


def mixed_data(n: int = 120) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    size = rng.normal(10, 3, n).round(2)
    color = rng.choice(["red", "green", "blue"], n)
    when = pd.date_range("2024-01-01", periods=n, freq="37h").strftime("%Y-%m-%dT%H:%M:%S")
    X = pd.DataFrame({"size": size, "color": color, "when": when})
    label = np.where(size + (color == "red") * 3 > 11, "big", "small")
    value = size * 2.5 + (color == "blue") * 4.0 + rng.normal(0, 0.1, n)
    return X, label, value


@pytest.fixture(scope="session")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """cancer (RF, numeric), mixed_clf (strict one-hot: rejects unseen), mixed_reg (ModelDesk)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from app.core.training.preprocessing import ColumnPlan, build_pipeline

    root = tmp_path_factory.mktemp("bundles")
    out: dict[str, Any] = {}

    X, y = cancer_data()
    plans = [ColumnPlan(c, "numeric", "numeric") for c in X.columns]
    rf = build_pipeline(plans, RandomForestClassifier(n_estimators=30, random_state=0)).fit(X, y)
    out["cancer"] = (
        make_bundle(root / "cancer", rf, X, name="cancer", task="binary",
                    plans=[p.to_dict() for p in plans]),
        rf, X,
    )  # fmt: skip

    Xm, label, value = mixed_data()
    strict = Pipeline(
        [
            (
                "preprocess",
                ColumnTransformer(
                    [
                        ("numeric", SimpleImputer(), ["size"]),
                        ("onehot", OneHotEncoder(handle_unknown="error"), ["color"]),
                    ]
                ),
            ),
            ("model", LogisticRegression()),
        ]
    ).fit(Xm[["size", "color"]], label)
    strict_plans = [
        {"name": "size", "role": "numeric", "treatment": "numeric"},
        {"name": "color", "role": "categorical", "treatment": "onehot"},
    ]
    out["mixed_clf"] = (
        make_bundle(root / "mixed_clf", strict, Xm[["size", "color"]], name="sizes",
                    task="binary", plans=strict_plans),
        strict, Xm[["size", "color"]],
    )  # fmt: skip

    reg_plans = [
        ColumnPlan("size", "numeric", "numeric"),
        ColumnPlan("color", "categorical", "onehot"),
        ColumnPlan("when", "datetime", "date"),
    ]
    reg = build_pipeline(reg_plans, Ridge()).fit(Xm, value)
    out["mixed_reg"] = (
        make_bundle(root / "mixed_reg", reg, Xm, name="prices", task="regression",
                    plans=[p.to_dict() for p in reg_plans], version=3),
        reg, Xm,
    )  # fmt: skip
    return out


# -- servers ---------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[str]
    stdout_path: Path
    stderr_path: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, **{"timeout": 30.0, **kwargs})

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def start_server(
    bundle: Path, logs: Path, *args: str, env: dict[str, str] | None = None, wait: bool = True
) -> Server:
    port = free_port()
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / f"stdout-{port}.log", logs / f"stderr-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.serving", "--bundle", str(bundle), "--port", str(port), *args],
        cwd=ROOT,
        stdout=out.open("w"),
        stderr=err.open("w"),
        env={**os.environ, **(env or {})},
        text=True,
    )
    server = Server(f"http://127.0.0.1:{port}", proc, out, err)
    if wait:
        wait_ready(server)
    return server


def wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"server exited {server.proc.returncode}: {server.stderr()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/v2/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    server.proc.kill()
    raise AssertionError(f"server not ready after {START_TIMEOUT}s: {server.stderr()}")


@contextlib.contextmanager
def running(bundle: Path, logs: Path, *args: str, **kwargs: Any) -> Iterator[Server]:
    server = start_server(bundle, logs, *args, **kwargs)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(timeout=10)


def records(X: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(X.to_json(orient="records"))


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def prediction_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("predictions")


@pytest.fixture(scope="session")
def servers(bundles: dict[str, Any], server_logs: Path, prediction_dir: Path) -> Iterator[dict]:
    """Four servers started together (their start-ups overlap): cancer (prediction log via
    the environment, tiny rotation size), prices (regression), sizes (strict categories) and
    guarded (sizes behind a token and a 2 kB body cap)."""
    started = {
        "cancer": start_server(
            bundles["cancer"][0], server_logs, wait=False,
            env={"MODELDESK_LOG_DIR": str(prediction_dir), "MODELDESK_LOG_MAX_MB": "0.01",
                 "MODELDESK_MAX_WAIT_MS": "5"},
        ),
        "prices": start_server(bundles["mixed_reg"][0], server_logs, wait=False),
        "sizes": start_server(bundles["mixed_clf"][0], server_logs, wait=False),
        "guarded": start_server(
            bundles["mixed_clf"][0], server_logs, "--token", "s3cret", "--max-body-mb", "0.002",
            wait=False,
        ),
    }  # fmt: skip
    try:
        for server in started.values():
            wait_ready(server)
        yield started
    finally:
        for server in started.values():
            if server.proc.poll() is None:
                server.proc.kill()
                server.proc.wait(timeout=10)


def scrape(server: Server) -> dict[tuple[str, tuple], float]:
    """Every sample of the server's ``/metrics``: (name, sorted labels) → value."""
    from prometheus_client.parser import text_string_to_metric_families

    with server.client() as client:
        text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sum_of(samples: dict, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))
