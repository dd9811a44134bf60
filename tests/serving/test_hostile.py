"""The server under hostile input: every malformed body is a 4xx with a sentence, never a 500
with a traceback. Hypothesis mutates valid OIP v2 and MLflow bodies field by field and also
throws arbitrary JSON at the parsers, in-process (thousands of cases) and over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.serving.errors import RequestError
from tests.serving.conftest import records

JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
ANY_JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
FIELDS_OIP = ("inputs", "outputs", "parameters", "id")
TENSOR_FIELDS = ("name", "shape", "datatype", "data", "parameters")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """The strict-categories model in process: (signature, predictor, has_proba, example)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from app.serving.model_loader import load_bundle
    from app.serving.predictor import Predictor
    from app.serving.schema import Signature
    from tests.serving.conftest import make_bundle, mixed_data

    X, label, _ = mixed_data()
    X = X[["size", "color"]]
    encode = ColumnTransformer(
        [
            ("numeric", SimpleImputer(), ["size"]),
            ("onehot", OneHotEncoder(handle_unknown="error"), ["color"]),
        ]
    )
    model = Pipeline([("preprocess", encode), ("model", LogisticRegression())]).fit(X, label)
    plans = [
        {"name": "size", "role": "numeric", "treatment": "numeric"},
        {"name": "color", "role": "categorical", "treatment": "onehot"},
    ]
    root = tmp_path_factory.mktemp("hostile")
    bundle = make_bundle(root / "b", model, X, name="sizes", task="binary", plans=plans)
    loaded = load_bundle(str(bundle))
    sig = Signature(loaded.columns, loaded.pipeline)
    return sig, Predictor(loaded, sig), loaded.has_proba, records(X.iloc[:3])


def _valid_oip(example: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "r1",
        "inputs": [
            {
                "name": name,
                "shape": [len(example)],
                "datatype": "FP64" if name == "size" else "BYTES",
                "data": [row[name] for row in example],
            }
            for name in example[0]
        ],
        "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
        "parameters": {},
    }


def _run_oip(mixed, body: bytes, json_size: int | None = None) -> None:
    """Parse, check and predict as the server does; only a 4xx RequestError may come out."""
    from app.serving.oip import parse_oip

    sig, predictor, has_proba, _ = mixed
    try:
        piece, _ = parse_oip(body, sig, json_size=json_size, has_proba=has_proba)
        sig.check(piece.columns)
        predictor.predict([piece])
    except RequestError as exc:
        assert 400 <= exc.status < 500 and exc.message.endswith((".", ")")), exc.message


def _run_mlflow(mixed, body: bytes, content_type: str = "application/json") -> None:
    from app.serving.parsing import parse_mlflow

    sig, predictor, _, _ = mixed
    try:
        piece = parse_mlflow(body, content_type, sig)
        sig.check(piece.columns)
        predictor.predict([piece])
    except RequestError as exc:
        assert 400 <= exc.status < 500 and exc.message, exc.message


FUZZ = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(field=st.sampled_from(FIELDS_OIP), value=ANY_JSON)
def test_oip_request_fields_mutated(mixed, field, value) -> None:
    doc = _valid_oip(mixed[3])
    doc[field] = value
    _run_oip(mixed, json.dumps(doc).encode())


@FUZZ
@given(
    which=st.integers(0, 1),
    field=st.sampled_from(TENSOR_FIELDS),
    value=ANY_JSON,
    drop=st.booleans(),
)
def test_oip_tensor_fields_mutated_or_dropped(mixed, which, field, value, drop) -> None:
    doc = _valid_oip(mixed[3])
    tensor = doc["inputs"][which]
    if drop:
        tensor.pop(field, None)
    else:
        tensor[field] = value
    _run_oip(mixed, json.dumps(doc).encode())


@FUZZ
@given(doc=ANY_JSON)
def test_arbitrary_json_to_both_protocols(mixed, doc) -> None:
    body = json.dumps(doc).encode()
    _run_oip(mixed, body)
    _run_mlflow(mixed, body)


