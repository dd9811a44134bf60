"""Requests the model cannot take: 422 naming the column, 413 over the cap, 401 without token."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("rows", "column", "problem", "words"),
    [
        ([{"size": 1.0}], "color", "missing", "is missing"),
        ([{"size": 1.0, "color": "red", "weight": 3}], "weight", "extra", "not an input"),
        ([{"size": "big", "color": "red"}], "size", "type", "expected a number"),
        ([{"size": True, "color": "red"}], "size", "type", "boolean"),
        ([{"size": 2.0, "color": ["red"]}], "color", "type", "a list"),
        ([{"size": 2.0, "color": "red"}, {"size": 1.0, "color": "purple"}], "color",
         "unseen_category", "'purple' in row 1"),
    ],
)  # fmt: skip
def test_mlflow_422_names_the_column(servers, rows, column, problem, words) -> None:
    with servers["sizes"].client() as client:
        r = client.post("/invocations", json={"dataframe_records": rows})
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["column"], body["problem"]) == (column, problem)
    assert f"'{column}'" in body["message"] and words in body["message"]
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"


def test_oip_422_names_the_column(servers) -> None:
    tensors = [
        {"name": "size", "shape": [2], "datatype": "FP64", "data": [1.0, 2.0]},
        {"name": "colour", "shape": [2], "datatype": "BYTES", "data": ["red", "blue"]},
    ]
    with servers["sizes"].client() as client:
        r = client.post("/v2/models/sizes/infer", json={"inputs": tensors})
    assert r.status_code == 422
    assert r.json()["column"] == "color" and "missing" in r.json()["error"]


def test_unseen_category_passes_where_the_pipeline_ignores_it(bundles, servers) -> None:
    """ModelDesk's own one-hot encoders ignore unseen values: no 422 for them."""
    row = {"size": 10.0, "color": "purple", "when": "2024-03-01T10:00:00"}
    with servers["prices"].client() as client:
        ok = client.post("/invocations", json={"dataframe_records": [row]})
        bad_date = client.post(
            "/invocations", json={"dataframe_records": [{**row, "when": "soon"}]}
        )
    assert ok.status_code == 200
    import pandas as pd

    expected = bundles["mixed_reg"][1].predict(pd.DataFrame([row]))
    assert ok.json()["predictions"] == pytest.approx(expected.tolist(), rel=1e-12)
    assert bad_date.status_code == 422 and bad_date.json()["column"] == "when"


def test_malformed_bodies_are_400_with_the_expected_shape(servers) -> None:
    with servers["sizes"].client() as client:
        assert client.post("/invocations", content=b"{nope", headers={"content-type":
                           "application/json"}).status_code == 400  # fmt: skip
        r = client.post("/invocations", json={"rows": []})
        assert r.status_code == 400 and "dataframe_split" in r.json()["message"]
        r = client.post("/invocations", json={"dataframe_split": {"data": [[1.0, "red", 3]]}})
        assert r.status_code == 422 and r.json()["problem"] == "width"


def test_body_over_the_cap_is_413(servers) -> None:
    rows = [{"size": float(i), "color": "red"} for i in range(200)]  # ~6 kB > 2 kB cap
    auth = {"authorization": "Bearer s3cret"}
    with servers["guarded"].client(headers=auth) as client:
        r = client.post("/invocations", json={"dataframe_records": rows})
        assert r.status_code == 413 and "2,097" in r.json()["message"]

        def chunks():  # no Content-Length: the cap holds while reading
            yield b'{"dataframe_records": ['
            for _ in range(200):
                yield b'{"size": 1.0, "color": "red"},'
            yield b'{"size": 1.0, "color": "red"}]}'

        r = client.post("/invocations", content=chunks(),
                        headers={"content-type": "application/json"})  # fmt: skip
        assert r.status_code == 413
        small = client.post("/invocations", json={"dataframe_records": rows[:2]})
        assert small.status_code == 200


def test_token_required_except_for_health(servers) -> None:
    body = {"dataframe_records": [{"size": 1.0, "color": "red"}]}
    with servers["guarded"].client() as client:
        r = client.post("/invocations", json=body)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        wrong = client.post("/invocations", json=body, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert client.get("/metrics").status_code == 401
        ok = client.post("/invocations", json=body, headers={"authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["predictions"] in (["big"], ["small"])
        for path in ("/v2/health/live", "/v2/health/ready", "/ping", "/health",
                     "/v2/models/sizes/ready"):  # fmt: skip
            assert client.get(path).status_code == 200, path
