"""A run as a standalone Python script: pandas and scikit-learn only, for review anywhere.

The script rebuilds the run's pipeline (the two small transformers of
``app.core.training.transformers`` are copied in as source), repeats the trainer's data
steps and splits, prints the cross-validated and held-out scores with scikit-learn's own
``cross_validate`` and scorers, and ends with one JSON line of them, so a test can compare
them with the stored metrics.
"""

from __future__ import annotations

import ast
import inspect
import json
from datetime import UTC, datetime
from typing import Any

from app.core.training import metrics as M
from app.core.training.request import TrainPlan


def _public_module(cls: type) -> str:
    parts = cls.__module__.split(".")
    keep = []
    for part in parts:
        if part.startswith("_"):
            break
        keep.append(part)
    return ".".join(keep)


def _estimator_imports(estimator: Any) -> list[str]:
    from sklearn.base import BaseEstimator

    found = {type(estimator)}
    for value in estimator.get_params(deep=True).values():
        if isinstance(value, BaseEstimator):
            found.add(type(value))
    return sorted(f"from {_public_module(c)} import {c.__name__}" for c in found)


def _transformer_source() -> str:
    """The transformers module without its docstring and imports (the script has them)."""
    from app.core.training import transformers

    source = inspect.getsource(transformers)
    tree = ast.parse(source)
    lines = source.splitlines()
    body = [
        node
        for node in tree.body
        if not isinstance(node, ast.Import | ast.ImportFrom)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    chunks = []
    for node in body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        chunks.append("\n".join(lines[start - 1 : node.end_lineno]))
    return "\n\n\n".join(chunks)


def render_script(plan: TrainPlan, run: Any, data_path: str) -> str:
    from app import __version__
    from app.core.training.catalog import get

    req = plan.request
    estimator = get(req.estimator).build(plan.task, req.params, req.seed)
    estimator_code = estimator.__repr__(N_CHAR_MAX=100_000)
    groups = {
        t: [c.name for c in plan.columns if c.treatment == t]
        for t in ("numeric", "onehot", "ordinal", "date")
    }
    scorers = M.scorers(plan.task)
    splitter = {
        "kfold": f"KFold(n_splits={req.folds}, shuffle=True, random_state=SEED)",
        "stratified": f"StratifiedKFold(n_splits={req.folds}, shuffle=True, random_state=SEED)",
        "repeated": (
            f"RepeatedStratifiedKFold(n_splits={req.folds}, n_repeats={req.repeats}, "
            "random_state=SEED)"
            if plan.task != "regression"
            else f"RepeatedKFold(n_splits={req.folds}, n_repeats={req.repeats}, random_state=SEED)"
        ),
        "timeseries": f"TimeSeriesSplit(n_splits={req.folds})",
    }[plan.validation]
    time_sort = (
        f'    frame = frame.sort_values({req.time_column!r}, kind="stable")\n'
        if plan.validation == "timeseries" and req.time_column
        else ""
    )
    versions = run.env.get("packages", {}) if getattr(run, "env", None) else {}
    pinned = ", ".join(
        f"{name} {versions[name]}" for name in ("pandas", "scikit-learn") if name in versions
    )

    def safe(text: object) -> str:  # user text inside the script's docstring
        return str(text).replace("\\", "/").replace('"""', "'''")

    header = (
        f'"""Run #{run.id} ({safe(run.name)}) exported from ModelDesk {__version__} on '
        f"{datetime.now(UTC):%Y-%m-%d}.\n\n"
        f"{req.estimator} predicting {safe(repr(req.target))} ({plan.task}) on dataset "
        f"{safe(req.dataset)}\n"
        f"(snapshot SHA-256 {plan.dataset_sha256}), seed {req.seed}.\n"
        f"Trained with {pinned or 'the versions recorded in the run'}.\n\n"
        "Rebuilds the same pipeline, repeats the same splits and prints the cross-validated\n"
        "and held-out scores; the last line is the scores as JSON.\n\n"
        f"Usage: python {_script_name(run)} [DATA_FILE]  (CSV, TSV, Parquet, Excel, JSON)\n"
        '"""\n'
    )
    notes = "".join(f"# {n}\n" for n in plan.notes)
    pr_auc = ""
    if "pr_auc" in scorers and plan.task == "binary":
        # The 'average_precision' scorer assumes the positive class is 1; name it instead.
        pr_auc = (
            'SCORERS["pr_auc"] = make_scorer(\n'
            "    average_precision_score,\n"
            '    response_method=("predict_proba", "decision_function"),\n'
            f"    pos_label={_plain(plan.classes[1])!r},\n"
            ")\n"
        )
    holdout = _holdout_code(plan)
    recipe_code, recipe_step, row_step = _recipe_parts(plan)
    y_code = (
        '    y = pd.to_numeric(frame[TARGET]).astype("float64").to_numpy()\n'
        if plan.task == "regression"
        else "    y = frame[TARGET].to_numpy(dtype=object)\n"
        "    kinds = {type(v) for v in y}\n"
        "    if len(kinds) == 1 and kinds <= {bool, int, float, str}:\n"
        "        y = y.astype(type(y[0]))\n"
    )
    return f"""#!/usr/bin/env python3
{header}
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import average_precision_score, get_scorer, make_scorer
from sklearn.model_selection import (
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedKFold,
    TimeSeriesSplit,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
{chr(10).join(_estimator_imports(estimator))}

DATA = sys.argv[1] if len(sys.argv) > 1 else {data_path!r}
TARGET = {req.target!r}
TASK = {plan.task!r}
SEED = {req.seed}
TEST_SIZE = {req.test_size!r}
NUMERIC = {groups["numeric"]!r}
ONEHOT = {groups["onehot"]!r}
ORDINAL = {groups["ordinal"]!r}
DATES = {groups["date"]!r}
FEATURES = {plan.input_columns!r}
# Our metric name -> scikit-learn scorer ("neg_" scorers are negated back).
SCORERS = {json.dumps(scorers, indent=4)}
{pr_auc}{notes}

# -- two transformers scikit-learn lacks (copied from ModelDesk) ---------------------------

{recipe_code}{_transformer_source()}


# -- the pipeline ----------------------------------------------------------------------------


def build_pipeline():
    parts = []
    if NUMERIC:
        numeric = Pipeline([
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ])
        parts.append(("numeric", numeric, NUMERIC))
    if ONEHOT:
        onehot = Pipeline([
            ("categories", AsCategories()),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ])
        parts.append(("onehot", onehot, ONEHOT))
    if ORDINAL:
        ordinal = Pipeline([
            ("categories", AsCategories()),
            ("encode", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)),
            ("scale", StandardScaler()),
        ])
        parts.append(("ordinal", ordinal, ORDINAL))
    if DATES:
        dates = Pipeline([
            ("parts", DateParts()),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ])
        parts.append(("date", dates, DATES))
    preprocess = ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)
    model = {estimator_code}
    return Pipeline([{recipe_step}("preprocess", preprocess), ("model", model)])


# -- the data --------------------------------------------------------------------------------


def load(path):
    suffix = Path(path).suffix.lower()
    if suffix == ".tsv":
        return pd.read_csv(path, sep="\\t")
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in (".xlsx", ".xls"):
        return pd.read_excel(path)
    if suffix == ".jsonl":
        return pd.read_json(path, lines=True)
    if suffix == ".json":
        return pd.read_json(path)
    if suffix in (".feather", ".arrow"):
        return pd.read_feather(path)
    return pd.read_csv(path)


def prepare(frame):
{row_step}    frame = frame[frame[TARGET].notna()]
{time_sort}    frame = frame.reset_index(drop=True)
    X = frame[FEATURES]
{y_code}    return X, y


def holdout(y):
{holdout}


def negated(scorer):
    return isinstance(scorer, str) and scorer.startswith("neg_")


def score(scorer, model, X, y):
    value = get_scorer(scorer)(model, X, y)
    return -value if negated(scorer) else value


def main():
    X, y = prepare(load(DATA))
    train, test = holdout(y)
    X_train, y_train = X.iloc[train], y[train]
    cv = {splitter}
    result = cross_validate(
        build_pipeline(), X_train, y_train, cv=cv, scoring=SCORERS, error_score=np.nan
    )
    cv_mean, cv_std = {{}}, {{}}
    for name, scorer in SCORERS.items():
        values = result["test_" + name]
        values = -values if negated(scorer) else values
        if np.isfinite(values).any():
            cv_mean[name] = float(np.nanmean(values))
            cv_std[name] = float(np.nanstd(values))
    model = build_pipeline().fit(X_train, y_train)
    test_scores = {{}}
    if len(test):
        X_test, y_test = X.iloc[test], y[test]
        for name, scorer in SCORERS.items():
            try:
                test_scores[name] = float(score(scorer, model, X_test, y_test))
            except ValueError:
                pass
    print(f"{{len(X):,}} rows; {{len(train):,}} for training, {{len(test):,}} held out")
    for name in cv_mean:
        line = f"{{name:<20}} cv {{cv_mean[name]:.6f}} ± {{cv_std[name]:.6f}}"
        if name in test_scores:
            line += f"   test {{test_scores[name]:.6f}}"
        print(line)
    print(json.dumps({{"cv": cv_mean, "cv_std": cv_std, "test": test_scores}}))


if __name__ == "__main__":
    main()
"""


def _holdout_code(plan: TrainPlan) -> str:
    req = plan.request
    lines = ["    rows = np.arange(len(y))", "    n_test = int(round(len(y) * TEST_SIZE))"]
    lines.append("    if TEST_SIZE <= 0 or n_test == 0:")
    lines.append("        return rows, rows[:0]")
    if plan.validation == "timeseries":
        lines.append("    return rows[: len(y) - n_test], rows[len(y) - n_test :]")
        return "\n".join(lines)
    if plan.task != "regression":
        lines += [
            "    _, counts = np.unique(y, return_counts=True)",
            "    stratify = y if len(counts) > 1 and counts.min() >= 2 else None",
        ]
    else:
        lines.append("    stratify = None")
    lines.append(
        "    return train_test_split(rows, test_size=TEST_SIZE, random_state=SEED, "
        "stratify=stratify)"
    )
    del req
    return "\n".join(lines)


def _recipe_parts(plan: TrainPlan) -> tuple[str, str, str]:
    """(the recipe's code, its pipeline step, the row-step call) — empty without a recipe.

    The recipe comes first as readable pandas (``Recipe``), with the recipe runtime's helpers
    it calls copied in before the two transformers (whose names win where they meet).
    """
    if not plan.recipe:
        return "", "", ""
    from app.core.recipes.codegen import render_class, runtime_source

    ref = f"{plan.recipe['name']}@{plan.recipe['version']}"
    code = (
        f"# -- recipe {ref}: cleaning and features, run first in the pipeline ------------\n\n"
        + render_class(plan.recipe["steps"])
        + "\n\n# -- the recipe runtime's helpers (copied from ModelDesk) ---------------------\n\n"
        + "import ast  # noqa: E402\nimport re  # noqa: E402\n\n"
        + runtime_source()
        + "\n\n\n"
    )
    return (
        code,
        '("recipe", Recipe()), ',
        "    frame = prepare_rows(frame)  # training-only row steps\n",
    )


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _script_name(run: Any) -> str:
    return f"run_{run.id}.py"
