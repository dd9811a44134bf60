"""Replay before promotion: a real server writes the prediction log, a real replay reads it.

Production (v1) is served by ``python -m app.serving`` with a prediction log, answers real
HTTP requests, and is stopped (the log flushed). The replay then serves the candidate and
production again, locally, and must count exactly the rows where the candidate's answers
differ from the logged ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from app.core.errors import InvalidInput, PolicyRefused
from tests.deploy.conftest import make_table

ROOT = Path(__file__).resolve().parents[2]
N_REQUESTS = 12


def _train(services, trees: int, depth: int, name: str = "churn"):
    from app.core.training import TrainRequest

    run = services.training.train_inline(
        TrainRequest(
            "churn-data@1",
            "churn",
            "random_forest",
            params={"n_estimators": trees, "max_depth": depth},
            folds=2,
            plots=False,
        )
    )
    return services.registry.register(run.id, name)


def _serve_and_log(services, ref: str, log_dir: Path, batches: list[list[dict]]) -> None:
    """Serve ``ref`` with a prediction log, send ``batches`` over HTTP, stop it cleanly."""
    from app.core.bundle import bundle_from_version
    from app.core.monitoring.replay_targets import _wait_http
    from app.core.progress import NullProgress
    from tests.serving.conftest import free_port

    with tempfile.TemporaryDirectory() as tmp:
        bundle, _ = bundle_from_version(services.registry, ref, Path(tmp) / "bundle")
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.serving", "--bundle", str(bundle), "--port", str(port),
             "--log-dir", str(log_dir)],
            cwd=ROOT,
        )  # fmt: skip
        try:
            _wait_http(
                port, lambda: None if proc.poll() is None else "died", 90, NullProgress(), ref
            )
            for i, rows in enumerate(batches):
                r = httpx.post(
                    f"http://127.0.0.1:{port}/invocations",
                    json={"dataframe_records": rows},
                    headers={"X-Request-ID": f"req-{i}"},
                    timeout=30,
                )
                assert r.status_code == 200, r.text
        finally:
            proc.terminate()
            assert proc.wait(timeout=60) == 0


def _deployment_row(services, version, log_dir: Path) -> int:
    from app.core.store.models_deploy import DeploymentRow

    def write(s):
        row = DeploymentRow(
            model_version_id=version.id,
            status="stopped",
            options={"log_dir": str(log_dir)},
            smoke_test={},
            created_at=datetime.now(UTC),
        )
        s.add(row)
        s.flush()
        return row.id

    return services.store.write(write)


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('replay') / 'modeldesk.db'}"


@pytest.fixture(scope="module")
def recorded(store_url, tmp_path_factory):
    """(services, v1, v2, deployment id, log folder, the batches sent), once per module:
    training and serving cost seconds each on a loaded machine."""
    from app.bootstrap import build_services

    services = build_services(store_url)
    services.datasets.add_table(make_table(300, seed=3), name="churn-data", source_kind="test")
    v1 = _train(services, 3, 2)
    v2 = _train(services, 30, 8)
    rows = make_table(60, seed=9).drop(["churn"]).to_pylist()
    batches = [rows[i * 5 : (i + 1) * 5] for i in range(N_REQUESTS)]
    log_dir = tmp_path_factory.mktemp("log")
    _serve_and_log(services, v1.ref, log_dir, batches)
    dep = _deployment_row(services, v1, log_dir)
    yield services, v1, v2, dep, log_dir, batches
    services.close()


def test_replay_reports_the_differing_share_exactly(recorded) -> None:
    services, v1, v2, dep, _log_dir, batches = recorded
    import pandas as pd

    # what the candidate answers differently, counted independently of the replay
    frame = pd.DataFrame([r for b in batches for r in b])
    p1 = services.registry.load_model(v1.ref).predict(frame)
    p2 = services.registry.load_model(v2.ref).predict(frame)
    expected = int((p1 != p2).sum())
    assert expected > 0, "the two versions must answer differently for this test to mean much"

    report = services.replays.replay(v2.ref, deployment=dep)
    assert report.requests == N_REQUESTS and report.rows == len(frame)
    assert report.differing_rows == expected
    assert report.agreement == pytest.approx((len(frame) - expected) / len(frame), abs=0)
    assert report.not_reproduced == 0  # production still answers its own log
    flat = [(r.request_id, j) for r in report.results for j in r.differing]
    want = [(f"req-{k // 5}", k % 5) for k in range(len(frame)) if p1[k] != p2[k]]
    assert flat == want
    assert report.latency_ms["candidate"]["p50"] > 0 and report.latency_ms["production"]["p50"] > 0

    entry = services.registry.audit_log(v2.ref, action="model.replayed")[-1]
    assert entry.details["agreement"] == report.agreement


def test_replay_of_a_tampered_log_counts_each_changed_row(recorded, tmp_path) -> None:
    """Production replayed against its own log agrees fully, except on the rows changed."""
    services, v1, _, _, log_dir, _ = recorded
    lines = [
        json.loads(x) for x in (log_dir / "predictions-current.jsonl").read_text().splitlines()
    ]
    for k in (0, 7, 33):
        lines[k]["prediction"] = "maybe"
    (tmp_path / "predictions-current.jsonl").write_text(
        "".join(json.dumps(x) + "\n" for x in lines)
    )
    dep = _deployment_row(services, v1, tmp_path)

    report = services.replays.replay(v1.ref, deployment=dep, record=False)
    assert report.differing_rows == 3 and report.differing_requests == 3
    assert report.agreement == pytest.approx(1 - 3 / len(lines), abs=0)
    assert [r.request_id for r in report.results if r.differing] == ["req-0", "req-1", "req-6"]
    assert report.not_reproduced == 3

    last = services.replays.replay(v1.ref, deployment=dep, limit=2, record=False)
    assert last.requests == 2 and [r.request_id for r in last.results] == ["req-10", "req-11"]


def test_policy_requires_a_replay_with_enough_agreement(recorded) -> None:
    services, v1, _, dep, _, _ = recorded
    registry = services.registry
    v3 = _train(services, 40, 6)  # never replayed yet
    registry.set_alias("churn", "champion", v1.version)
    registry.set_policy("churn", replay_agreement=0.999, min_gain=0.0, same_data=False)
    with pytest.raises(PolicyRefused, match="no replay"):
        registry.set_alias("churn", "champion", v3.version)
    report = services.replays.replay(v3.ref, deployment=dep)
    assert report.agreement < 0.999
    with pytest.raises(PolicyRefused, match="agrees with production on"):
        registry.set_alias("churn", "champion", v3.version)
    registry.set_policy("churn", replay_agreement=report.agreement)
    check = registry.check_promotion("churn", v3.version)
    assert not [r for r in check.reasons if "replay" in r or "agrees" in r]
    with pytest.raises(InvalidInput, match="share above 0"):
        registry.set_policy("churn", replay_agreement=1.5)


def test_replay_errors_are_sentences(recorded, tmp_path) -> None:
    services, v1, v2, dep, _, _ = recorded
    with pytest.raises(InvalidInput, match="not both"):
        services.replays.replay(v2.ref, deployment=dep, log=tmp_path)
    with pytest.raises(InvalidInput, match="--production"):
        services.replays.replay(v2.ref, log=tmp_path)
    empty = _deployment_row(services, v1, tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="nothing to replay"):
        services.replays.replay(v2.ref, deployment=empty)


def test_cli_replay_json_and_min_agreement(recorded, store_url, capsys) -> None:
    from app.cli import main

    _services, _v1, v2, dep, _, _ = recorded
    code = main(["replay", v2.ref, "--from-deployment", str(dep), "--store", store_url, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["requests"] == N_REQUESTS and "results" not in out
    assert sum(len(d["rows"]) for d in out["differing"]) == out["differing_rows"]
    code = main(
        ["replay", v2.ref, "--from-deployment", str(dep), "--store", store_url,
         "--min-agreement", "1"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 3 and "agreement" in captured.out
    assert captured.err.strip().splitlines()[-1].startswith("error:") or "error:" in captured.err


@pytest.mark.docker
def test_replay_against_containers_of_the_images(deploy_env, built, tmp_path) -> None:
    """A real deployment logs real traffic; the replay runs both sides as containers."""
    from app.core.deploy import RunOptions
    from tests.deploy.conftest import docker_or_fail

    docker_or_fail()
    services, deploy, versions = deploy_env
    image, _ = built
    dep = deploy.run(image.id, RunOptions(log_dir=str(tmp_path / "log")))
    try:
        rows = image.example["rows"]
        for i in range(4):
            r = httpx.post(
                f"{dep.url}/invocations",
                json={"dataframe_records": rows},
                headers={"X-Request-ID": f"c-{i}"},
                timeout=30,
            )
            assert r.status_code == 200
    finally:
        deploy.stop(dep.id)  # the log is flushed when the server stops
    from app.core.monitoring.replay import ReplayService

    replays = ReplayService(services.store, services.registry, deploy)
    report = replays.replay(versions[0].ref, deployment=dep.id, image=True, record=False)
    assert report.kind == "container" and report.requests == 4
    assert report.rows == 4 * len(rows) and report.differing_rows == 0
    assert report.agreement == 1.0 and report.not_reproduced == 0
    client = deploy.client()
    assert not client.containers.list(filters={"label": "io.modeldesk.replay"})