@FUZZ
@given(
    key=st.sampled_from(["dataframe_split", "dataframe_records", "instances", "inputs"]),
    value=ANY_JSON,
    params=ANY_JSON,
)
def test_mlflow_shapes_with_arbitrary_values(mixed, key, value, params) -> None:
    _run_mlflow(mixed, json.dumps({key: value, "params": params}).encode())


@FUZZ
@given(
    rows=st.lists(
        st.dictionaries(st.sampled_from(["size", "color", "other"]), JSON_LEAF, max_size=3),
        max_size=4,
    )
)
def test_mlflow_records_with_arbitrary_cells(mixed, rows) -> None:
    _run_mlflow(mixed, json.dumps({"dataframe_records": rows}).encode())


@FUZZ
@given(body=st.binary(max_size=200), csv=st.booleans())
def test_arbitrary_bytes(mixed, body, csv) -> None:
    _run_oip(mixed, body)
    _run_mlflow(mixed, body, "text/csv" if csv else "application/json")


@FUZZ
@given(
    sizes=st.lists(ANY_JSON, min_size=2, max_size=2),
    tail=st.binary(max_size=64),
    header=st.integers(-5, 400),
    datatypes=st.lists(st.sampled_from(["FP64", "FP32", "INT64", "BOOL", "BYTES", "UINT8"]),
                       min_size=2, max_size=2),
)  # fmt: skip
def test_binary_tensor_sections_malformed(mixed, sizes, tail, header, datatypes) -> None:
    doc = _valid_oip(mixed[3])
    for tensor, size, datatype in zip(doc["inputs"], sizes, datatypes, strict=True):
        tensor.pop("data")
        tensor["datatype"] = datatype
        tensor["parameters"] = {"binary_data_size": size}
    head = json.dumps(doc).encode()
    from app.serving.oip import header_length

    body = head + tail
    try:
        size = header_length(str(header if header != 400 else len(head)), len(body))
    except RequestError as exc:
        assert exc.status == 400
        return
    _run_oip(mixed, body, size)


# -- over real HTTP ----------------------------------------------------------------------------

REPORTED = [  # the three 500s
    ({"inputs": [{"name": "x", "shape": [2.5, 30], "datatype": "FP64", "data": [1.0] * 75}]}, 400),
    ({"inputs": [{"name": "x", "shape": [None, 30], "datatype": "FP64", "data": [1.0] * 30}]}, 400),
    ({"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64", "data": [1.0] * 30}],
      "outputs": 5}, 400),
]  # fmt: skip


@pytest.mark.parametrize(("body", "status"), REPORTED)
def test_reported_oip_bodies_are_4xx_with_a_message(servers, body, status) -> None:
    with servers["cancer"].client() as client:
        r = client.post("/v2/models/cancer/infer", json=body)
    assert r.status_code == status, r.text
    message = r.json()["error"]
    assert "Traceback" not in r.text and len(message) > 20
    assert "shape" in message or "outputs" in message


@settings(max_examples=60, deadline=None)
@given(
    path=st.sampled_from(["/v2/models/sizes/infer", "/invocations"]),
    doc=ANY_JSON,
    field=st.sampled_from([*FIELDS_OIP, "dataframe_split", "dataframe_records"]),
)
def test_hostile_bodies_over_http_are_never_5xx(servers, path, doc, field) -> None:
    import httpx

    server = servers["sizes"]
    example = [{"size": 10.0, "color": "red"}]
    base: dict[str, Any] = _valid_oip(example) if "v2" in path else {"dataframe_records": example}
    base[field] = doc
    for body in (json.dumps(doc).encode(), json.dumps(base).encode()):
        r = httpx.post(
            server.url + path, content=body, headers={"content-type": "application/json"},
            timeout=30,
        )  # fmt: skip
        assert r.status_code < 500, r.text
        if r.status_code >= 400:
            assert r.json()["error"]
    assert server.proc.poll() is None


def test_a_nested_cell_is_422_and_a_huge_integer_a_number(servers) -> None:
    with servers["sizes"].client() as client:
        r = client.post("/invocations", json={"dataframe_records": [{"size": [1], "color": "red"}]})
        assert r.status_code == 422 and r.json()["column"] == "size"
        big = {"dataframe_records": [{"size": 10**30, "color": "red"}]}
        assert client.post("/invocations", json=big).status_code == 200
