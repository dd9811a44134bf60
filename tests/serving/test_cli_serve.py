"""``modeldesk serve NAME@V | --run ID``: a model answered over HTTP by the image's server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pandas as pd

from tests.serving.conftest import ROOT, Server, free_port, wait_ready

ROWS = [
    {"sepal": 1.2, "petal": 2.5, "flag": True, "when": "2024-01-05"},
    {"sepal": 4.0, "petal": None, "flag": False, "when": "2024-01-20"},
]


def _train(services, small_csv):
    from app.core.training.request import TrainRequest

    services.datasets.add_file(small_csv, name="iris_like")
    run = services.training.train_inline(
        TrainRequest(dataset="iris_like", target="species", folds=3, plots=False)
    )
    return run, services.training.load_model(run.id)


def _start(store_url: str, tmp_path, *target: str) -> Server:
    port = free_port()
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", *target, "--port", str(port),
         "--store", store_url, "--log-dir", str(tmp_path / "predictions")],
        cwd=ROOT, stdout=out.open("w"), stderr=err.open("w"), env=dict(os.environ), text=True,
    )  # fmt: skip
    return Server(f"http://127.0.0.1:{port}", proc, out, err)


def test_serve_registered_version(services, store_url, small_csv, tmp_path) -> None:
    run, model = _train(services, small_csv)
    version = services.registry.register(run.id, "iris")
    server = _start(store_url, tmp_path, "iris@1")
    try:
        wait_ready(server)
        with server.client() as client:
            meta = client.get("/v2/models/iris/versions/1").json()
            r = client.post("/invocations", json={"dataframe_records": ROWS})
        assert r.status_code == 200, r.text
        names = [i["name"] for i in meta["inputs"]]
        assert r.json()["predictions"] == model.predict(pd.DataFrame(ROWS)[names]).tolist()
        assert meta["parameters"]["sha256"] == version.artifact_sha256
        assert "Serving iris@1" in server.stderr()
    finally:
        code = server.stop(timeout=60)
    assert code == 0, server.stderr()


def test_serve_run_answers_like_the_run_model(services, store_url, small_csv, tmp_path) -> None:
    run, model = _train(services, small_csv)
    server = _start(store_url, tmp_path, "--run", str(run.id))
    err = server.stderr_path
    proc = server.proc
    try:
        wait_ready(server)
        rows = ROWS
        with server.client() as client:
            meta = client.get(f"/v2/models/run-{run.id}").json()
            names = [i["name"] for i in meta["inputs"]]
            r = client.post("/invocations", json={"dataframe_records": rows})
        assert r.status_code == 200, r.text
        expected = model.predict(pd.DataFrame(rows)[names]).tolist()
        assert r.json()["predictions"] == expected
        assert f"Serving run {run.id}" in err.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0, err.read_text()
    logged = (tmp_path / "predictions" / "predictions-current.jsonl").read_text().splitlines()
    assert [json.loads(x)["prediction"] for x in logged] == expected


def test_serve_needs_a_version_or_a_run(store_url, capsys) -> None:
    from app.cli import main

    assert main(["serve", "--store", store_url]) == 1
    assert "--run ID" in capsys.readouterr().err
    assert main(["serve", "--run", "999", "--store", store_url]) == 1
