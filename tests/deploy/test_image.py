"""Images and deployments on the real daemon, over real HTTP (one image build shared per module,
a second one for the next version, which must reuse every layer but the model's)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from app.core.deploy import RunOptions
from app.core.deploy.bundles import example_frame
from tests.deploy.conftest import MODEL, base_image

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def running(deploy_env, built, tmp_path_factory):
    """v1 running with a token, a small body cap and a prediction-log folder."""
    _, deploy, _ = deploy_env
    image, _ = built
    log_dir = tmp_path_factory.mktemp("predictions")
    dep = deploy.run(
        image.id,
        RunOptions(token="s3cret", log_dir=str(log_dir), max_body_mb=0.01, memory="768m"),
    )
    yield dep, log_dir
    deploy.stop(dep.id)


def _post(port, path, body, token="s3cret", **kw):
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"http://127.0.0.1:{port}{path}", json=body, headers=headers, timeout=30, **kw
    )


def test_build_streams_log_and_stores_the_built_image(deploy_env, built) -> None:
    _, deploy, versions = deploy_env
    image, lines = built
    assert image.status == "built" and image.image_id.startswith("sha256:")
    assert any(line.startswith("Step ") for line in lines)
    assert image.labels["io.modeldesk.model"] == MODEL
    assert image.labels["io.modeldesk.version"] == str(versions[0].version)
    assert image.labels["io.modeldesk.sha256"] == versions[0].artifact_sha256
    assert image.labels["io.modeldesk.run"] == str(versions[0].run_id)
    assert image.labels["org.opencontainers.image.version"] == str(versions[0].version)
    listed = [i for i in deploy.images(MODEL) if i.model_version_id == versions[0].id]
    assert [i.id for i in listed] == [image.id]  # other tests of the session build version 2
    assert 0 < image.size < 450_000_000, f"image is {image.size / 1e6:.0f} MB"


def test_container_answers_both_protocols_like_the_model(deploy_env, running) -> None:
    services, deploy, versions = deploy_env
    dep, log_dir = running
    assert dep.status == "running" and dep.smoke_test["ok"] is True
    assert dep.host == "127.0.0.1" and dep.port > 0
    example = versions[0].input_example
    model = services.registry.load_model(versions[0].ref)
    frame = example_frame(example, versions[0].signature)
    expected = model.predict(frame).tolist()
    proba = model.predict_proba(frame)

    wanted = {"dataframe_records": example, "params": {"probabilities": True}}
    r = _post(dep.port, "/invocations", wanted)
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == expected
    np.testing.assert_allclose(r.json()["probabilities"], proba, rtol=1e-9)
    split = {"columns": list(example[0]), "data": [list(row.values()) for row in example]}
    assert _post(dep.port, "/invocations", {"dataframe_split": split}).json()["predictions"] == (
        expected
    )
    inputs = [
        {
            "name": col,
            "shape": [len(example)],
            "datatype": "BYTES" if isinstance(example[0][col], str) else "FP64",
            "data": [row[col] for row in example],
        }
        for col in example[0]
    ]
    r = _post(dep.port, f"/v2/models/{MODEL}/infer", {"inputs": inputs})
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o for o in r.json()["outputs"]}
    assert next(iter(outputs.values()))["data"] == expected

    # the service's own test request (what the panel's form sends) agrees and is timed
    answer = deploy.test_request(dep.id, example)
    assert answer.status == 200 and answer.body["predictions"] == expected
    assert answer.latency_ms > 0

    # the prediction log reached the mounted folder, one line per row
    deadline = time.time() + 60  # written after the answer, on the server's own thread
    lines: list[str] = []
    while time.time() < deadline and len(lines) < len(example):
        lines = [
            ln
            for f in sorted(log_dir.glob("predictions-*.jsonl"))
            for ln in f.read_text().splitlines()
        ]
        time.sleep(0.2)
    assert len(lines) >= len(example)
    assert json.loads(lines[0])["model"] == MODEL


def test_container_refuses_bad_requests_with_the_right_codes(deploy_env, running) -> None:
    _, _, versions = deploy_env
    dep, _ = running
    example = versions[0].input_example
    bad = [{**example[0], "charges": "lots"}]
    r = _post(dep.port, "/invocations", {"dataframe_records": bad})
    assert r.status_code == 422 and "charges" in r.text
    missing = [{k: v for k, v in example[0].items() if k != "plan"}]
    r = _post(dep.port, "/invocations", {"dataframe_records": missing})
    assert r.status_code == 422 and "plan" in r.text
    r = _post(dep.port, "/invocations", {"dataframe_records": example * 200})  # > 10 kB cap
    assert r.status_code == 413
    assert _post(dep.port, "/invocations", {"dataframe_records": example}, token=None)
    r = _post(dep.port, "/invocations", {"dataframe_records": example}, token=None)
    assert r.status_code == 401
    r = _post(dep.port, "/invocations", {"dataframe_records": example}, token="wrong")
    assert r.status_code == 401
    import httpx

    assert httpx.get(f"http://127.0.0.1:{dep.port}/v2/health/ready").status_code == 200


def test_inspect_shows_non_root_user_labels_and_a_healthy_check(deploy_env, running) -> None:
    _, deploy, versions = deploy_env
    dep, _ = running
    container = deploy.client().containers.get(dep.container_id)
    deadline = time.time() + 60
    while time.time() < deadline:
        container.reload()
        if container.attrs["State"].get("Health", {}).get("Status") == "healthy":
            break
        time.sleep(1)
    attrs = container.attrs
    assert attrs["State"]["Health"]["Status"] == "healthy"
    user = attrs["Config"]["User"]
    assert user and user.split(":")[0] not in ("", "0", "root")
    out = container.exec_run(["id", "-u"]).output.decode().strip()
    assert out == "10001"
    labels = attrs["Config"]["Labels"]
    assert labels["io.modeldesk.sha256"] == versions[0].artifact_sha256
    assert labels["org.opencontainers.image.title"].startswith(MODEL)
    bindings = attrs["HostConfig"]["PortBindings"]["8080/tcp"]
    assert bindings[0]["HostIp"] == "127.0.0.1"
    assert attrs["HostConfig"]["Memory"] == 768 * 1024 * 1024


def test_the_build_runs_with_the_network_off(deploy_env, tmp_path) -> None:
    """The same build function, on a probe context, sees no network interface but loopback."""
    from app.core.deploy.builder import build_image
    from app.core.deploy.context import BuildContext

    _, deploy, _ = deploy_env
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
        "RUN python3 -c \"import socket; print('interfaces:', sorted(n for _, n in "
        'socket.if_nameindex()))"\n'
    )
    context = BuildContext(tmp_path, "modeldesk-test/network-probe:latest", {}, {})
    lines: list[str] = []
    built = build_image(deploy.client(), context, base_image=base_image(), on_log=lines.append)
    try:
        assert "interfaces: ['lo']" in lines
    finally:
        deploy.client().images.remove(built.image_id, force=True)


def test_next_version_reuses_every_layer_but_the_models(deploy_env, built) -> None:
    _, deploy, versions = deploy_env
    first, _ = built
    lines: list[str] = []
    t0 = time.perf_counter()
    second = deploy.build(versions[1].ref, on_log=lines.append)
    seconds = time.perf_counter() - t0
    client = deploy.client()
    layers1 = client.images.get(first.image_id).attrs["RootFS"]["Layers"]
    layers2 = client.images.get(second.image_id).attrs["RootFS"]["Layers"]
    assert len(layers1) == len(layers2)
    assert layers1[:-1] == layers2[:-1]  # base, user, venv, server, model code
    assert layers1[-1] != layers2[-1]  # the model files
    assert sum("Using cache" in line for line in lines) >= 8
    assert seconds < 60, f"rebuild took {seconds:.1f} s"


def test_rollback_restores_the_previous_versions_answers(deploy_env, running) -> None:
    _, deploy, _versions = deploy_env
    v2 = next(i for i in deploy.images(MODEL, include_failed=False) if i.version == "2")
    v1_dep, _ = running
    first = deploy.run(v2.id, RunOptions(token="t2"))
    assert first.version == "2" and first.smoke_test["ok"]
    v1_example = deploy.image(v2.id).example["rows"]
    body = {"dataframe_records": v1_example, "params": {"probabilities": True}}
    v2_answer = _post(first.port, "/invocations", body, token="t2").json()
    rolled = deploy.rollback(MODEL)
    assert rolled.version == "1" and rolled.port == first.port
    assert deploy.deployment(first.id).status == "stopped"
    expected_v1 = deploy.image(rolled.image_row_id).example["predictions"]
    r = _post(rolled.port, "/invocations", body, token="t2")
    assert r.status_code == 200 and r.json()["predictions"] == expected_v1
    # the very answers of v1's own container (probabilities differ between the versions)
    same = _post(v1_dep.port, "/invocations", body).json()
    np.testing.assert_allclose(r.json()["probabilities"], same["probabilities"], rtol=1e-12)
    assert not np.allclose(r.json()["probabilities"], v2_answer["probabilities"])
    deploy.stop(rolled.id)


def test_reconcile_marks_a_vanished_container(deploy_env, built) -> None:
    _, deploy, _ = deploy_env
    image, _ = built
    dep = deploy.run(image.id)
    deploy.client().containers.get(dep.container_id).remove(force=True)
    changed = deploy.reconcile()
    assert [d.id for d in changed] == [dep.id]
    assert deploy.deployment(dep.id).status == "vanished"


def test_push_to_a_local_registry_and_pull_back(deploy_env, built) -> None:
    import socket

    _, deploy, _ = deploy_env
    image, _ = built
    registry = os.environ.get("MODELDESK_TEST_REGISTRY")
    started = None
    if not registry:
        if not shutil.which("docker-registry"):
            pytest.fail("docker-registry is not installed (apt-get install docker-registry)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        out = subprocess.run(
            [str(REPO / "ci" / "registry.sh"), "start", str(port)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        registry = out.strip().rpartition("=")[2]
        started = port
    try:
        pushed = deploy.push(image.id, registry)
        client = deploy.client()
        client.images.remove(pushed)
        pulled = client.images.pull(pushed)
        assert pulled.id == image.image_id
        client.images.remove(pushed)
    finally:
        if started:
            subprocess.run([str(REPO / "ci" / "registry.sh"), "stop", str(started)], check=False)


def test_cli_lists_deployments_and_exports_a_context(
    deploy_env, built, tmp_path, capsys, monkeypatch
) -> None:
    from app.cli import main

    services, deploy, versions = deploy_env
    url = services.store.url
    monkeypatch.setenv("MODELDESK_WHEEL_CACHE", str(deploy.wheels.root))
    monkeypatch.setenv("MODELDESK_BASE_IMAGE", base_image())
    assert main(["deployments", "list", "--all", "--json", "--store", url]) == 0
    listed = json.loads(capsys.readouterr().out)["deployments"]
    assert {d["id"] for d in listed} == {d.id for d in deploy.deployments()}
    out = tmp_path / "ctx.tar.gz"
    code = main(
        ["package", versions[0].ref, "--export-context", str(out), "--json", "--store", url]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["command"].startswith("docker build --network none -t ")
    import tarfile

    with tarfile.open(out) as tar:
        names = set(tar.getnames())
    assert {
        "Dockerfile",
        ".dockerignore",
        "requirements.txt",
        "model/model.skops",
        "serving/app/serving/__main__.py",
        "build.sh",
    } <= names
    assert any(n.startswith("wheels/scikit_learn-") for n in names)


def test_cancelled_build_stores_nothing(deploy_env, built) -> None:
    from app.core.errors import Cancelled
    from app.core.progress import CancelToken

    _, deploy, versions = deploy_env
    before = [(i.id, i.status) for i in deploy.images()]
    token = CancelToken()
    lines: list[str] = []

    def on_log(line: str) -> None:
        lines.append(line)
        if line.startswith("Step 2/"):
            token.cancel()

    with pytest.raises(Cancelled):
        deploy.build(
            versions[1].ref, tag="modeldesk-test/cancelled:1", progress=token, on_log=on_log
        )
    assert [(i.id, i.status) for i in deploy.images()] == before
    assert not any(line.startswith("Successfully built") for line in lines)


def test_deploy_refuses_a_foreign_image_and_says_what_to_do(
    deploy_env, built, tmp_path, capsys
) -> None:
    from app.cli import main

    services, _, _ = deploy_env
    image, _ = built
    url = services.store.url
    assert main(["deploy", base_image(), "--store", url]) == 1
    err = capsys.readouterr().err
    assert "was not built by ModelDesk" in err and "modeldesk deploy NAME@VERSION" in err
    # a ModelDesk image of another store: rebuild the version here
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["deploy", image.tag, "--store", other]) == 1
    err = capsys.readouterr().err
    assert f"built by ModelDesk for {MODEL}@1, but not with this store" in err
    assert f"modeldesk package {MODEL}@1" in err
    assert main(["deploy", "nobody/nothing:1", "--store", url]) == 1
    assert "neither a model version in the registry nor an image" in capsys.readouterr().err
