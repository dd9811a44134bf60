"""Explanations: attributions add up to the model's raw output (additivity), the server's
``/explain`` routes and ``modeldesk explain`` give the in-process numbers."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from app.cli import main
from tests.frameworks.conftest import DATASETS, FLAVOURS, frame, input_frame
from tests.serving.conftest import running


def _raw(model, X):
    """The raw output the attributions must add up to, from the library itself."""
    return model[-1].raw_output(np.asarray(model[:-1].transform(X), dtype=np.float64))


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("data", list(DATASETS))
def test_attributions_add_up_to_the_raw_output(fw, flavour, data) -> None:
    from app.serving.explain import explain_frame

    services, models = fw
    _, version = models[(flavour, data)]
    model = services.registry.load_model(version.ref)
    columns = [c["name"] for c in version.signature["columns"]]
    X = frame(data)[columns].head(40)
    out = explain_frame(model, X, columns)
    assert out["output"] == ("log_odds" if data == "cancer" else "value")
    total = np.array([sum(e["attributions"].values()) for e in out["explanations"]])
    np.testing.assert_allclose(total + out["expected_value"], _raw(model, X), atol=1e-4)
    assert all(set(e["attributions"]) == set(columns) for e in out["explanations"])
    if data == "cancer":  # the log-odds are those of the probability the model gives
        proba = model.predict_proba(X)[:, 1]
        np.testing.assert_allclose(1 / (1 + np.exp(-_raw(model, X))), proba, rtol=1e-5)


def test_several_classes_and_one_hot_columns_add_up_per_class() -> None:
    import pandas as pd

    from app.core.training.catalog import get
    from app.core.training.preprocessing import ColumnPlan, build_pipeline
    from app.serving.explain import explain_frame

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"size": rng.normal(size=300), "color": rng.choice(["r", "g", "b"], 300)})
    y = np.where(X["color"] == "r", "red", np.where(X["size"] > 0, "big", "small"))
    plans = [ColumnPlan("size", "numeric", "numeric"), ColumnPlan("color", "categorical", "onehot")]
    model = build_pipeline(plans, get("lightgbm").build("multiclass", {"n_estimators": 20})).fit(
        X, y
    )
    out = explain_frame(model, X.head(10), ["size", "color"])
    assert out["classes"] == ["big", "red", "small"] and len(out["expected_value"]) == 3
    raw = _raw(model, X.head(10))
    for i, row in enumerate(out["explanations"]):
        for k, cls in enumerate(out["classes"]):
            values = row["attributions"][cls]
            assert set(values) == {"size", "color"}  # one-hot features folded into 'color'
            assert sum(values.values()) + out["expected_value"][k] == pytest.approx(
                raw[i, k], abs=1e-4
            )


def test_a_forest_is_explained_through_shap() -> None:
    from sklearn.datasets import load_diabetes

    from app.core.training.catalog import get
    from app.core.training.preprocessing import ColumnPlan, build_pipeline
    from app.serving.explain import explain_frame

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    plans = [ColumnPlan(c, "numeric", "numeric") for c in X.columns]
    spec = get("random_forest")
    model = build_pipeline(plans, spec.build("regression", {"n_estimators": 20})).fit(X, y)
    out = explain_frame(model, X.head(15), list(X.columns))
    total = [sum(e["attributions"].values()) + out["expected_value"] for e in out["explanations"]]
    np.testing.assert_allclose(total, model.predict(X.head(15)), rtol=1e-6)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_server_explains_as_in_process(fw, bundle_of, flavour, tmp_path) -> None:
    from app.serving.explain import explain_frame

    services, models = fw
    _, version = models[(flavour, "cancer")]
    model = services.registry.load_model(version.ref)
    X = input_frame(version)
    columns = list(X.columns)
    expected = explain_frame(model, X, columns)
    with running(bundle_of(flavour, "cancer"), tmp_path) as server:
        r = httpx.post(
            server.url + "/explain", json={"dataframe_records": version.input_example}, timeout=30
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["expected_value"] == pytest.approx(expected["expected_value"])
        for got, want, label in zip(
            body["explanations"], expected["explanations"], model.predict(X), strict=True
        ):
            assert got["prediction"] == label
            assert got["attributions"] == pytest.approx(want["attributions"], abs=1e-9)

        inputs = [
            {"name": c, "shape": [len(X)], "datatype": "FP64", "data": X[c].tolist()}
            for c in columns
        ]
        r = httpx.post(
            server.url + f"/v2/models/{version.model_name}/explain",
            json={"inputs": inputs},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        assert r.json()["explanations"][0]["attributions"] == pytest.approx(
            expected["explanations"][0]["attributions"], abs=1e-9
        )
        wrong = httpx.post(server.url + "/v2/models/nobody/explain", json={"inputs": inputs})
        assert wrong.status_code == 404
        bad = httpx.post(
            server.url + "/explain",
            json={"dataframe_records": [{k: v for k, v in version.input_example[0].items()
                                         if k != columns[0]}]},
            timeout=30,
        )  # fmt: skip
        assert bad.status_code == 422 and columns[0] in bad.text


def test_cli_explain_gives_one_attribution_per_row_and_column(fw, tmp_path, capsys) -> None:
    services, models = fw
    _, version = models[("xgboost", "cancer")]
    columns = [c["name"] for c in version.signature["columns"]]
    rows = tmp_path / "rows.csv"
    frame("cancer")[columns].head(3).to_csv(rows, index=False)
    store = ["--store", services.store.url]
    code = main(["explain", version.ref, "--rows", str(rows), "--json", *store])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["rows"] == 3 and len(doc["explanations"]) == 3
    assert all(set(e["attributions"]) == set(columns) for e in doc["explanations"])
    assert isinstance(doc["expected_value"], float)

    code = main(["explain", version.ref, "--rows", str(rows), *store])
    out, _ = capsys.readouterr()
    assert code == 0 and "expected value" in out and "row 3: prediction" in out

    broken = tmp_path / "broken.csv"
    frame("cancer")[columns[1:]].head(2).to_csv(broken, index=False)
    code = main(["explain", version.ref, "--rows", str(broken), *store])
    _, err = capsys.readouterr()
    assert code == 1 and err.startswith("error:") and columns[0] in err
    assert len(err.strip().splitlines()) <= 2


def _shap_doc(services, run_id):
    art = services.tracking.get(run_id).artifact("shap.json")
    if art is None:
        return None
    return json.loads(services.artifacts.open_verified(art.sha256).read_bytes())


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_boosted_run_stores_its_shap_summary(fw, flavour) -> None:
    services, models = fw
    run, version = models[(flavour, "cancer")]
    doc = _shap_doc(services, run.id)
    columns = [c["name"] for c in version.signature["columns"]]
    assert doc["method"] == f"TreeSHAP of {flavour}" and doc["output"] == "log_odds"
    assert list(doc["mean_abs"]) != columns and set(doc["mean_abs"]) == set(columns)  # sorted
    values = list(doc["mean_abs"].values())
    assert values == sorted(values, reverse=True) and values[0] > 0


def test_a_forest_gets_a_shap_summary_and_a_linear_model_a_note(fw) -> None:
    from tests.frameworks.conftest import request

    services, _ = fw
    forest = services.training.train_inline(
        request("random_forest", "diabetes", n_estimators=10, n_jobs=1)
    )
    assert _shap_doc(services, forest.id)["method"] == "shap.TreeExplainer"
    linear = services.training.train_inline(request("ridge", "diabetes", boosting=False))
    assert linear.status == "finished" and _shap_doc(services, linear.id) is None
