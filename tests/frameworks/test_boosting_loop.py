"""XGBoost and LightGBM through the loop: catalog, cross-validation equal to the library's
own, reproduce, learning curves and early stopping, tuning with pruning, the verified
registered file, and the library absent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.frameworks.conftest import FLAVOURS, request

ROOT = Path(__file__).resolve().parents[2]


def test_catalog_has_the_boosters_and_all_includes_them() -> None:
    from app.core.training.catalog import ESTIMATORS, missing
    from app.core.tuning.space import resolve_estimators

    for name in ("xgboost", "lightgbm", "catboost"):
        spec = ESTIMATORS[name]
        assert spec.supports("binary") and spec.supports("regression") and spec.space
    assert {"xgboost", "lightgbm", "catboost"} <= set(resolve_estimators("binary", "all"))
    assert missing() == {}


def test_an_absent_library_is_left_out_and_named_with_its_pip_command() -> None:
    code = (
        "import sys\n"
        "sys.modules['lightgbm'] = None  # what an absent package looks like to find_spec\n"
        "from app.core.training import catalog\n"
        "assert 'lightgbm' not in catalog.ESTIMATORS and 'xgboost' in catalog.ESTIMATORS\n"
        "try:\n"
        "    catalog.get('lightgbm')\n"
        "except Exception as exc:\n"
        "    print(exc.message, exc.hint)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "needs a library that is not installed" in out.stdout
    assert "pip install 'modeldesk[boost]'" in out.stdout


def _library_fold_scores(services, run, flavour: str) -> list[float]:
    """The primary metric per fold from the library's own estimator, on the same rows,
    folds and seed, after the same preprocessing."""
    from sklearn.metrics import r2_score, roc_auc_score

    from app.core.training.preprocessing import build_preprocessor
    from app.core.training.trainer import load_frame, prepare_xy
    from app.core.training.validation import holdout_split, make_splitter

    plan = services.training.plan_of(run.id)
    req = plan.request
    X, y = prepare_xy(load_frame(plan, services.datasets), plan)
    rows, _ = holdout_split(
        y, task=plan.task, validation=plan.validation, test_size=req.test_size, seed=req.seed
    )
    X, y = X.iloc[rows], y[rows]
    splitter = make_splitter(plan.validation, plan.task, req.folds, req.repeats, req.seed)
    scores = []
    for fit, val in splitter.split(X, y):
        pre = build_preprocessor(plan.columns).fit(X.iloc[fit])
        X_fit = np.asarray(pre.transform(X.iloc[fit]), dtype=np.float64)
        X_val = np.asarray(pre.transform(X.iloc[val]), dtype=np.float64)
        classifier = plan.task != "regression"
        if flavour == "xgboost":
            import xgboost as xgb

            cls = xgb.XGBClassifier if classifier else xgb.XGBRegressor
            model = cls(n_estimators=30, learning_rate=0.1, max_depth=6, n_jobs=1, random_state=7)
        elif flavour == "lightgbm":
            import lightgbm as lgb

            cls = lgb.LGBMClassifier if classifier else lgb.LGBMRegressor
            model = cls(n_estimators=30, n_jobs=1, random_state=7, verbose=-1)
        else:
            import catboost as cb

            cls = cb.CatBoostClassifier if classifier else cb.CatBoostRegressor
            model = cls(
                iterations=30, learning_rate=0.1, depth=6, l2_leaf_reg=3.0, random_seed=7,
                thread_count=1, verbose=False, allow_writing_files=False,
            )  # fmt: skip
        if classifier:
            classes, codes = np.unique(y[fit], return_inverse=True)
            model.fit(X_fit, codes)
            scores.append(roc_auc_score(y[val] == classes[1], model.predict_proba(X_val)[:, 1]))
        else:
            model.fit(X_fit, y[fit])
            scores.append(r2_score(y[val], model.predict(X_val)))
    return scores


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(("data", "metric"), [("cancer", "roc_auc"), ("diabetes", "r2")])
def test_cv_scores_equal_the_librarys_own_on_the_same_folds(fw, flavour, data, metric) -> None:
    services, models = fw
    run, _ = models[(flavour, data)]
    ours = [v for _, v, _ in services.tracking.metric_history(run.id, f"cv.{metric}")]
    theirs = _library_fold_scores(services, run, flavour)
    assert len(ours) == 3
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_reproduce_gives_equal_metrics(fw, flavour) -> None:
    services, models = fw
    run, _ = models[(flavour, "cancer")]
    new_id, _ = services.training.reproduce(run.id)
    again = services.tracking.get(new_id)
    for key in ("roc_auc", "accuracy", "log_loss", "test.roc_auc"):
        assert again.metrics[key] == run.metrics[key]
    from tests.frameworks.conftest import frame

    first, second = (services.training.load_model(i) for i in (run.id, new_id))
    X = frame("cancer").drop(columns="label")
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


@pytest.mark.parametrize(
    ("flavour", "metric"), [("xgboost", "logloss"), ("lightgbm", "l2"), ("catboost", "Logloss")]
)
def test_learning_curve_is_logged_and_early_stopping_stops(fw, flavour, metric) -> None:
    services, _ = fw
    data = "diabetes" if flavour == "lightgbm" else "cancer"
    run = services.training.train_inline(
        request(flavour, data, n_estimators=2000, learning_rate=0.5, early_stopping_rounds=5)
    )
    assert run.status == "finished", run.error
    valid = services.tracking.metric_history(run.id, f"curve.valid.{metric}")
    train = services.tracking.metric_history(run.id, f"curve.train.{metric}")
    assert 5 < len(valid) == len(train) < 2000  # stopped long before the 2000 rounds
    assert [step for step, _, _ in valid] == list(range(1, len(valid) + 1))
    kept = int(run.metrics["best_iteration"])
    values = [v for _, v, _ in valid]
    assert kept == len(values) - 5  # the best round, then 5 without improvement
    assert values[kept - 1] == min(values)
    assert train[-1][1] < train[0][1]  # it learned


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_six_trial_study_with_pruning(fw, flavour) -> None:
    from app.core.tuning import StudyRequest

    services, _ = fw
    name = f"study-{flavour}"
    services.tuning.create(
        StudyRequest(
            dataset="cancer",
            target="label",
            estimators=(flavour,),
            n_trials=6,
            folds=3,
            pruner="median",
            name=name,
        )
    )
    summary = services.tuning.optimize(name)
    assert summary.pruner == "median"
    assert summary.counts.get("COMPLETE", 0) + summary.counts.get("PRUNED", 0) == 6
    assert summary.counts.get("COMPLETE", 0) >= 1


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_registered_version_loads_and_a_flipped_byte_is_refused(
    fw, bundle_of, flavour, tmp_path
) -> None:
    import shutil

    from app.serving.model_loader import BundleError, load_bundle
    from tests.frameworks.conftest import input_frame

    services, models = fw
    _, version = models[(flavour, "cancer")]
    model = services.registry.load_model(version.ref)
    assert type(model[-1]).__module__ == "app.serving.flavours"
    assert model[-1].flavour == flavour
    frame = input_frame(version)
    loaded = load_bundle(bundle_of(flavour, "cancer"))
    assert loaded.pipeline.predict(frame).tolist() == model.predict(frame).tolist()
    np.testing.assert_array_equal(loaded.pipeline.predict_proba(frame), model.predict_proba(frame))

    broken = shutil.copytree(bundle_of(flavour, "cancer"), tmp_path / "broken")
    data = bytearray((broken / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0x01
    (broken / "model.skops").write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"does not match model\.json"):
        load_bundle(broken)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_saved_state_is_the_librarys_own_format(fw, flavour) -> None:
    services, models = fw
    _, version = models[(flavour, "cancer")]
    booster = services.registry.load_model(version.ref)[-1]
    native = booster.native_bytes()
    if flavour == "xgboost":
        assert native[:1] == b"{"  # UBJSON object
        import xgboost as xgb

        again = xgb.Booster()
        again.load_model(bytearray(native))
        assert again.num_boosted_rounds() == 30
    elif flavour == "lightgbm":
        assert native.startswith(b"tree\n")  # LightGBM's model text
        import lightgbm as lgb

        assert lgb.Booster(model_str=native.decode()).num_trees() == 30
    else:
        assert native[:4] == b"CBM1"  # CatBoost's .cbm
        import catboost as cb

        assert cb.CatBoost().load_model(blob=native).tree_count_ == 30
    flavour_type = f"app.serving.flavours.{type(booster).__name__}"
    assert set(version.trusted_types) <= {flavour_type, "numpy.dtype"}
    assert flavour_type in version.trusted_types


def test_an_image_gets_only_the_wheels_of_its_flavour_as_the_run_recorded_them() -> None:
    from app.core.deploy.requirements import needs_from, requirement_set

    lgbm = {"trusted_types": ["app.serving.flavours.LightGBMClassifier", "numpy.dtype"],
            "packages": {"lightgbm": "4.7.0"}}  # fmt: skip
    assert needs_from(lgbm) == ["lightgbm"]
    xgb = {"trusted_types": ["app.serving.flavours.XGBoostRegressor"],
           "packages": {"xgboost-cpu": "3.2.0"}}  # fmt: skip
    assert needs_from(xgb) == ["xgboost-cpu"]
    assert needs_from({"trusted_types": ["sklearn.tree._tree.Tree"], "packages": {}}) == []
    recorded = {"scikit-learn": "1.9.1", "numpy": "2.4.6", "scipy": "1.16.0", "pandas": "3.1.1",
                "skops": "0.16.0", "lightgbm": "4.7.0", "torch": "2.13.0"}  # fmt: skip
    reqs = requirement_set(recorded, "3.11", needs=needs_from(lgbm))
    assert "lightgbm==4.7.0" in reqs.requirements
    assert not any(r.startswith("torch") for r in reqs.requirements)


def test_the_cli_lists_an_absent_library_with_its_pip_command() -> None:
    code = (
        "import sys\n"
        "sys.modules['catboost'] = None\n"
        "from app.cli import main\n"
        "sys.exit(main(['runs', 'estimators', '--store', sys.argv[1]]))\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", code, f"sqlite:///{tmp}/m.db"], cwd=ROOT, capture_output=True,
            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "catboost                 not installed: pip install 'modeldesk[boost]'" in out.stdout
    assert "xgboost" in out.stdout and "lightgbm" in out.stdout
