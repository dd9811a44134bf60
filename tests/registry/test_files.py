"""Model files: skops export/import with the trusted-type check, ONNX export verified."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from app.core.errors import InvalidInput
from app.core.training.model_io import KNOWN_SAFE_TYPES

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
    assert "sklearn.tree._tree.Tree" in untrusted
    assert untrusted == sorted(set(original.trusted_types) - KNOWN_SAFE_TYPES)

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


def _feed_by_metadata(model_bytes: bytes, frame: pd.DataFrame) -> dict:
    """A client's feed: original column names mapped through the model's metadata_props."""
    import onnx

    from app.core.registry.onnx_converters import as_categories_text

    model = onnx.load_from_string(model_bytes)
    mapping = json.loads({p.key: p.value for p in model.metadata_props}["modeldesk.input_names"])
    assert sorted(mapping) == sorted(frame.columns)
    text = {i.name for i in model.graph.input if i.type.tensor_type.elem_type == 8}  # STRING
    return {
        name: as_categories_text(frame[[column]])
        if name in text
        else frame[[column]].to_numpy(np.float32)
        for column, name in mapping.items()
    }


@pytest.mark.parametrize(
    ("name", "target", "estimator"),
    [("bc", "target", "logistic"), ("wine", "target", "random_forest"),
     ("iris", "species", "decision_tree")],
)  # fmt: skip
def test_onnx_export_of_sklearn_data_sets_with_their_own_column_names(
    services, tmp_path, name, target, estimator
) -> None:
    """Spaces, '/' and '()' in column names: the export works and a client feeding rows by
    the original names (through the model's metadata) gets scikit-learn's predictions."""
    import onnxruntime as ort
    import pyarrow as pa

    from app.core.training import TrainRequest
    from tests.cli.conftest import load_frame

    frame = load_frame(name)
    services.datasets.add_table(
        pa.Table.from_pandas(frame, preserve_index=False), name=name, source_kind="test"
    )
    run = services.training.train_inline(
        TrainRequest(f"{name}@1", target, estimator, folds=3, plots=False)
    )
    services.registry.register(run.id, name)
    out = tmp_path / f"{name}.onnx"
    result = services.registry.export(f"{name}@1", out, format="onnx")
    features = frame.drop(columns=target)
    assert list(result["input_names"]) == list(features.columns)
    assert any(c != n for c, n in result["input_names"].items())  # names were sanitized

    session = ort.InferenceSession(out.read_bytes(), providers=["CPUExecutionProvider"])
    labels, proba = session.run(None, _feed_by_metadata(out.read_bytes(), features))[:2]
    model = services.registry.load_model(f"{name}@1")
    assert [str(v) for v in labels] == [str(v) for v in model.predict(features)]
    # float32 thresholds may move a row to the other side of a split in a tree or two
    tolerance = 0.021 if estimator == "random_forest" else 1e-4
    assert np.abs(proba - model.predict_proba(features)).max() <= tolerance


def test_onnx_input_names_that_clash_once_sanitized(services, tmp_path) -> None:
    """'a b' and 'a_b' both become identifiers; each keeps its own input, text included."""
    import onnxruntime as ort
    import pyarrow as pa

    from app.core.training import TrainRequest

    rng = np.random.default_rng(0)
    n = 150
    frame = pd.DataFrame(
        {
            "a b": rng.normal(size=n),
            "a_b": rng.normal(size=n),
            "c/d": rng.normal(size=n),
            "kind (text)": rng.choice(["x", "y", "z"], n),
        }
    )
    frame["label"] = np.where(frame["a b"] - frame["a_b"] + (frame["kind (text)"] == "x") > 0,
                              "yes", "no")  # fmt: skip
    services.datasets.add_table(pa.Table.from_pandas(frame), name="clash", source_kind="test")
    run = services.training.train_inline(
        TrainRequest("clash@1", "label", "logistic", folds=3, plots=False, test_size=0.0)
    )
    services.registry.register(run.id, "clash")
    out = tmp_path / "clash.onnx"
    result = services.registry.export("clash@1", out, format="onnx")
    assert len(set(result["input_names"].values())) == 4
    features = frame.drop(columns="label")
    session = ort.InferenceSession(out.read_bytes(), providers=["CPUExecutionProvider"])
    labels = session.run(None, _feed_by_metadata(out.read_bytes(), features))[0]
    model = services.registry.load_model("clash@1")
    assert list(labels) == list(model.predict(features))


def test_a_file_modeldesk_exported_imports_back_without_extra_trust(services, tmp_path) -> None:
    """A recipe (RecipeTransformer), categories (AsCategories) and numpy dtypes: all known
    safe, so the exported file imports as it is and the copy predicts the same."""
    from app.core.training import TrainRequest
    from tests.core.test_training import make_table

    services.datasets.add_table(make_table(), name="toy", source_kind="test")
    services.recipes.save("clean", [{"op": "impute", "columns": ["x2"], "strategy": "median"}])
    run = services.training.train_inline(
        TrainRequest("toy@1", "label", "logistic", folds=3, plots=False, recipe="clean",
                     exclude=("price_text", "comment", "when"))
    )  # fmt: skip
    reg = services.registry
    original = reg.register(run.id, "toy")
    safe = {"numpy.dtype", "app.core.recipes.runtime.RecipeTransformer"}
    assert safe | {"app.core.training.transformers.AsCategories"} <= set(original.trusted_types)
    out = tmp_path / "toy.skops"
    reg.export("toy@1", out)
    assert reg.inspect_file(out)["untrusted_types"] == []  # nothing for the user to vouch for

    copy = reg.import_file(out, "toy-copy")  # no trust given
    assert set(copy.trusted_types) == set(original.trusted_types)
    frame = make_table(seed=5).to_pandas().head(30)
    assert list(reg.load_model("toy-copy@1").predict(frame)) == list(
        reg.load_model("toy@1").predict(frame)
    )
    # a type outside the known-safe set still has to be named
    assert "sklearn.tree._tree.Tree" not in copy.trusted_types
