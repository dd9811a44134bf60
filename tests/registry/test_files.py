"""Model files: skops export/import with the trusted-type check, ONNX export verified."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from app.core.errors import InvalidInput

from .conftest import train


def test_onnx_export_of_a_numeric_pipeline_matches_sklearn(services, numeric, tmp_path) -> None:
    import onnxruntime as ort

    run = train(services, numeric, "random_forest", n_estimators=12)
    reg = services.registry
    reg.register(run.id, "num")
    out = tmp_path / "num.onnx"
    result = reg.export("num@1", out, format="onnx")
    assert result["rows_compared"] == 5 and result["max_abs_diff"] < 1e-4
    # check again here, on rows the export did not see
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(50, 3)), columns=["x1", "x2", "x3"])
    session = ort.InferenceSession(out.read_bytes(), providers=["CPUExecutionProvider"])
    labels = session.run(None, {c: frame[[c]].to_numpy(np.float32) for c in frame})[0]
    expected = reg.load_model("num@1").predict(frame)
    assert (np.asarray(labels) == expected).mean() >= 0.96  # float32 rounding at thresholds
    assert reg.audit_log("num@1", action="version.export")[0].details["format"] == "onnx"


def test_onnx_export_names_the_unsupported_steps(services, tmp_path) -> None:
    from tests.core.test_training import make_table

    services.datasets.add_table(make_table(), name="toy", source_kind="test")
    from app.core.training import TrainRequest

    run = services.training.train_inline(
        TrainRequest(
            "toy@1",
            "label",
            "logistic",
            folds=3,
            plots=False,
            test_size=0.0,
            exclude=("price_text", "comment"),
        )
    )
    services.registry.register(run.id, "mixed")
    with pytest.raises(InvalidInput) as exc:
        services.registry.export("mixed@1", tmp_path / "m.onnx", format="onnx")
    assert "AsCategories" not in exc.value.message  # the registry converts it
    assert "DateParts (at preprocess › date › parts)" in exc.value.message
    assert not (tmp_path / "m.onnx").exists()


def test_onnx_export_of_a_mixed_type_pipeline_through_as_categories(services, tmp_path) -> None:
    """Numbers, text with missing values, booleans and a many-valued (ordinal) column: the
    registry's AsCategories converter lets skl2onnx take the whole pipeline."""
    import onnxruntime as ort

    from app.core.registry.onnx_converters import as_categories_text
    from app.core.training import TrainRequest
    from tests.core.test_training import make_table

    services.datasets.add_table(make_table(), name="toy", source_kind="test")
    run = services.training.train_inline(
        TrainRequest(
            "toy@1",
            "label",
            "random_forest",
            params={"n_estimators": 10},
            folds=3,
            plots=False,
            test_size=0.0,
            exclude=("price_text", "comment", "when"),
        )
    )
    reg = services.registry
    version = reg.register(run.id, "mixed")
    treatments = {c["name"]: c["treatment"] for c in version.signature["columns"]}
    assert {"numeric", "onehot"} <= set(treatments.values())
    out = tmp_path / "mixed.onnx"
    result = reg.export("mixed@1", out, format="onnx")
    assert result["inputs"]["x1"] == "float" and result["inputs"]["color"] == "text"

    # rows the export did not see, missing colours included
    frame = make_table(seed=4).to_pandas()[list(treatments)].head(40)
    assert frame["color"].isna().any()
    session = ort.InferenceSession(out.read_bytes(), providers=["CPUExecutionProvider"])
    feed = {
        name: frame[[name]].to_numpy(np.float32)
        if kind == "float"
        else as_categories_text(frame[[name]])
        for name, kind in result["inputs"].items()
    }
    labels, proba = session.run(None, feed)[:2]
    model = reg.load_model("mixed@1")
    assert (np.asarray(labels) == model.predict(frame)).mean() >= 0.95
    assert np.abs(proba - model.predict_proba(frame)).max() < 0.11  # float32 at a split


def test_skops_export_then_import_asks_for_trust(services, numeric, tmp_path) -> None:
    run = train(services, numeric, "random_forest", n_estimators=5)
    reg = services.registry
    original = reg.register(run.id, "num", description="forest")
    out = tmp_path / "num.skops"
    reg.export("num@1", out)
    meta = json.loads((tmp_path / "num.skops.json").read_text())
    assert meta["artifact_sha256"] == original.artifact_sha256 and meta["version"] == 1

    info = reg.inspect_file(out)
    assert info["sha256"] == original.artifact_sha256
    untrusted = info["untrusted_types"]
    assert "sklearn.tree._tree.Tree" in untrusted and untrusted == original.trusted_types

    # an outside file with a type nobody trusts by default
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    outside = Pipeline([("f", FunctionTransformer(np.log1p)), ("m", DecisionTreeClassifier())]).fit(
        X, [0, 0, 1, 1]
    )
    foreign = tmp_path / "foreign.skops"
    sio.dump(outside, foreign)
    needed = sio.get_untrusted_types(file=foreign)
    assert needed == ["sklearn.tree._tree.Tree"]
    with pytest.raises(InvalidInput, match="not trusted by default") as exc:
        reg.import_file(foreign, "outside")
    assert "sklearn.tree._tree.Tree" in exc.value.message
    assert "--trust sklearn.tree._tree.Tree" in str(exc.value)
    with pytest.raises(InvalidInput):
        reg.import_file(foreign, "outside", trust=["sklearn.tree.DecisionTreeClassifier"])
    assert [m.name for m in reg.list_models()] == ["num"]  # nothing half-stored

    imported = reg.import_file(foreign, "outside", trust=needed)
    assert imported.source == "import" and imported.run_id is None
    assert imported.task == "binary" and imported.output["classes"] == [0, 1]
    assert [c["name"] for c in imported.signature["columns"]] == ["a", "b"]
    assert set(imported.trusted_types) == set(needed)
    assert list(reg.load_model("outside").predict(X)) == [0, 0, 1, 1]
    assert reg.audit_log("outside@1", action="version.register")[0].details["trusted_types"]

    again = reg.import_file(out, "num-copy", trust=untrusted)
    assert again.signature == original.signature and again.metrics == original.metrics


def test_import_refuses_what_is_not_skops(services, tmp_path) -> None:
    bad = tmp_path / "model.pkl"
    bad.write_bytes(b"\x80\x04not a zip")
    with pytest.raises(InvalidInput, match="not a skops model file"):
        services.registry.import_file(bad, "x")
