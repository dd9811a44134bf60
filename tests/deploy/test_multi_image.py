"""One image serving two models on the real daemon over real HTTP: each answers its own
predictions on its own routes, the repository API works inside the container, ``/metrics``
tells them apart, the image is barely larger than a one-model image, and the CLI packages
and deploys it by name."""

from __future__ import annotations

import json
import uuid

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.core.deploy.bundles import example_frame
from tests.deploy.conftest import MODEL, base_image

pytestmark = pytest.mark.docker
OTHER = f"fraud{uuid.uuid4().hex[:6]}"
NAME = f"scoring{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def two_models(deploy_env):
    """A second model (logistic regression) beside the session's churn versions."""
    from app.core.training import TrainRequest

    services, _, versions = deploy_env
    run = services.training.train_inline(
        TrainRequest("churn-data@1", "churn", "logistic", folds=2, plots=False)
    )
    other = services.registry.register(run.id, OTHER)
    return versions[0], other


@pytest.fixture(scope="module")
def multi_image(deploy_env, two_models):
    _, deploy, _ = deploy_env
    first, other = two_models
    return deploy.build_models([first.ref, other.ref], name=NAME)


@pytest.fixture(scope="module")
def multi_running(deploy_env, multi_image):
    _, deploy, _ = deploy_env
    dep = deploy.deploy(NAME)  # by the image's name, as for one model
    yield dep
    deploy.stop(dep.id)


def _expected(services, version, rows):
    model = services.registry.load_model(version.ref)
    return model.predict(example_frame(rows, version.signature)).tolist()


def test_image_labels_list_both_models_and_size_is_near_one_models(
    deploy_env, two_models, multi_image, built
) -> None:
    first, other = two_models
    image = multi_image
    assert image.status == "built" and image.model_version_id is None
    assert image.labels["io.modeldesk.models"] == f"{first.ref},{other.ref}"
    assert image.labels["io.modeldesk.model"] == NAME
    assert image.tag.startswith(f"modeldesk/{NAME}:")
    assert [m["name"] for m in image.example["models"]] == [MODEL, OTHER]
    assert image.models == [first.ref, other.ref] and first.ref in image.ref  # panel's column
    single, _ = built
    assert image.size <= 1.1 * single.size, (image.size, single.size)


def test_two_models_answer_their_own_predictions_on_their_own_routes(
    deploy_env, two_models, multi_running
) -> None:
    services, deploy, _ = deploy_env
    first, other = two_models
    dep = multi_running
    assert dep.status == "running" and len(dep.smoke_test["models"]) == 2
    tried = deploy.test_request(dep.id, first.input_example)  # the panel's Test button
    assert tried.status == 200 and len(tried.body["predictions"]) == len(first.input_example)
    tried = deploy.test_request(dep.id, first.input_example, protocol="v2")
    assert tried.status == 200 and tried.body["model_name"] == MODEL
    rows = first.input_example + other.input_example
    base = dep.url
    with httpx.Client(base_url=base, timeout=30) as client:
        for version in (first, other):
            name = version.model_name
            r = client.post(f"/models/{name}/invocations", json={"dataframe_records": rows})
            assert r.status_code == 200, r.text
            assert r.json()["predictions"] == _expected(services, version, rows)
            frame = example_frame(rows, version.signature)
            inputs = [
                {"name": c, "shape": [len(frame)],
                 "datatype": "FP64" if frame[c].dtype.kind == "f" else "BYTES",
                 "data": frame[c].tolist()}
                for c in frame.columns
            ]  # fmt: skip
            oip = client.post(
                f"/v2/models/{name}/versions/{version.version}/infer", json={"inputs": inputs}
            )
            assert oip.status_code == 200, oip.text
            assert oip.json()["model_name"] == name
            assert oip.json()["outputs"][0]["data"] == _expected(services, version, rows)
        assert client.post("/invocations", json={"dataframe_records": rows}).status_code == 404
        text = client.get("/metrics").text
    rows_by_model = {
        s.labels["model"]: s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "modeldesk_predicted_rows_total"
    }
    assert rows_by_model[MODEL] >= 2 * len(rows) and rows_by_model[OTHER] >= 2 * len(rows)
    assert set(rows_by_model) == {MODEL, OTHER}


def test_repository_unload_and_load_inside_the_container(two_models, multi_running) -> None:
    first, other = two_models
    rows = other.input_example
    with httpx.Client(base_url=multi_running.url, timeout=60) as client:
        assert client.post(f"/v2/repository/models/{OTHER}/unload").status_code == 200
        index = {r["name"]: r["state"] for r in client.post("/v2/repository/index").json()}
        assert index == {MODEL: "READY", OTHER: "UNAVAILABLE"}
        gone = client.post(f"/models/{OTHER}/invocations", json={"dataframe_records": rows})
        assert gone.status_code == 404
        # one model left: /invocations is its route, as for a one-model image
        only = client.post("/invocations", json={"dataframe_records": first.input_example})
        assert only.status_code == 200
        assert client.post(f"/v2/repository/models/{OTHER}/load").status_code == 200
        back = client.post(f"/models/{OTHER}/invocations", json={"dataframe_records": rows})
        assert back.status_code == 200 and len(back.json()["predictions"]) == len(rows)


def test_cli_packages_several_models_and_deploys_the_image_by_name(
    deploy_env, two_models, multi_image, capsys, monkeypatch
) -> None:
    from app.cli import main

    services, deploy, _ = deploy_env
    first, other = two_models
    url = services.store.url
    monkeypatch.setenv("MODELDESK_WHEEL_CACHE", str(deploy.wheels.root))
    monkeypatch.setenv("MODELDESK_BASE_IMAGE", base_image())
    code = main(["package", first.ref, other.ref, "--json", "--store", url])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "--name" in err
    name = f"{NAME}cli"
    code = main(["package", first.ref, other.ref, "--name", name, "--json", "--store", url])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["labels"]["io.modeldesk.models"] == f"{first.ref},{other.ref}"
    code = main(["deploy", name, "--json", "--store", url])
    dep = json.loads(capsys.readouterr().out)
    try:
        assert code == 0, dep
        body = {"dataframe_records": first.input_example}
        r = httpx.post(f"{dep['url']}/models/{MODEL}/invocations", json=body, timeout=30)
        assert r.status_code == 200
        assert r.json()["predictions"] == _expected(services, first, first.input_example)
    finally:
        main(["deployments", "stop", str(dep.get("id") or dep.get("deployment", {}).get("id")),
              "--store", url])  # fmt: skip
        capsys.readouterr()
    assert np.isfinite(payload["size"])
