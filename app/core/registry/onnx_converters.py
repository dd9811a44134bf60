"""skl2onnx converters for ModelDesk's own transformers, registered from here because the
transformers' module must stay free of anything but numpy, pandas and scikit-learn.

- ``AsCategories`` converts: its ONNX input is the column as text, exactly as
  ``AsCategories`` would write it (``"1"`` for 1 or 1.0, ``"True"``, ``"(missing)"``); an
  empty string also counts as missing, since an ONNX string tensor has no null.
- ``SimpleImputer(add_indicator=True)`` (ModelDesk's numeric branch) gets the missing-value
  indicator columns skl2onnx leaves out: without them the converted graph is one column
  short as soon as a training column had gaps.
- ``DateParts`` does not: parsing date text needs calendar rules ONNX lacks, so the export
  still names it and the model is exported as skops instead.
"""

from __future__ import annotations

from typing import Any

_registered = False


def as_categories_text(column: Any) -> Any:
    """What to feed the ONNX model for a categorical column: ``AsCategories``'s own output."""
    from app.core.training.transformers import AsCategories

    return AsCategories().fit(column).transform(column)


def _shape_as_categories(operator: Any) -> None:
    from skl2onnx.common.data_types import StringTensorType

    rows, cols = operator.inputs[0].type.shape[0], operator.inputs[0].type.shape[1]
    operator.outputs[0].type = StringTensorType([rows, cols])


def _convert_as_categories(scope: Any, operator: Any, container: Any) -> None:
    from onnx import TensorProto

    from app.core.training.transformers import MISSING

    empty = scope.get_unique_variable_name("empty_text")
    missing = scope.get_unique_variable_name("missing_text")
    is_empty = scope.get_unique_variable_name("is_empty")
    container.add_initializer(empty, TensorProto.STRING, [], [b""])
    container.add_initializer(missing, TensorProto.STRING, [], [MISSING.encode()])
    container.add_node(
        "Equal",
        [operator.inputs[0].full_name, empty],
        is_empty,
        name=scope.get_unique_operator_name("AsCategoriesEmpty"),
    )
    container.add_node(
        "Where",
        [is_empty, missing, operator.inputs[0].full_name],
        operator.outputs[0].full_name,
        name=scope.get_unique_operator_name("AsCategoriesMissing"),
    )


def _indicated(op: Any) -> list[int]:
    """The columns whose missing-value flags ``op`` appends (none without add_indicator)."""
    indicator = getattr(op, "indicator_", None)
    if indicator is None:
        return []
    return [int(i) for i in indicator.features_]


def _shape_imputer(operator: Any) -> None:
    from skl2onnx.shape_calculators.imputer import calculate_sklearn_imputer_output_shapes

    calculate_sklearn_imputer_output_shapes(operator)
    flags = _indicated(operator.raw_operator)
    rows, cols = operator.outputs[0].type.shape
    if flags and cols is not None:
        operator.outputs[0].type.shape = [rows, cols + len(flags)]


def _convert_imputer(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's imputer, then ``Concat(imputed, Cast(IsNaN(X[:, features])))``."""
    from types import SimpleNamespace

    import numpy as np
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType
    from skl2onnx.operator_converters.common import concatenate_variables
    from skl2onnx.operator_converters.imputer_op import convert_sklearn_imputer

    op = operator.raw_operator
    flags = _indicated(op)
    missing = op.missing_values
    if not flags or not (isinstance(missing, float) and np.isnan(missing)):
        convert_sklearn_imputer(scope, operator, container)
        return
    imputed = scope.get_unique_variable_name("imputed")
    inner = SimpleNamespace(
        inputs=operator.inputs, outputs=[SimpleNamespace(full_name=imputed)], raw_operator=op
    )
    convert_sklearn_imputer(scope, inner, container)
    features = concatenate_variables(scope, operator.inputs, container)
    index = scope.get_unique_variable_name("indicated")
    container.add_initializer(index, TensorProto.INT64, [len(flags)], flags)
    picked, nan, flag = (scope.get_unique_variable_name(n) for n in ("picked", "isnan", "flag"))
    container.add_node("Gather", [features, index], picked, axis=1)
    container.add_node("IsNaN", [picked], nan)
    to = (
        TensorProto.DOUBLE
        if isinstance(operator.outputs[0].type, DoubleTensorType)
        else (TensorProto.FLOAT)
    )
    container.add_node("Cast", [nan], flag, to=to)
    container.add_node("Concat", [imputed, flag], operator.outputs[0].full_name, axis=1)


def register() -> None:
    """Make skl2onnx know ``AsCategories`` and the imputer's indicator (once per process)."""
    global _registered
    if _registered:
        return
    from skl2onnx import update_registered_converter
    from sklearn.impute import SimpleImputer

    from app.core.training.transformers import AsCategories

    update_registered_converter(
        AsCategories, "ModelDeskAsCategories", _shape_as_categories, _convert_as_categories
    )
    update_registered_converter(
        SimpleImputer, "SklearnSimpleImputer", _shape_imputer, _convert_imputer
    )
    from app.core.training import flavours_onnx

    flavours_onnx.register()  # the XGBoost and LightGBM steps
    _registered = True
