"""A model trained with a recipe answers raw rows through ``modeldesk serve`` and its Docker
image as in-process.

The registered version is served by a real ``python -m app serve NAME@1`` subprocess on a
free port; raw rows (missing values, an unseen and a rare category, rows the training-only
filter would have dropped) go to MLflow's ``/invocations`` and OIP ``/v2/models/NAME/infer``
and must come back with exactly the in-process pipeline's predictions and probabilities.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from app.core.deploy import RunOptions
from app.core.recipes import runtime
from app.core.training.request import TrainRequest
from tests.deploy.conftest import deploy_service, docker_or_fail, tear_down
from tests.serving.conftest import ROOT, Server, free_port, wait_ready

STEPS = [
    {"op": "filter", "expression": "income > 1000"},  # training only
    {"op": "drop_missing_target", "column": "churn"},
    {"op": "impute", "columns": ["age"], "strategy": "median"},
    {"op": "impute", "columns": ["plan"], "strategy": "constant", "value": "basic"},
    {"op": "rare", "columns": ["city"], "min_share": 0.05},
    {"op": "onehot", "columns": ["city"]},
    {"op": "expr", "name": "income_per_visit", "expression": "log(income) / (visits + 1)"},
    {"op": "target_encode", "columns": ["customer"], "cv": 3},
]


def raw_frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows).astype("float64"),
            "income": np.round(rng.lognormal(9, 0.8, rows), 2),
            "visits": rng.integers(0, 30, rows).astype("float64"),
            "city": rng.choice(["Paris", "Lyon", "Nice", "Albi"], rows, p=[0.5, 0.3, 0.18, 0.02]),
            "customer": np.char.add("C", rng.integers(0, 30, rows).astype(str)),
            "plan": rng.choice(["basic", "pro"], rows).astype(object),
        }
    )
    df["churn"] = np.where(df["age"] + rng.normal(0, 10, rows) > 50, "yes", "no")
    df.loc[::7, "age"] = np.nan
    df.loc[::11, "plan"] = None
    return df


@pytest.fixture
def served(services, store_url: str, tmp_path: Path):
    """(server, in-process pipeline, raw rows); the server is killed at teardown."""
    path = tmp_path / "churn.csv"
    raw_frame(300, seed=5).to_csv(path, index=False)
    services.datasets.add_file(path, name="churn")
    services.recipes.save("churn-prep", STEPS)
    run = services.training.train_inline(
        TrainRequest(
            dataset="churn", target="churn", estimator="logistic", recipe="churn-prep",
            folds=3, plots=False,
        )
    )  # fmt: skip
    assert run.status == "finished", run.error
    version = services.registry.register(run.id, "churner")
    assert version.recipe == {"name": "churn-prep", "version": 1}
    model = services.registry.load_model("churner@1")

    rows = raw_frame(40, seed=77).drop(columns="churn")
    rows.loc[0, "income"] = 12.5  # the training filter would drop these two rows
    rows.loc[1, "income"] = 3.0
    rows.loc[2, "city"] = "Toulouse"  # never seen
    rows.loc[3, "city"] = "Albi"  # rare: grouped into "other"
    rows.loc[4, "customer"] = "C-new"  # unseen by the target encoding
    rows.loc[5, ["age", "plan"]] = [np.nan, None]

    port = free_port()
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "churner@1", "--port", str(port),
         "--store", store_url],
        cwd=ROOT, stdout=out.open("w"), stderr=err.open("w"), env=dict(os.environ), text=True,
    )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", proc, out, err)
    try:
        wait_ready(server)
        yield server, model, rows
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def test_served_recipe_model_answers_raw_rows_like_the_pipeline(served) -> None:
    server, model, rows = served
    assert model.steps[0][0] == "recipe"
    expected = model.predict(rows).tolist()
    expected_proba = model.predict_proba(rows)
    assert len(expected) == len(rows)  # no row was filtered out at prediction time
    payload = json.loads(rows.to_json(orient="records"))
    with server.client() as client:
        meta = client.get("/v2/models/churner/versions/1").json()
        mlflow = client.post(
            "/invocations", json={"dataframe_records": payload, "params": {"probabilities": True}}
        )
        oip = client.post(
            "/v2/models/churner/infer",
            json={
                "inputs": [
                    {
                        "name": c,
                        "shape": [len(rows)],
                        "datatype": "FP64" if rows[c].dtype.kind == "f" else "BYTES",
                        "data": [None if pd.isna(v) else v for v in rows[c].tolist()],
                    }
                    for c in reversed(rows.columns)  # matched by name, not position
                ],
                "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
            },
        )
    # the signature lists the raw columns, not the recipe's derived ones
    assert sorted(i["name"] for i in meta["inputs"]) == sorted(rows.columns)
    assert mlflow.status_code == 200, mlflow.text
    assert mlflow.json()["predictions"] == expected
    np.testing.assert_allclose(mlflow.json()["probabilities"], expected_proba, rtol=0, atol=1e-12)
    assert oip.status_code == 200, oip.text
    predict, proba = oip.json()["outputs"]
    assert predict["data"] == expected
    np.testing.assert_allclose(
        np.reshape(proba["data"], proba["shape"]), expected_proba, rtol=0, atol=1e-12
    )
    # the training-only filter really drops rows 0 and 1, yet the server answers them
    kept = runtime.apply_rows(rows.assign(churn="no"), STEPS)
    assert len(kept) == len(rows) - 2 and {0, 1}.isdisjoint(kept.index)


def test_served_recipe_model_says_which_raw_column_is_missing(served) -> None:
    server, _, rows = served
    payload = json.loads(rows.drop(columns="visits").head(3).to_json(orient="records"))
    with server.client() as client:
        r = client.post("/invocations", json={"dataframe_records": payload})
    assert r.status_code == 422
    assert "Column 'visits' is missing" in r.text


@pytest.mark.docker
def test_container_answers_raw_rows_like_the_pipeline(served, services) -> None:
    """The same version packaged as an image and run on the real daemon: the recipe travels
    inside the model, so the container answers raw rows exactly as the pipeline does."""
    docker_or_fail()
    _, model, rows = served
    deploy = deploy_service(services)
    try:
        dep = deploy.deploy("churner@1", RunOptions(memory="768m"))
        assert dep.status == "running"
        payload = json.loads(rows.to_json(orient="records"))
        r = httpx.post(
            f"http://127.0.0.1:{dep.port}/invocations",
            json={"dataframe_records": payload, "params": {"probabilities": True}},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        assert r.json()["predictions"] == model.predict(rows).tolist()
        np.testing.assert_allclose(
            r.json()["probabilities"], model.predict_proba(rows), rtol=0, atol=1e-12
        )
    finally:
        tear_down(deploy)
