"""Gradient-boosting libraries in the catalog: XGBoost, LightGBM and CatBoost.

Each is an optional install (``pip install 'modeldesk[boost]'``). A library that is not
installed is left out of the catalog, so ``--estimators all`` and the forms never offer it,
and naming it says which command adds it (``MISSING``). Finding out costs no import: only
``importlib.util.find_spec``.

The estimators are ``app.serving.flavours`` models: the same preprocessing in front as every
other estimator, the library's own file inside the saved pipeline, per-iteration losses in
``curve_`` (logged as step metrics) and early stopping on a held-out share of the fit rows.
Parameter names are the libraries' own where they agree (XGBoost's and LightGBM's sklearn
names; CatBoost's ``depth``, ``l2_leaf_reg``).
"""

from __future__ import annotations

from dataclasses import replace
from importlib.util import find_spec
from typing import Any

from app.core.training.params import Builder, EstimatorSpec, ParamSpec, SearchDim

PIP_BOOST = "pip install 'modeldesk[boost]'"
_BOTH = ("classification", "regression")


def _builder(flavour: str, native: tuple[str, ...]) -> Builder:
    def build(kind: str, p: dict, seed: int) -> Any:
        from app.serving.flavours import CLASSES

        params = {name: p[name] for name in native}
        if "n_jobs" in p:
            key = "thread_count" if flavour == "catboost" else "n_jobs"
            params[key] = p["n_jobs"] if p["n_jobs"] else (-1 if flavour == "catboost" else None)
        return CLASSES[(flavour, kind == "classification")](
            params=params,
            n_estimators=p["n_estimators"],
            early_stopping_rounds=p["early_stopping_rounds"],
            validation_fraction=p["validation_fraction"],
            random_state=seed,
        )

    return build


def _common(trees: int) -> tuple[ParamSpec, ...]:
    return (
        ParamSpec(
            "n_estimators", "int", trees, low=1, high=100_000, help="Boosting rounds (trees)."
        ),
        ParamSpec(
            "learning_rate",
            "float",
            0.1,
            low=1e-4,
            high=1.0,
            log=True,
            help="Shrinkage of each tree's contribution.",
        ),
        ParamSpec(
            "early_stopping_rounds",
            "int",
            0,
            low=0,
            high=10_000,
            help="Stop when the held-out share has not improved for this many rounds "
            "(0 = train every round).",
        ),
        ParamSpec(
            "validation_fraction",
            "float",
            0.1,
            low=0.01,
            high=0.5,
            help="Share of the fit rows held out for early stopping (when it is on).",
        ),
        ParamSpec("n_jobs", "int", 0, low=-1, high=256, help="Cores; 0 = the library's default."),
    )


_SUBSAMPLE = ParamSpec(
    "subsample", "float", 1.0, low=0.05, high=1.0, help="Share of rows each tree sees."
)
_COLSAMPLE = ParamSpec(
    "colsample_bytree", "float", 1.0, low=0.05, high=1.0, help="Share of features each tree sees."
)
_LAMBDA = ParamSpec("reg_lambda", "float", 1.0, low=0.0, high=1e6, help="L2 penalty on leaves.")
_ALPHA = ParamSpec("reg_alpha", "float", 0.0, low=0.0, high=1e6, help="L1 penalty on leaves.")
_SPACE = (
    SearchDim("n_estimators", "int", 50, 500, log=True),
    SearchDim("learning_rate", "float", 0.01, 0.3, log=True),
    SearchDim("subsample", "float", 0.5, 1.0),
    SearchDim("colsample_bytree", "float", 0.5, 1.0),
    SearchDim("reg_lambda", "float", 1e-3, 10.0, log=True),
)

_XGB_NATIVE = (
    "learning_rate",
    "max_depth",
    "min_child_weight",
    "subsample",
    "colsample_bytree",
    "reg_lambda",
    "reg_alpha",
)
_LGB_NATIVE = (
    "learning_rate",
    "num_leaves",
    "max_depth",
    "min_child_samples",
    "subsample",
    "subsample_freq",
    "colsample_bytree",
    "reg_lambda",
    "reg_alpha",
)
_CB_NATIVE = ("learning_rate", "depth", "l2_leaf_reg")

_ALL = {
    "xgboost": EstimatorSpec(
        name="xgboost",
        title="XGBoost",
        tasks=_BOTH,
        description="Gradient-boosted trees by XGBoost (histogram method), saved as UBJSON.",
        params=(
            *_common(100),
            ParamSpec("max_depth", "int", 6, low=0, high=64, help="Deepest tree; 0 = no limit."),
            ParamSpec(
                "min_child_weight", "float", 1.0, low=0.0, high=1e6, help="Least hessian per leaf."
            ),
            _SUBSAMPLE,
            _COLSAMPLE,
            _LAMBDA,
            _ALPHA,
        ),
        builder=_builder("xgboost", _XGB_NATIVE),
        space=(*_SPACE, SearchDim("max_depth", "int", 2, 10)),
    ),
    "lightgbm": EstimatorSpec(
        name="lightgbm",
        title="LightGBM",
        tasks=_BOTH,
        description="Leaf-wise gradient-boosted trees by LightGBM, saved as its model text.",
        params=(
            *_common(100),
            ParamSpec("num_leaves", "int", 31, low=2, high=131_072, help="Leaves per tree."),
            ParamSpec("max_depth", "int", -1, low=-1, high=64, help="Deepest tree; -1 = no limit."),
            ParamSpec(
                "min_child_samples", "int", 20, low=1, high=100_000, help="Fewest rows in a leaf."
            ),
            _SUBSAMPLE,
            ParamSpec(
                "subsample_freq",
                "int",
                0,
                low=0,
                high=1000,
                help="Draw the row share every this many rounds (0 = never, so subsample "
                "has no effect).",
            ),
            _COLSAMPLE,
            replace(_LAMBDA, default=0.0),
            _ALPHA,
        ),
        builder=_builder("lightgbm", _LGB_NATIVE),
        space=(
            SearchDim("n_estimators", "int", 50, 500, log=True),
            SearchDim("learning_rate", "float", 0.01, 0.3, log=True),
            SearchDim("num_leaves", "int", 8, 128, log=True),
            SearchDim("min_child_samples", "int", 5, 100, log=True),
            SearchDim("colsample_bytree", "float", 0.5, 1.0),
            SearchDim("reg_lambda", "float", 1e-3, 10.0, log=True),
        ),
    ),
    "catboost": EstimatorSpec(
        name="catboost",
        title="CatBoost",
        tasks=_BOTH,
        description="Symmetric gradient-boosted trees by CatBoost, saved as .cbm.",
        params=(
            *_common(200),
            ParamSpec("depth", "int", 6, low=1, high=16, help="Depth of every (symmetric) tree."),
            ParamSpec(
                "l2_leaf_reg", "float", 3.0, low=0.0, high=1e6, help="L2 penalty on leaf values."
            ),
        ),
        builder=_builder("catboost", _CB_NATIVE),
        space=(
            SearchDim("n_estimators", "int", 50, 500, log=True),
            SearchDim("learning_rate", "float", 0.01, 0.3, log=True),
            SearchDim("depth", "int", 3, 10),
            SearchDim("l2_leaf_reg", "float", 1e-2, 30.0, log=True),
        ),
    ),
}


def installed(module: str) -> bool:
    return find_spec(module) is not None


#: the boosting estimators whose library is installed, in catalog order
SPECS = tuple(spec for name, spec in _ALL.items() if installed(name))
#: name → the pip command that adds it, for those whose library is not installed
MISSING = {name: PIP_BOOST for name in _ALL if not installed(name)}
