"""What operators rely on: micro-batching, /metrics, the prediction log, the SHA-256 check at
start, graceful SIGTERM and the JSON access log."""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.serving.conftest import ROOT, free_port, records, scrape, start_server, sum_of


async def _burst(url: str, bodies: list[dict]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        return await asyncio.gather(*(client.post("/invocations", json=b) for b in bodies))


def test_concurrent_requests_are_batched_and_counted(bundles, servers) -> None:
    server = servers["cancer"]
    _, model, X = bundles["cancer"]
    before = scrape(server)
    bodies = [{"dataframe_records": records(X.iloc[[i]])} for i in range(64)]
    answers = asyncio.run(_burst(server.url, bodies))
    assert [a.json()["predictions"][0] for a in answers] == model.predict(X.iloc[:64]).tolist()
    time.sleep(0.5)  # batch metrics are recorded just after the answers go out
    after = scrape(server)

    def delta(name: str, **labels: str) -> float:
        return sum_of(after, name, **labels) - sum_of(before, name, **labels)

    assert delta("modeldesk_requests_total", endpoint="invocations", code="200") == 64
    assert delta("modeldesk_predicted_rows_total") == 64
    batches = delta("modeldesk_batch_size_count")
    assert delta("modeldesk_batch_size_sum") == 64
    assert batches < 64, "no two concurrent requests shared a predict call"
    assert delta("modeldesk_batch_size_bucket", le="1.0") < batches  # some batch held > 1 row
    assert delta("modeldesk_request_latency_seconds_count", endpoint="invocations") == 64
    by_class = {c: delta("modeldesk_predictions_total", **{"class": c}) for c in ("0", "1")}
    assert by_class == {str(c): float((model.predict(X.iloc[:64]) == c).sum()) for c in (0, 1)}


def test_errors_are_counted_by_code(servers) -> None:
    server = servers["sizes"]
    before = scrape(server)
    with server.client() as client:
        client.post("/invocations", json={"dataframe_records": [{"size": 1.0}]})
        client.post("/invocations", content=b"{", headers={"content-type": "application/json"})
    after = scrape(server)
    for code in ("422", "400"):
        assert (
            sum_of(after, "modeldesk_request_errors_total", code=code)
            - sum_of(before, "modeldesk_request_errors_total", code=code)
            == 1
        )


def test_prediction_log_one_line_per_row_and_rotated(bundles, servers, prediction_dir) -> None:
    server = servers["cancer"]
    _, model, X = bundles["cancer"]
    rows = X.iloc[100:130]
    with server.client() as client:
        skipped = client.post(  # a deploy's smoke test: answered, never logged
            "/invocations",
            json={"dataframe_records": records(rows.iloc[:3])},
            headers={"x-request-id": "smoke", "x-prediction-log": "skip"},
        )
        r = client.post(
            "/invocations",
            json={"dataframe_records": records(rows), "params": {"probabilities": True}},
            headers={"x-request-id": "log-test-1"},
        )
    assert skipped.status_code == 200 and len(skipped.json()["predictions"]) == 3
    assert r.status_code == 200 and r.headers["x-request-id"] == "log-test-1"
    deadline = time.monotonic() + 10
    while True:
        lines = [
            json.loads(line)
            for path in sorted(prediction_dir.glob("predictions-*.jsonl"))
            for line in path.read_text().splitlines()
        ]
        mine = [x for x in lines if x["request_id"] == "log-test-1"]
        if len(mine) == len(rows) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(mine) == len(rows)
    assert not [x for x in lines if x["request_id"] == "smoke"]  # written in order: before
    assert [m["prediction"] for m in mine] == model.predict(rows).tolist()
    assert mine[0]["inputs"] == records(rows)[0]
    assert mine[0]["proba"] == pytest.approx(
        dict(zip(["0", "1"], model.predict_proba(rows)[0], strict=True))
    )
    assert (mine[0]["model"], mine[0]["version"]) == ("cancer", 1)
    assert mine[0]["ts"].endswith("+00:00")
    rotated = [p.name for p in prediction_dir.glob("predictions-2*.jsonl")]
    assert rotated, "30 rows of ~1 kB each should have rotated a 10 kB log"
    assert (prediction_dir / "predictions-current.jsonl").exists()
    assert all(p.stat().st_size <= 10 * 1024 * 1024 for p in prediction_dir.iterdir())


def test_tampered_model_refuses_to_start(bundles, tmp_path) -> None:
    bundle = tmp_path / "tampered"
    shutil.copytree(bundles["mixed_clf"][0], bundle)
    data = bytearray((bundle / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bundle / "model.skops").write_bytes(bytes(data))
    done = subprocess.run(
        [sys.executable, "-m", "app.serving", "--bundle", str(bundle), "--port", str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "does not match model.json" in done.stderr and "SHA-256" in done.stderr
    assert "model.skops" in done.stderr


def test_sigterm_finishes_in_flight_request_and_exits_0(bundles, tmp_path) -> None:
    _, model, X = bundles["cancer"]
    log_dir = tmp_path / "predictions"
    server = start_server(bundles["cancer"][0], tmp_path / "logs", "--log-dir", str(log_dir))
    big = X.sample(6000, replace=True, random_state=0)
    body = json.dumps({"dataframe_records": records(big)})
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=60)
    conn.request("POST", "/invocations", body, {"content-type": "application/json"})
    # the whole request is sent: it is in flight when the signal arrives
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    response = conn.getresponse()
    status, answer = response.status, json.loads(response.read())
    code = server.proc.wait(timeout=60)
    assert code == 0, server.stderr()
    assert time.monotonic() - started < 30
    assert status == 200
    assert answer["predictions"] == model.predict(big).tolist()
    logged = (log_dir / "predictions-current.jsonl").read_text().splitlines()
    assert len(logged) == len(big)  # flushed before exit
    events = [json.loads(line) for line in server.stdout().splitlines()]
    assert events[0]["kind"] == "started" and events[-1]["kind"] == "stopped"


def test_access_log_is_one_json_object_per_request(servers) -> None:
    server = servers["prices"]
    with server.client() as client:
        client.get("/v2/health/live", headers={"x-request-id": "access-1"})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [json.loads(x) for x in server.stdout().splitlines()]
        hit = [x for x in lines if x.get("request_id") == "access-1"]
        if hit:
            break
        time.sleep(0.1)
    assert hit[0]["kind"] == "access" and hit[0]["status"] == 200
    assert hit[0]["path"] == "/v2/health/live" and hit[0]["method"] == "GET"
    assert isinstance(hit[0]["ms"], float)


def test_options_come_from_the_environment(monkeypatch) -> None:
    from app.serving.options import from_args

    monkeypatch.setenv("MODELDESK_TOKEN", "t")
    monkeypatch.setenv("MODELDESK_MAX_BATCH", "7")
    monkeypatch.setenv("MODELDESK_MAX_BODY_MB", "0.5")
    options = from_args(["--bundle", "/x", "--max-batch", "9"])
    assert (options.token, options.max_batch, options.max_body_mb) == ("t", 9, 0.5)
    assert Path(options.bundle) == Path("/x")
