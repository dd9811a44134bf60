"""Both protocols over real HTTP give the in-process model's predictions."""

from __future__ import annotations

import numpy as np
import pytest

from tests.serving.conftest import records


@pytest.fixture(scope="module")
def cancer(bundles, servers):
    _, model, X = bundles["cancer"]
    return servers["cancer"], model, X.iloc[:7]


def test_mlflow_json_shapes_and_csv_equal_in_process(cancer) -> None:
    server, model, X = cancer
    expected = model.predict(X).tolist()
    rows = records(X)
    split = {"columns": list(X.columns), "data": X.to_numpy().tolist()}
    bodies = {
        "dataframe_split": {"dataframe_split": split},
        "dataframe_records": {"dataframe_records": rows},
        "instances": {"instances": rows},
        "inputs (columns)": {"inputs": {c: X[c].tolist() for c in X.columns}},
        "inputs (rows)": {"inputs": X.to_numpy().tolist()},
    }
    with server.client() as client:
        for label, body in bodies.items():
            r = client.post("/invocations", json=body)
            assert r.status_code == 200, (label, r.text)
            assert r.json() == {"predictions": expected}, label
        r = client.post(
            "/invocations",
            content=X.to_csv(index=False).encode(),
            headers={"content-type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["predictions"] == expected


def test_mlflow_probabilities_on_request(cancer) -> None:
    server, model, X = cancer
    with server.client() as client:
        r = client.post(
            "/invocations",
            json={"dataframe_records": records(X), "params": {"probabilities": True}},
        )
    body = r.json()
    assert body["classes"] == [0, 1]
    np.testing.assert_allclose(body["probabilities"], model.predict_proba(X), rtol=0, atol=1e-12)
    assert body["predictions"] == model.predict(X).tolist()


def test_oip_per_column_tensors_and_probabilities(cancer) -> None:
    server, model, X = cancer
    inputs = [
        {"name": c, "shape": [len(X)], "datatype": "FP64", "data": X[c].tolist()}
        for c in reversed(X.columns)  # any order: matched by name
    ]
    with server.client() as client:
        r = client.post(
            "/v2/models/cancer/infer",
            json={"id": "req-1", "inputs": inputs, "outputs": [{"name": "predict_proba"}]},
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["model_name"], body["model_version"], body["id"]) == ("cancer", "1", "req-1")
    predict, proba = body["outputs"]
    assert predict["name"] == "predict" and predict["shape"] == [len(X)]
    assert predict["datatype"] == "INT64"
    assert predict["data"] == model.predict(X).tolist()
    assert proba["shape"] == [len(X), 2]
    np.testing.assert_allclose(
        np.reshape(proba["data"], proba["shape"]), model.predict_proba(X), atol=1e-12
    )


def test_oip_one_2d_tensor_flat_or_nested(cancer) -> None:
    server, model, X = cancer
    matrix = X.to_numpy()
    flat = {"name": "input-0", "shape": list(matrix.shape), "datatype": "FP64",
            "data": matrix.ravel().tolist()}  # fmt: skip
    nested = {**flat, "data": matrix.tolist()}
    with server.client() as client:
        for tensor in (flat, nested):
            r = client.post("/v2/models/cancer/versions/1/infer", json={"inputs": [tensor]})
            assert r.status_code == 200, r.text
            assert r.json()["outputs"][0]["data"] == model.predict(X).tolist()


def test_regression_with_categories_and_dates(bundles, servers) -> None:
    _, model, X = bundles["mixed_reg"]
    X = X.iloc[:9]
    server = servers["prices"]
    with server.client() as client:
        mlflow = client.post("/invocations", json={"dataframe_records": records(X)}).json()
        oip = client.post(
            "/v2/models/prices/infer",
            json={
                "inputs": [
                    {"name": "size", "shape": [9], "datatype": "FP64", "data": X["size"].tolist()},
                    {"name": "color", "shape": [9], "datatype": "BYTES",
                     "data": X["color"].tolist()},
                    {"name": "when", "shape": [9], "datatype": "BYTES", "data": X["when"].tolist()},
                ]
            },
        ).json()  # fmt: skip
    expected = model.predict(X)
    np.testing.assert_allclose(mlflow["predictions"], expected, rtol=1e-12)
    assert oip["outputs"][0]["datatype"] == "FP64"
    np.testing.assert_allclose(oip["outputs"][0]["data"], expected, rtol=1e-12)


def test_health_metadata_and_version_endpoints(servers) -> None:
    server = servers["prices"]
    with server.client() as client:
        assert client.get("/v2/health/live").json() == {"live": True}
        assert client.get("/v2/health/ready").json() == {"ready": True}
        assert client.get("/v2/models/prices/ready").json() == {"name": "prices", "ready": True}
        assert client.get("/ping").status_code == 200
        assert client.get("/health").status_code == 200
        meta = client.get("/v2/models/prices").json()
        assert meta["name"] == "prices" and meta["versions"] == ["3"]
        assert [i["name"] for i in meta["inputs"]] == ["size", "color", "when"]
        assert [i["datatype"] for i in meta["inputs"]] == ["FP64", "BYTES", "BYTES"]
        assert client.get("/version").json()["model_version"] == 3
        missing = client.get("/v2/models/other")
        assert missing.status_code == 404 and "prices" in missing.json()["error"]
        assert client.post("/v2/models/prices/versions/9/infer", json={}).status_code == 404
