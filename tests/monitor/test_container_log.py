"""Monitor and retrain against a real running container (the deploy issue's image and server).

One store, one model, ONE image built per module (the retrain test adds a second version,
whose build reuses every layer but the model's). Rows go to the container over real HTTP, the
container writes its prediction log into a mounted folder, and the monitor reads that folder.
Without a daemon these tests skip on a developer's machine and FAIL under CI=true.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pyarrow as pa
import pytest

from app.cli import main
from app.core.deploy import RunOptions
from tests.deploy.conftest import base_image, docker_or_fail, tear_down, wheel_cache

from .conftest import train, world

pytestmark = pytest.mark.docker
ROWS = 500


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """(services, store_url, deployment, log folder): ``churn@1`` (champion) running with a
    prediction log, in a store of its own; everything this module started is stopped and every
    image it built is removed at the end."""
    from app.bootstrap import build_services

    docker_or_fail()
    root = tmp_path_factory.mktemp("monitor-live")
    url = f"sqlite:///{root / 'store' / 'modeldesk.db'}"
    with pytest.MonkeyPatch.context() as env:
        # the CLI builds its own services: it must find the same base image and wheels
        env.setenv("MODELDESK_BASE_IMAGE", base_image())
        env.setenv("MODELDESK_WHEEL_CACHE", str(wheel_cache()))
        services = build_services(url)
        deploy = services.deployments
        try:
            services.datasets.add_table(world(1500, 0), name="train", source_kind="test")
            run = train(services, "train@1")
            v1 = services.registry.register(run.id, "churn")
            services.registry.set_alias("churn", "champion", v1.version)
            log_dir = root / "predictions"
            log_dir.mkdir()
            dep = deploy.deploy("churn@1", RunOptions(log_dir=str(log_dir), memory="768m"))
            yield services, url, dep, log_dir
        finally:
            tear_down(deploy)
            services.close()


def _send(port: int, table: pa.Table, chunk: int = 100) -> list[str]:
    """POST the rows in MLflow's dataframe_records form; the container's predictions."""
    import httpx

    records = table.select(["x1", "x2", "city"]).to_pylist()
    out: list[str] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for i in range(0, len(records), chunk):
            r = client.post("/invocations", json={"dataframe_records": records[i : i + chunk]})
            assert r.status_code == 200, r.text
            out.extend(r.json()["predictions"])
    return out


def test_drift_is_computed_on_what_a_running_container_logged(live, capsys) -> None:
    services, url, dep, log_dir = live
    assert dep.status == "running" and dep.options["log_dir"] == str(log_dir)
    shifted = world(ROWS, 31, shift=1.0)  # x1 moved by one standard deviation, x2 and city not
    predictions = _send(dep.port, shifted)
    assert len(predictions) == ROWS

    # the log holds exactly what the container answered, one line per row; the server writes
    # it after answering (off the request path), so the last lines may take a moment
    deadline = time.monotonic() + 15
    while True:
        lines = [
            json.loads(line)
            for path in sorted(log_dir.glob("predictions-*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        if len(lines) >= ROWS or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(lines) == ROWS
    assert [line["prediction"] for line in lines] == predictions
    assert {(line["model"], line["version"]) for line in lines} == {("churn", 1)}

    [report] = services.monitoring.check("churn@champion", deployment=dep.id)
    by_name = {f.name: f for f in report.features}
    assert report.current["rows"] == ROWS and report.current["deployment_id"] == dep.id
    assert by_name["x1"].drift_detected and by_name["x1"].status == "alert"
    assert by_name["x1"].value > 0.5  # normalised Wasserstein of a one-sd shift is about 1
    for other in ("x2", "city"):
        assert not by_name[other].drift_detected, by_name[other]
        assert by_name[other].status != "alert"
    # the label follows x1, so the container's answers moved with it
    share_yes = np.mean(np.asarray(predictions) == "yes")
    assert report.prediction is not None and report.prediction.drift_detected, share_yes
    assert report.status == "alert"
    assert services.monitoring.reports("churn", deployment=dep.id)[0]["id"] == report.id

    # the same log through the command a cron job runs: exit code 3 on the alert
    code = main(
        ["monitor", "churn@champion", "--deployment", str(dep.id), "--store", url, "--json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 3 and out["status"] == "alert" and out["error"] == "DriftAlert"
    drifted = [f["name"] for f in out["reports"][0]["features"] if f["drift_detected"]]
    assert drifted == ["x1"]
