"""One server process holding several bundles (a folder of them), over real HTTP: each model
answers on its own routes, the OIP repository API unloads and loads them, ``/metrics`` tells
them apart, and unmodified clients (tritonclient, MLflow's JSON forms) work per model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as tritonclient  # the dev extra's; a missing one fails, never skips

from tests.serving.conftest import make_bundle, records, running, scrape, sum_of


@pytest.fixture(scope="module")
def repository(bundles, tmp_path_factory) -> dict:
    """cancer v1 (forest) and v2 (logistic regression), prices v3 (regression)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from app.core.training.preprocessing import ColumnPlan

    root = tmp_path_factory.mktemp("repository")
    shutil.copytree(bundles["cancer"][0], root / "a-cancer-v1")
    shutil.copytree(bundles["mixed_reg"][0], root / "b-prices-v3")
    _, forest, X = bundles["cancer"]
    y = forest.predict(X)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=500)).fit(X, y)
    plans = [ColumnPlan(c, "numeric", "numeric").to_dict() for c in X.columns]
    make_bundle(root / "c-cancer-v2", logistic, X, name="cancer", task="binary", plans=plans,
                version=2)  # fmt: skip
    return {"root": root, "forest": forest, "logistic": logistic, "X": X,
            "prices": bundles["mixed_reg"][1], "Xp": bundles["mixed_reg"][2]}  # fmt: skip


@pytest.fixture(scope="module")
def multi(repository, server_logs):
    with running(repository["root"], server_logs) as server:
        yield server


def test_each_model_answers_its_own_predictions_on_its_own_routes(repository, multi) -> None:
    X, Xp = repository["X"].iloc[:20], repository["Xp"].iloc[:15]
    forest, logistic, prices = repository["forest"], repository["logistic"], repository["prices"]
    assert (forest.predict(X) != logistic.predict(X)).any() or not np.allclose(
        forest.predict_proba(X), logistic.predict_proba(X)
    ), "the two cancer versions must differ for this test to mean anything"
    with multi.client() as client:
        body = {"dataframe_records": records(X)}
        v2 = client.post("/models/cancer/invocations", json={**body, "params": {}})
        assert v2.status_code == 200, v2.text
        assert v2.json()["predictions"] == logistic.predict(X).tolist()  # highest version
        v1 = client.post("/models/cancer/versions/1/invocations", json=body)
        assert v1.json()["predictions"] == forest.predict(X).tolist()
        price = client.post("/models/prices/invocations", json={"dataframe_records": records(Xp)})
        np.testing.assert_allclose(price.json()["predictions"], prices.predict(Xp), rtol=1e-12)

        tensors = [{"name": c, "shape": [len(X)], "datatype": "FP64", "data": X[c].tolist()}
                   for c in X.columns]  # fmt: skip
        oip = client.post("/v2/models/cancer/versions/1/infer", json={"inputs": tensors}).json()
        assert (oip["model_name"], oip["model_version"]) == ("cancer", "1")
        assert oip["outputs"][0]["data"] == forest.predict(X).tolist()
        oip = client.post("/v2/models/cancer/infer", json={"inputs": tensors}).json()
        assert oip["model_version"] == "2"
        assert oip["outputs"][0]["data"] == logistic.predict(X).tolist()

        ambiguous = client.post("/invocations", json=body)
        assert ambiguous.status_code == 404
        message = ambiguous.json()["error"]
        assert "cancer@1" in message and "prices@3" in message and "/models/NAME" in message
        wrong = client.post("/models/fraud/invocations", json=body)
        assert wrong.status_code == 404 and "'cancer', 'prices'" in wrong.json()["error"]
        missing = client.post("/v2/models/cancer/versions/7/infer", json={"inputs": tensors})
        assert missing.status_code == 404 and "version 1, 2 is" in missing.json()["error"]
        # a model's own schema: prices' columns are not cancer's
        refused = client.post("/models/prices/invocations", json=body)
        assert refused.status_code == 422

        meta = client.get("/v2/models/cancer").json()
        assert meta["versions"] == ["1", "2"] and meta["parameters"]["task"] == "binary"
        assert client.get("/v2/models/prices/versions/3").json()["parameters"]["task"] == (
            "regression"
        )
        assert client.get("/v2/models/prices/ready").json() == {"name": "prices", "ready": True}
        listed = client.get("/").json()
        assert {(m["name"], m["version"]) for m in listed["models"]} == {
            ("cancer", "1"), ("cancer", "2"), ("prices", "3")
        }  # fmt: skip
        assert "model_repository" in client.get("/v2").json()["extensions"]


