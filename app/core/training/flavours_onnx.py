"""ONNX converters for the XGBoost and LightGBM flavours, so that a whole pipeline exports.

skl2onnx converts the preprocessing; onnxmltools converts the trees. Its converters expect
the libraries' own scikit-learn classes, so each flavour step is handed to them as what
they read (``_LightGBMView``: ``booster_``, ``classes_``, ``boosting_type``; ``_XGBView``:
the objective, ``get_booster()``, ``classes_``). Both need ``ai.onnx.ml`` opset 3 at most
(``target_opset``).
CatBoost has no converter here (its own ONNX export works on the bare model only), so
``unsupported_steps`` names it and the export says so.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

_registered = False


class _XGBView:
    """What onnxmltools' XGBoost converter reads, from a flavour step."""

    def __init__(self, step: Any) -> None:
        booster = step._model
        config = json.loads(booster.save_config())
        self.objective = config["learner"]["objective"]["name"]
        self.n_estimators = step.n_estimators
        self.missing = float("nan")
        self.operator_name = "XGBClassifier" if step.is_classifier else "XGBRegressor"
        if step.is_classifier:
            self.classes_ = step.classes_
        if step.best_iteration_ is not None:
            self.best_iteration = step.best_iteration_
        self._booster = booster

    def get_booster(self) -> Any:
        return self._booster


class _LightGBMView:
    boosting_type = "gbdt"  # the flavour trains gradient boosting, never LightGBM's "rf"

    def __init__(self, step: Any) -> None:
        self.booster_ = step._model
        if step.is_classifier:
            self.classes_ = step.classes_


def target_opset(final: Any) -> dict[str, int] | None:
    """The opsets to convert a pipeline ending in ``final`` with (None: skl2onnx's own)."""
    if getattr(final, "flavour", None) not in ("xgboost", "lightgbm"):
        return None
    from skl2onnx import get_latest_tested_opset_version

    return {"": min(get_latest_tested_opset_version(), 18), "ai.onnx.ml": 3}


def _delegate(convert: Any, view: Any) -> Any:
    def run(scope: Any, operator: Any, container: Any) -> None:
        step = operator.raw_operator
        operator.raw_operator = view(step)
        try:
            convert(scope, operator, container)
        finally:
            operator.raw_operator = step

    return run


def register() -> None:
    """Make skl2onnx know the XGBoost and LightGBM flavour steps (once per process; a no-op
    for a library or onnxmltools that is not installed)."""
    global _registered
    if _registered:
        return
    _registered = True
    from importlib.util import find_spec

    if find_spec("onnxmltools") is None:
        return
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes as classifier_shapes,
    )
    from skl2onnx.common.shape_calculator import (
        calculate_linear_regressor_output_shapes as regressor_shapes,
    )

    from app.serving import flavours

    options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    converters = {
        "xgboost": ("onnxmltools.convert.xgboost.operator_converters.XGBoost", "convert_xgboost",
                    _XGBView),
        "lightgbm": ("onnxmltools.convert.lightgbm.operator_converters.LightGbm",
                     "convert_lightgbm", _LightGBMView),
    }  # fmt: skip
    for flavour, (module, function, view) in converters.items():
        if find_spec(flavour) is None:
            continue
        convert = _delegate(getattr(importlib.import_module(module), function), view)
        for is_classifier, shapes in ((True, classifier_shapes), (False, regressor_shapes)):
            cls = flavours.CLASSES[(flavour, is_classifier)]
            update_registered_converter(
                cls, f"ModelDesk{cls.__name__}", shapes, convert,
                options=options if is_classifier else None,
            )  # fmt: skip
