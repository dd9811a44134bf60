"""Training in-process: catalog, plans, scores equal to scikit-learn's, reproduce, export,
bad input refused before any run exists, saved models, the notebook API."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import InvalidInput, TamperedArtifact
from app.core.training import ESTIMATORS, TrainRequest, coerce_params, for_task

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "it",
    "rains",
    "on",
    "tuesday",
]


def make_table(n: int = 160, seed: int = 0):
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n))
    color = rng.choice(np.array(["red", "green", "blue", None], dtype=object), n)
    city = rng.choice([f"city{i}" for i in range(40)], n)
    signal = x1 + (color == "red") + rng.normal(scale=0.6, size=n)
    dates = np.datetime64("2024-01-01") + rng.integers(0, 500, n).astype("timedelta64[D]")
    comment = [" ".join(rng.choice(WORDS, 8)) + f" #{i}" for i in range(n)]
    price = 3 * x1 - np.nan_to_num(x2) + rng.normal(scale=0.5, size=n) + 10
    price_text = [f"{p:.2f}" for p in price]
    price_text[7] = "n/a"
    return pa.table(
        {
            "id": np.arange(n),
            "x1": x1,
            "x2": x2,
            "color": pa.array(color.tolist(), pa.string()),
            "city": city,
            "when": pa.array(dates),
            "flag": rng.random(n) > 0.5,
            "comment": comment,
            "label": np.where(signal > 0.4, "yes", "no"),
            "kind": np.array(["a", "b", "c"])[np.digitize(signal, [-0.3, 0.9])],
            "price": price,
            "price_text": price_text,
            "single": ["only"] * n,
        }
    )


@pytest.fixture
def toy(services) -> str:
    services.datasets.add_table(make_table(), name="toy", source_kind="test")
    return "toy@1"


def count_runs(services) -> int:
    return services.tracking.search(limit=None, include_deleted=True).total


# -- the catalog ------------------------------------------------------------------------------


def test_catalog_covers_both_tasks_with_typed_params_and_search_spaces() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for task in ("binary", "multiclass", "regression"):
        assert len(for_task(task)) >= 8
    wanted = {
        "elastic_net",
        "knn",
        "svm",
        "decision_tree",
        "random_forest",
        "extra_trees",
        "hist_gradient_boosting",
        "dummy",
    }
    assert wanted <= set(ESTIMATORS)
    assert {"logistic", "ridge"} <= set(ESTIMATORS)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for spec in ESTIMATORS.values():
        assert spec.params or spec.name == "dummy"
        for p in spec.params:
            assert p.kind in ("int", "float", "categorical", "bool") and p.help
            if p.kind == "categorical":
                assert p.default in p.choices
        for task in ("binary", "regression"):
            if spec.supports(task):
                assert hasattr(spec.build(task, {}, seed=3), "fit")
        trial = study.ask()
        sampled = spec.search_space(trial, "binary", prefix=f"{spec.name}.")
        assert set(sampled) <= {p.name for p in spec.params}
        spec.resolve(sampled)  # every sampled value is a valid parameter value
        assert all(k.startswith(f"{spec.name}.") for k in trial.params)


def test_coerce_params_types_text_and_names_the_bad_parameter() -> None:
    rf = ESTIMATORS["random_forest"]
    assert coerce_params(rf, {"n_estimators": "50", "bootstrap": "no", "max_features": "sqrt"}) == {
        "n_estimators": 50,
        "bootstrap": False,
        "max_features": "sqrt",
    }
    with pytest.raises(InvalidInput, match="'n_estimators' must be a whole number; got 'ten'"):
        coerce_params(rf, {"n_estimators": "ten"})
    with pytest.raises(InvalidInput, match="'max_features' must be one of default, sqrt"):
        coerce_params(rf, {"max_features": "most"})
    with pytest.raises(InvalidInput, match="no parameter 'depth'"):
        coerce_params(rf, {"depth": "3"})
    with pytest.raises(InvalidInput, match="at least 1"):
        coerce_params(rf, {"n_estimators": 0})


# -- plans and bad input ------------------------------------------------------------------------


def test_plan_infers_task_and_drops_identifier_and_text_with_a_note(services, toy) -> None:
    plan = services.training.validate(TrainRequest(toy, "label", "logistic"))
    assert plan.task == "binary" and plan.validation == "stratified"
    treatments = {c.name: c.treatment for c in plan.columns}
    assert treatments["x1"] == "numeric" and treatments["when"] == "date"
    assert treatments["color"] == "onehot" and treatments["city"] == "ordinal"
    assert treatments["flag"] == "onehot"
    dropped = dict(plan.dropped)
    assert {"id", "comment", "single"} <= set(dropped)
    assert "identifier" in dropped["id"] and "free text" in dropped["comment"]
    assert any("'comment' was dropped" in n for n in plan.notes)
    assert services.training.validate(TrainRequest(toy, "kind", "knn")).task == "multiclass"
    assert services.training.validate(TrainRequest(toy, "price", "ridge")).task == "regression"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"target": "nope"}, "has no column 'nope'"),
        ({"exclude": ("ghost",)}, "has no column 'ghost'"),
        ({"estimator": "magic_forest"}, "no estimator 'magic_forest'"),
        ({"params": {"n_estimators": "many"}}, "'n_estimators' must be a whole number"),
        ({"params": {"depth": 3}}, "no parameter 'depth'"),
        ({"target": "single"}, "only one class"),
        ({"target": "price_text", "task": "regression"}, "has text in row 8 \\('n/a'\\)"),
        ({"target": "label", "estimator": "ridge"}, "cannot be trained for binary"),
        ({"target": "price", "estimator": "logistic"}, "cannot be trained for regression"),
        ({"folds": 1}, "'folds' must be between 2"),
        ({"dataset": "toy@7"}, "has no version 7"),
    ],
)
def test_bad_input_is_refused_before_any_run_exists(services, toy, change, message) -> None:
    base = {"dataset": toy, "target": "label", "estimator": "random_forest"}
    before = count_runs(services)
    with pytest.raises(InvalidInput, match=message):
        services.training.train_inline(TrainRequest(**{**base, **change}))
    assert count_runs(services) == before


# -- scores -----------------------------------------------------------------------------------


def _history(services, run_id: int, key: str) -> list[float]:
    return [v for _, v, _ in services.tracking.metric_history(run_id, key)]


@pytest.mark.parametrize(
    ("target", "estimator", "params", "validation", "scoring"),
    [
        (
            "label",
            "logistic",
            {"C": "0.5"},
            "auto",
            {
                "accuracy": "accuracy",
                "f1_macro": "f1_macro",
                "roc_auc": "roc_auc",
                "log_loss": "neg_log_loss",
                "balanced_accuracy": "balanced_accuracy",
            },
        ),
        (
            "kind",
            "decision_tree",
            {"max_depth": "4"},
            "repeated",
            {"accuracy": "accuracy", "f1_weighted": "f1_weighted", "roc_auc": "roc_auc_ovr"},
        ),
        (
            "price",
            "ridge",
            {"alpha": "2"},
            "timeseries",
            {"rmse": "neg_root_mean_squared_error", "r2": "r2", "mae": "neg_mean_absolute_error"},
        ),
    ],
)
def test_scores_equal_sklearn_cross_validate(
    services, toy, target, estimator, params, validation, scoring
) -> None:
    from sklearn.model_selection import cross_validate

    from app.core.training.trainer import build_pipeline, load_frame, prepare_xy
    from app.core.training.validation import holdout_split, make_splitter

    request = TrainRequest(
        toy,
        target,
        estimator,
        params=params,
        validation=validation,
        folds=4,
        repeats=2,
        seed=11,
        plots=False,
        time_column="when" if validation == "timeseries" else None,
    )
    plan = services.training.validate(request)
    run = services.training.train_inline(plan)
    assert run.status == "finished"

    X, y = prepare_xy(load_frame(plan, services.datasets), plan)
    train, _ = holdout_split(
        y, task=plan.task, validation=plan.validation, test_size=plan.request.test_size, seed=11
    )
    splitter = make_splitter(plan.validation, plan.task, 4, 2, 11)
    expected = cross_validate(
        build_pipeline(plan), X.iloc[train], y[train], cv=splitter, scoring=scoring
    )
    n_folds = 8 if validation == "repeated" else 4
    for ours, theirs in scoring.items():
        want = expected[f"test_{ours}"] * (-1 if theirs.startswith("neg_") else 1)
        got = _history(services, run.id, f"cv.{ours}")
        assert len(got) == n_folds
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        assert run.metrics[ours] == pytest.approx(float(np.mean(want)), abs=1e-12)
        assert run.metrics[f"{ours}_std"] == pytest.approx(float(np.std(want)), abs=1e-12)
    assert any(k.startswith("test.") for k in run.metrics)


# -- what a run keeps -------------------------------------------------------------------------


def test_trained_run_keeps_model_plots_log_and_recipe(services, toy) -> None:
    import pandas as pd

    run = services.training.train_inline(
        TrainRequest(toy, "label", "random_forest", params={"n_estimators": 20}, folds=3)
    )
    names = {a.name for a in run.artifacts}
    assert {
        "model.skops",
        "model.json",
        "worker.log",
        "curves.json",
        "confusion_matrix.png",
        "roc_curve.png",
        "pr_curve.png",
        "calibration.png",
        "permutation_importance.png",
        "partial_dependence.png",
    } <= names
    png = services.artifacts.path_for(run.artifact("roc_curve.png").sha256).read_bytes()
    assert png.startswith(b"\x89PNG")
    log = services.artifacts.path_for(run.artifact("worker.log").sha256).read_text()
    assert "Fold 3 of 3" in log and "'comment' was dropped" in log
    assert run.tags["model_sha256"] == run.artifact("model.skops").sha256
    assert run.recipe["plan"]["dataset_sha256"] and run.seed == 0
    assert run.params["n_estimators"] == "20" and run.params["max_depth"] == "0"
    assert "scikit-learn" in run.env["packages"]

    model = services.training.load_model(run.id)
    raw = pd.DataFrame(
        [
            {
                "id": 1,
                "x1": 0.3,
                "x2": None,
                "color": "purple",
                "city": "nowhere",
                "when": "2024-05-01",
                "flag": True,
                "comment": "hi",
                "kind": "z",
                "price": 3.5,
                "price_text": "3.50",
                "extra column": 1,
            }
        ]
    )
    assert model.predict(raw)[0] in ("yes", "no")  # unknown categories are ignored

    path = services.artifacts.path_for(run.artifact("model.skops").sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(TamperedArtifact):
        services.training.load_model(run.id)


def test_reproduce_gives_equal_metrics(services, toy) -> None:
    first = services.training.train_inline(
        TrainRequest(
            toy,
            "kind",
            "hist_gradient_boosting",
            params={"max_iter": 20},
            folds=3,
            seed=5,
            plots=False,
        )
    )
    new_id, job = services.training.reproduce(first.id)
    again = services.tracking.get(new_id)
    assert job is None and new_id != first.id and again.tags["reproduces"] == str(first.id)
    timing = {"train_seconds", "predict_ms_per_row"}
    assert {k: v for k, v in again.metrics.items() if k not in timing} == {
        k: v for k, v in first.metrics.items() if k not in timing
    }
    for key in ("cv.accuracy", "cv.log_loss"):
        assert _history(services, new_id, key) == _history(services, first.id, key)


def test_exported_script_prints_the_same_cv_score(services, tmp_path: Path) -> None:
    import pyarrow.csv as pacsv

    source = tmp_path / "toy.csv"  # the user's flow: a CSV is dropped, trained on, exported
    pacsv.write_csv(make_table(), source)
    services.datasets.add_file(source, name="toycsv")
    run = services.training.train_inline(
        TrainRequest("toycsv", "label", "logistic", folds=3, seed=2, plots=False)
    )
    script = tmp_path / "run.py"
    script.write_text(services.training.export_code(run.id))  # reads the source file
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name).split(".")[0]
        for node in ast.walk(ast.parse(script.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    assert imported <= {"json", "sys", "pathlib", "numpy", "pandas", "sklearn"}, imported
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    scores = json.loads(out.strip().splitlines()[-1])
    for key in ("accuracy", "roc_auc", "pr_auc", "f1_macro", "log_loss"):
        assert scores["cv"][key] == pytest.approx(run.metrics[key], abs=1e-9), key
        assert scores["test"][key] == pytest.approx(run.metrics[f"test.{key}"], abs=1e-9), key


# -- the notebook API -------------------------------------------------------------------------


def test_api_logs_a_run_and_fails_it_on_error(services, store_url) -> None:
    from sklearn.linear_model import LinearRegression

    from app.core.training.api import start_run

    with start_run(store=store_url, name="notebook", params={"lr": 0.1}, buffer=True) as run:
        run.log_params({"layers": 3})
        for step in range(5):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.log_metrics({"accuracy": 0.9})
        run.log_artifact("notes.txt", b"hello")
        run.log_model(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]))
    done = services.tracking.get(run.id)
    assert done.status == "finished" and done.params == {"lr": "0.1", "layers": "3"}
    assert done.metrics["loss"] == pytest.approx(0.2) and done.metrics["accuracy"] == 0.9
    assert len(services.tracking.metric_history(run.id, "loss")) == 5
    assert services.training.load_model(run.id).predict([[2.0]])[0] == pytest.approx(2.0)

    with pytest.raises(ZeroDivisionError), start_run(tracking=services.tracking) as bad:
        bad.log_metrics({"x": 1.0})
        _ = 1 / 0
    failed = services.tracking.get(bad.id)
    assert failed.status == "failed" and "ZeroDivisionError" in failed.error
    assert failed.metrics == {"x": 1.0}


def test_a_fit_that_fails_ends_the_run_failed_with_its_log(services, toy) -> None:
    from dataclasses import replace

    from sqlalchemy import func, select

    from app.core.store.models import ArtifactRow

    plan = services.training.validate(TrainRequest(toy, "label", "knn", plots=False))
    # a plan the check would refuse (more neighbours than rows), made by hand: the worker's
    # own failure path is what is tested here
    bad = replace(plan, request=replace(plan.request, params={**plan.request.params,
                                                                "n_neighbors": 500}))  # fmt: skip
    with pytest.raises(ValueError, match="n_neighbors"):
        services.training.train_inline(bad)
    run = services.tracking.search(limit=1).runs[0]
    failed = services.tracking.get(run.id)
    assert failed.status == "failed" and failed.error.startswith("ValueError: ")
    log = services.artifacts.path_for(failed.artifact("worker.log").sha256).read_text()
    assert "Traceback" in log and "n_neighbors" in log
    assert services.artifacts.orphans() == []
    with services.store.session() as s:
        assert not s.scalar(
            select(func.count()).select_from(ArtifactRow).where(ArtifactRow.state == "pending")
        )