def test_mlflow_json_forms_per_model(repository, multi) -> None:
    X = repository["X"].iloc[:6]
    expected = repository["forest"].predict(X).tolist()
    rows = records(X)
    bodies = {
        "dataframe_split": {"dataframe_split": {"columns": list(X.columns),
                                                "data": X.to_numpy().tolist()}},
        "dataframe_records": {"dataframe_records": rows},
        "instances": {"instances": rows},
        "inputs (columns)": {"inputs": {c: X[c].tolist() for c in X.columns}},
        "inputs (rows)": {"inputs": X.to_numpy().tolist()},
    }  # fmt: skip
    with multi.client() as client:
        for label, body in bodies.items():
            r = client.post("/models/cancer/versions/1/invocations", json=body)
            assert r.status_code == 200, (label, r.text)
            assert r.json() == {"predictions": expected}, label


def test_tritonclient_binary_tensors_per_model(repository, multi) -> None:
    X, Xp = repository["X"].iloc[:12], repository["Xp"].iloc[:8]
    client = tritonclient.InferenceServerClient(multi.url.removeprefix("http://"))
    assert client.is_server_ready()
    assert client.is_model_ready("cancer") and client.is_model_ready("prices", "3")
    inputs = []
    for name in X.columns:
        tensor = tritonclient.InferInput(name, [len(X)], "FP64")
        tensor.set_data_from_numpy(X[name].to_numpy(dtype=np.float64))  # binary by default
        inputs.append(tensor)
    result = client.infer("cancer", inputs, model_version="1")
    np.testing.assert_array_equal(result.as_numpy("predict"), repository["forest"].predict(X))
    wanted = [tritonclient.InferRequestedOutput("predict_proba")]
    result = client.infer("cancer", inputs, outputs=wanted)
    assert result.get_response()["model_version"] == "2"
    np.testing.assert_allclose(
        result.as_numpy("predict_proba"), repository["logistic"].predict_proba(X), atol=1e-12
    )
    mixed = []
    for name in Xp.columns:
        values = Xp[name].to_numpy()
        kind = "BYTES" if values.dtype == object else "FP64"
        tensor = tritonclient.InferInput(name, [len(Xp)], kind)
        tensor.set_data_from_numpy(values.astype(object if kind == "BYTES" else np.float64))
        mixed.append(tensor)
    result = client.infer("prices", mixed)
    np.testing.assert_allclose(
        result.as_numpy("predict"), repository["prices"].predict(Xp), rtol=1e-12
    )


def test_metrics_separate_the_models(repository, multi) -> None:
    X = repository["X"].iloc[:5]
    before = scrape(multi)
    with multi.client() as client:
        for _ in range(3):
            client.post("/models/cancer/versions/1/invocations",
                        json={"dataframe_records": records(X)})  # fmt: skip
        client.post("/models/prices/invocations", json={"dataframe_records": [{"size": 1.0}]})
    after = scrape(multi)

    def delta(name: str, **labels: str) -> float:
        return sum_of(after, name, **labels) - sum_of(before, name, **labels)

    cancer1 = {"model": "cancer", "version": "1"}
    assert delta("modeldesk_requests_total", **cancer1, endpoint="invocations", code="200") == 3
    assert delta("modeldesk_predicted_rows_total", **cancer1) == 15
    assert delta("modeldesk_predicted_rows_total", model="cancer", version="2") == 0
    assert delta("modeldesk_request_errors_total", model="prices", version="3", code="422") == 1
    assert delta("modeldesk_request_errors_total", **cancer1) == 0
    assert delta("modeldesk_predictions_total", **cancer1) == 15
    infos = {ls for (n, ls), v in after.items() if n == "modeldesk_model_info" and v == 1}
    assert {dict(ls)["name"] + "@" + dict(ls)["version"] for ls in infos} == {
        "cancer@1", "cancer@2", "prices@3"
    }  # fmt: skip


