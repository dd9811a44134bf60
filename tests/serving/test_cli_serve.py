"""``modeldesk serve NAME@V | --run ID``: a model answered over HTTP by the image's server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

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


def _start(store_url: str, tmp_path, *target: str, host: str = "127.0.0.1") -> Server:
    port = free_port()
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", *target, "--port", str(port), "--host", host,
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
        assert "warning:" not in server.stderr()  # 127.0.0.1: nobody else can reach it
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


def test_serve_several_versions_in_one_server(services, store_url, small_csv, tmp_path) -> None:
    from app.core.training.request import TrainRequest

    run, model = _train(services, small_csv)
    first = services.registry.register(run.id, "irisa")
    services.registry.set_alias("irisa", "champion", first.version, force=True, reason="serve test")
    other_run = services.training.train_inline(
        TrainRequest(
            dataset="iris_like", target="species", estimator="logistic", folds=3, plots=False
        )
    )
    services.registry.register(other_run.id, "irisb")
    other = services.training.load_model(other_run.id)
    server = _start(store_url, tmp_path, "irisa@champion", "irisb@1")
    try:
        wait_ready(server)
        with server.client() as client:
            names = [i["name"] for i in client.get("/v2/models/irisa").json()["inputs"]]
            X = pd.DataFrame(ROWS)[names]
            a = client.post("/models/irisa/invocations", json={"dataframe_records": ROWS})
            b = client.post("/models/irisb/versions/1/invocations",
                            json={"dataframe_records": ROWS})  # fmt: skip
            index = client.post("/v2/repository/index").json()
            both = client.post("/invocations", json={"dataframe_records": ROWS})
        assert a.json()["predictions"] == model.predict(X).tolist()
        assert b.json()["predictions"] == other.predict(X).tolist()
        assert {(r["name"], r["version"]) for r in index} == {("irisa", "1"), ("irisb", "1")}
        assert both.status_code == 404 and "irisa@1" in both.json()["error"]
        assert "Serving irisa@1, irisb@1" in server.stderr()
    finally:
        code = server.stop(timeout=60)
    assert code == 0, server.stderr()
    logs = sorted(p.name for p in (tmp_path / "predictions").iterdir())
    assert logs == ["irisa-v1", "irisb-v1"]  # one prediction log per model


def test_serve_needs_a_version_or_a_run(store_url, capsys) -> None:
    from app.cli import main

    assert main(["serve", "--store", store_url]) == 1
    assert "--run ID" in capsys.readouterr().err
    assert main(["serve", "--run", "999", "--store", store_url]) == 1


def _serve_cli(store_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "serve", *args, "--store", store_url],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )  # fmt: skip


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_a_taken_port_is_one_error_line_and_exit_1(services, store_url, small_csv) -> None:
    run, _ = _train(services, small_csv)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        line = _one_error_line(_serve_cli(store_url, "--run", str(run.id), "--port", str(port)))
    assert f"Port {port} on 127.0.0.1 is already taken" in line


@pytest.mark.parametrize("port", ["-1", "0", "99999"])
def test_a_port_outside_1_to_65535_is_refused(store_url, port) -> None:
    line = _one_error_line(_serve_cli(store_url, "--run", "1", "--port", port))
    assert f"Port {port} is not a TCP port" in line and "1 to 65535" in line


def test_a_public_host_without_a_token_warns(services, store_url, small_csv, tmp_path) -> None:
    run, _ = _train(services, small_csv)
    server = _start(store_url, tmp_path, "--run", str(run.id), host="0.0.0.0")
    try:
        wait_ready(server)  # it serves (on every interface, 127.0.0.1 included)…
        warning = [x for x in server.stderr().splitlines() if x.startswith("warning:")]
        assert len(warning) == 1 and "0.0.0.0 without a token" in warning[0]  # …and says so
        assert "--token" in warning[0]
    finally:
        assert server.stop(timeout=60) == 0, server.stderr()


def test_a_refused_bundle_is_one_error_line(services, store_url, small_csv, monkeypatch, capsys):
    """The server names why it refuses the bundle; the CLI adds no second ``error:`` line."""
    import app.core.bundle as bundle
    from app.cli import main
    from app.serving.model_loader import MODEL_FILE

    run, _ = _train(services, small_csv)
    written = bundle.bundle_from_run

    def damaged_on_disk(*args, **kwargs):  # the real bundle, then one byte of it flipped
        result = written(*args, **kwargs)
        model = Path(args[3]) / MODEL_FILE
        data = bytearray(model.read_bytes())
        data[len(data) // 2] ^= 0xFF
        model.write_bytes(bytes(data))
        return result

    monkeypatch.setattr(bundle, "bundle_from_run", damaged_on_disk)
    capsys.readouterr()
    code = main(["serve", "--run", str(run.id), "--port", str(free_port()), "--store", store_url])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1 and len(errors) == 1, err
    assert "Traceback" not in err
