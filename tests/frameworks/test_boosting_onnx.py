"""ONNX export of whole boosted pipelines (skl2onnx for the preprocessing, onnxmltools for
the trees), accepted only when onnxruntime agrees with the native predictions."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import InvalidInput
from tests.frameworks.conftest import frame


@pytest.mark.parametrize(
    ("flavour", "data"),
    [
        ("lightgbm", "cancer"),
        ("lightgbm", "diabetes"),
        pytest.param(
            "xgboost",
            "diabetes",
            marks=pytest.mark.xfail(
                reason="known: the ONNX preprocessing runs in float32, which moves some of the "
                "100 rows across XGBoost's split thresholds (the export's check on the 5-row "
                "input example passes)"
            ),
        ),
    ],
)
def test_onnx_export_matches_the_native_model(fw, flavour, data, tmp_path) -> None:
    import onnxruntime as ort

    from app.core.registry.files import export_version, onnx_feed

    services, models = fw
    _, version = models[(flavour, data)]
    out = export_version(services.registry, version.ref, tmp_path / "m.onnx", format="onnx")
    assert out["format"] == "onnx" and out["max_abs_diff"] < 1e-3
    # beyond the input example the export was checked on: 100 more rows
    model = services.registry.load_model(version.ref)
    columns = [c["name"] for c in version.signature["columns"]]
    rows = frame(data)[columns].iloc[100:200]
    onx = (tmp_path / "m.onnx").read_bytes()
    session = ort.InferenceSession(onx, providers=["CPUExecutionProvider"])
    outputs = session.run(None, onnx_feed(onx, rows))
    if data == "cancer":
        assert [str(v) for v in outputs[0].reshape(-1)] == [str(v) for v in model.predict(rows)]
        np.testing.assert_allclose(outputs[1], model.predict_proba(rows), atol=1e-4)
    else:
        np.testing.assert_allclose(outputs[0].reshape(-1), model.predict(rows), rtol=1e-4)


def test_a_catboost_pipeline_is_refused_with_the_reason(fw, tmp_path) -> None:
    from app.core.registry.files import export_version

    services, models = fw
    _, version = models[("catboost", "cancer")]
    with pytest.raises(InvalidInput, match="no converter for CatBoostClassifier"):
        export_version(services.registry, version.ref, tmp_path / "m.onnx", format="onnx")
    assert not (tmp_path / "m.onnx").exists()