def test_repository_unload_and_load(repository, server_logs, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(repository["root"], root)
    X = repository["X"].iloc[:4]
    body = {"dataframe_records": records(X)}
    with running(root, server_logs) as server, server.client() as client:
        index = client.post("/v2/repository/index").json()
        assert {(r["name"], r["version"], r["state"]) for r in index} == {
            ("cancer", "1", "READY"), ("cancer", "2", "READY"), ("prices", "3", "READY")
        }  # fmt: skip
        assert client.post("/v2/repository/models/cancer/unload").status_code == 200
        gone = client.post("/models/cancer/invocations", json=body)
        assert gone.status_code == 404 and "'prices'" in gone.json()["error"]
        assert client.get("/v2/models/cancer/ready").status_code == 503
        index = {(r["name"], r["version"]): r for r in client.post("/v2/repository/index").json()}
        assert index[("cancer", "1")]["state"] == "UNAVAILABLE"
        assert index[("cancer", "1")]["reason"] == "unloaded"
        ready_only = client.post("/v2/repository/index", json={"ready": True}).json()
        assert [(r["name"], r["state"]) for r in ready_only] == [("prices", "READY")]
        # now one model is left, so /invocations is its route
        Xp = repository["Xp"].iloc[:3]
        only = client.post("/invocations", json={"dataframe_records": records(Xp)})
        assert only.status_code == 200, only.text
        metrics = client.get("/metrics").text
        assert 'modeldesk_model_info{name="cancer"' not in metrics

        assert client.post("/v2/repository/models/cancer/load").status_code == 200
        back = client.post("/models/cancer/versions/1/invocations", json=body)
        assert back.json()["predictions"] == repository["forest"].predict(X).tolist()
        assert client.get("/v2/models/cancer/ready").json()["ready"] is True
        assert client.post("/v2/repository/models/cancer/load").status_code == 200  # a reload
        infos = [k for k, v in scrape(server).items() if k[0] == "modeldesk_model_info" and v]
        assert sorted(dict(ls)["name"] + "@" + dict(ls)["version"] for _, ls in infos) == [
            "cancer@1", "cancer@2", "prices@3"
        ]  # fmt: skip

        unknown = client.post("/v2/repository/models/fraud/load")
        assert unknown.status_code == 404 and "fraud" in unknown.json()["error"]
        # a bundle changed on disk after the start is refused on load, and says why
        model_file = root / "b-prices-v3" / "model.skops"
        model_file.write_bytes(model_file.read_bytes() + b"x")
        refused = client.post("/v2/repository/models/prices/load")
        assert refused.status_code == 400 and "SHA-256" in refused.json()["error"]
        index = {(r["name"], r["version"]): r for r in client.post("/v2/repository/index").json()}
        assert index[("prices", "3")]["state"] == "READY"  # the loaded one keeps serving
        assert "SHA-256" in index[("prices", "3")]["reason"]
        still = client.post("/models/prices/invocations", json={"dataframe_records": records(Xp)})
        assert still.status_code == 200


def test_a_folder_with_two_copies_of_one_version_is_refused(repository, server_logs, tmp_path):
    root = tmp_path / "twice"
    shutil.copytree(repository["root"] / "a-cancer-v1", root / "one")
    shutil.copytree(repository["root"] / "a-cancer-v1", root / "two")
    with running(root, server_logs, wait=False) as server:
        assert server.proc.wait(timeout=120) == 1
        err = server.stderr()
    assert err.count("error:") == 1 and "both hold cancer version 1" in err


def test_one_model_parts_are_the_only_models_and_refused_with_several(bundles, repository):
    """What routes written for a server of one model (the explain routes) reach."""
    from app.serving.errors import RequestError
    from app.serving.options import ServeOptions
    from app.serving.server import build

    one = build(ServeOptions(bundle=str(bundles["cancer"][0])))
    assert one.model.name == "cancer" and one.signature.names == list(bundles["cancer"][2].columns)
    one._check_name("cancer", "1")
    with pytest.raises(RequestError, match="this server serves 'cancer'"):
        one._check_name("prices", None)
    several = build(ServeOptions(bundle=str(repository["root"])))
    with pytest.raises(RequestError, match="holds 3 models"):
        several.predictor  # noqa: B018 - the property is what is tested
