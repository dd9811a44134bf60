"""Training with a recipe as the first pipeline step: raw rows in, same answers after skops."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.core.errors import InvalidInput
from app.core.training.request import TrainRequest

STEPS = [
    {"op": "drop_missing_target", "column": "churn"},
    {"op": "dedupe"},
    {"op": "cast", "columns": ["visits"], "to": "float"},
    {"op": "impute", "columns": ["age"], "strategy": "median"},
    {"op": "clip", "columns": ["income"], "method": "quantile", "low": 0.05, "high": 0.95},
    {"op": "rare", "columns": ["city"], "min_share": 0.05},
    {"op": "expr", "name": "income_per_visit", "expression": "income / (visits + 1)"},
    {"op": "target_encode", "columns": ["customer"], "cv": 3},
    {"op": "text_clean", "columns": ["plan"], "case": "lower"},
]


def raw_frame(rows: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows).astype("float64"),
            "income": np.round(rng.lognormal(10, 0.8, rows), 2),
            "visits": rng.integers(0, 30, rows).astype(str),
            "city": rng.choice(["Paris", "Lyon", "Nice", "Albi"], rows, p=[0.5, 0.3, 0.18, 0.02]),
            "customer": np.char.add("C", rng.integers(0, 40, rows).astype(str)),
            "plan": rng.choice([" Basic", "PRO ", "basic"], rows),
        }
    )
    df["churn"] = np.where(df["age"] + rng.normal(0, 10, rows) > 50, "yes", "no")
    df.loc[::9, "age"] = np.nan
    return df


@pytest.fixture
def trained(services, tmp_path: Path):
    path = tmp_path / "churn.csv"
    raw_frame().to_csv(path, index=False)
    services.datasets.add_file(path, name="churn")
    rv = services.recipes.save("churn-features", STEPS, description="churn cleaning")
    run = services.training.train_inline(
        TrainRequest(
            dataset="churn",
            target="churn",
            estimator="logistic",
            recipe="churn-features",
            folds=3,
            plots=False,
        )
    )
    return run, rv, path


def test_a_model_trained_with_a_recipe_answers_raw_rows_the_same_after_skops(
    services, trained
) -> None:
    import skops.io as sio

    run, _, _ = trained
    assert run.status == "finished", run.error
    assert run.recipe["recipe"] == {"name": "churn-features", "version": 1}
    assert run.tags["recipe"] == "churn-features@1"
    model = services.training.load_model(run.id)  # SHA-256 checked, skops with trusted types
    assert model.steps[0][0] == "recipe"
    raw = raw_frame(50, seed=99).drop(columns="churn")
    raw.loc[0, "city"] = "Toulouse"  # unseen category
    raw.loc[1, "customer"] = "C-unknown"
    in_process = model.predict_proba(raw)
    data = sio.dumps(model)
    again = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    np.testing.assert_array_equal(again.predict_proba(raw), in_process)
    np.testing.assert_array_equal(again.predict(raw), model.predict(raw))
    # the run's model.json names the raw inputs and the recipe
    meta_art = services.tracking.get(run.id).artifact("model.json")
    meta = json.loads(services.artifacts.open_verified(meta_art.sha256).read_bytes())
    assert meta["recipe"] == {"name": "churn-features", "version": 1}
    assert [c["name"] for c in meta["inputs"]["columns"]] == list(raw.columns)
    assert "app.core.recipes.runtime.RecipeTransformer" in meta["trusted_types"]
    # the catalog lists the run as a user of the recipe
    entry = services.recipes.catalog()[0]
    assert entry["runs"] == [run.id] and "income_per_visit" in entry["produces"]


def test_row_steps_are_not_in_the_served_model(services, trained) -> None:
    run, _, _ = trained
    model = services.training.load_model(run.id)
    raw = raw_frame(5, seed=7).drop(columns="churn")
    doubled = pd.concat([raw, raw], ignore_index=True)  # duplicates would be dropped in training
    assert len(model.predict(doubled)) == 10


def test_the_exported_script_includes_the_recipe_and_reproduces_the_scores(
    services, trained, tmp_path: Path
) -> None:
    run, _, path = trained
    code = services.training.export_code(run.id, str(path))
    assert "class Recipe(TransformerMixin, BaseEstimator)" in code
    assert 'df = df.fillna(self.learnt_["step4"])' in code.replace("'", '"')
    script = tmp_path / "run.py"
    script.write_text(code)
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=True
    )
    scores = json.loads(out.stdout.strip().splitlines()[-1])
    assert scores["cv"]["accuracy"] == pytest.approx(run.metrics["accuracy"], abs=1e-9)


def test_a_recipe_needing_a_missing_column_is_refused_before_a_run(services, trained) -> None:
    services.recipes.save("needs-z", [{"op": "impute", "columns": ["zeta"], "strategy": "mean"}])
    before = services.tracking.search().total
    with pytest.raises(InvalidInput, match="needs column 'zeta', which dataset churn@1 lacks"):
        services.training.validate(TrainRequest(dataset="churn", target="churn", recipe="needs-z"))
    assert services.tracking.search().total == before


def test_the_saved_model_loads_with_only_the_bundled_runtime_modules(
    services, trained, tmp_path: Path
) -> None:
    """As in the model bundle: code/ holds runtime.py and transformers.py, nothing else of
    ModelDesk, and the skops file answers raw rows exactly as in this process."""
    import skops.io as sio

    import app.core.recipes.runtime as runtime_module
    import app.core.training.transformers as transformers_module

    run, _, _ = trained
    model = services.training.load_model(run.id)
    code = tmp_path / "bundle" / "code"
    for module, rel in (
        (runtime_module, "app/core/recipes/runtime.py"),
        (transformers_module, "app/core/training/transformers.py"),
    ):
        dest = code / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(module.__file__, dest)
    for folder in ("app", "app/core", "app/core/recipes", "app/core/training"):
        (code / folder / "__init__.py").touch()
    (tmp_path / "bundle" / "model.skops").write_bytes(sio.dumps(model))
    raw = raw_frame(30, seed=11).drop(columns="churn")
    raw.to_json(tmp_path / "bundle" / "rows.json", orient="records")
    script = (
        "import json, sys, pandas as pd, skops.io as sio\n"
        "data = open('model.skops', 'rb').read()\n"
        "model = sio.loads(data, trusted=sio.get_untrusted_types(data=data))\n"
        "assert 'app.core.recipes.service' not in sys.modules\n"
        "rows = pd.read_json('rows.json', orient='records')\n"
        "print(json.dumps(model.predict_proba(rows).tolist()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, 'code'); exec({script!r})"],
        cwd=tmp_path / "bundle",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    served = np.asarray(json.loads(out.stdout))
    np.testing.assert_array_equal(
        served,
        model.predict_proba(pd.read_json(tmp_path / "bundle" / "rows.json", orient="records")),
    )


def test_the_catalog_names_the_model_versions_made_from_a_recipe_run(services, trained) -> None:
    run, _, _ = trained
    version = services.registry.register(run.id, "churn-model")
    assert version.recipe == {"name": "churn-features", "version": 1}
    entry = services.recipes.catalog()[0]
    assert entry["model_versions"] == ["churn-model@1"]
