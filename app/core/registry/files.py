"""Model files in and out of the registry: skops export/import and ONNX export.

Export writes the verified skops bytes and, beside them, ``<file>.json`` with the version's
metadata (the bundle's ``model.json`` plus metrics and description), so the file can be
imported elsewhere with its signature. Import never unpickles: skops lists the types the
file would construct that it does not trust by default, and the user must name each one
(``--trust`` / a dialog) before anything is loaded; ``numpy.dtype`` and ModelDesk's own
transformers (``model_io.KNOWN_SAFE_TYPES``) need no naming, so a file ModelDesk exported
imports back as it is. ONNX export first walks the pipeline
and names each step skl2onnx has no converter for (``onnx_converters`` adds ModelDesk's
``AsCategories``, so numbers and categories export; date parts do not); numbers are fed as
float, categories as the text ``AsCategories`` writes. skl2onnx turns column names into
identifiers, so the model's ``metadata_props`` hold ``modeldesk.input_names`` ({column: input
name}) and ``onnx_feed`` builds a feed from rows with the original names. A converted model
is accepted only if onnxruntime's predictions on the input example, fed through that mapping,
equal scikit-learn's.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput, NotFound, StoreUnavailable
from app.core.training.model_io import KNOWN_SAFE_TYPES

if TYPE_CHECKING:
    from app.core.registry.entities import ModelVersion
    from app.core.registry.service import RegistryService

FORMATS = ("skops", "onnx")
#: classification labels must match exactly; scores and regression values within this
ATOL, RTOL = 1e-4, 1e-3


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreUnavailable(f"Could not write {path}: {exc.strerror or exc}.") from exc


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


# -- export -------------------------------------------------------------------------------------


def export_version(
    registry: RegistryService, ref: str, path: Any, *, format: str = "skops"
) -> dict[str, Any]:
    if format not in FORMATS:
        raise InvalidInput(f"'{format}' is not an export format; use skops or onnx.")
    path = Path(path)
    data, version = registry.model_bytes(ref)
    if format == "onnx":
        result = export_onnx(registry.loads(data, version), version, path)
    else:
        _write_atomic(path, data)
        meta = {
            **version.bundle_meta(),
            "format": "skops",
            "metrics": version.metrics,
            "description": version.description,
            "estimator": version.estimator,
        }
        _write_atomic(sidecar(path), json.dumps(meta, indent=1, default=str).encode())
        result = {"path": str(path), "metadata": str(sidecar(path)), "format": "skops"}
    result.update(ref=version.ref, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    registry.audit_append("version.export", version.ref, {k: result[k] for k in result})
    return result


def _leaves(estimator: Any, where: str) -> list[tuple[str, Any]]:
    """Every non-container step of a (fitted) pipeline with its path, in order."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    if isinstance(estimator, Pipeline):
        return [
            leaf for name, step in estimator.steps for leaf in _leaves(step, f"{where} › {name}")
        ]
    if isinstance(estimator, ColumnTransformer):
        parts = getattr(estimator, "transformers_", estimator.transformers)
        out: list[tuple[str, Any]] = []
        for name, step, _cols in parts:
            if isinstance(step, str):  # 'drop' / 'passthrough'
                continue
            out += _leaves(step, f"{where} › {name}")
        return out
    if isinstance(estimator, FeatureUnion):
        return [
            leaf
            for name, step in estimator.transformer_list
            for leaf in _leaves(step, f"{where} › {name}")
        ]
    return [(estimator, where)]


def unsupported_steps(pipeline: Any) -> list[str]:
    """Human names ("AsCategories (at pipeline › preprocess › onehot)") of the steps
    skl2onnx cannot convert."""
    from skl2onnx._supported_operators import sklearn_operator_name_map

    from app.core.registry.onnx_converters import register

    register()
    missing = []
    for step, where in _leaves(pipeline, "pipeline"):
        if type(step) not in sklearn_operator_name_map:
            missing.append(f"{type(step).__name__} (at {where.removeprefix('pipeline › ')})")
    return missing


#: how each column treatment is fed to the ONNX model: numbers as float, categories as text
ONNX_FEEDS = {"numeric": "float", "onehot": "text", "ordinal": "text"}


def _onnx_inputs(version: ModelVersion) -> tuple[list[Any], dict[str, str]]:
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    columns = version.signature.get("columns") or []
    if not columns:
        raise InvalidInput(f"{version.ref} has no input signature, so ONNX inputs are unknown.")
    other = [c["name"] for c in columns if c.get("treatment") not in ONNX_FEEDS]
    if other:
        raise InvalidInput(
            f"{version.ref} cannot be exported to ONNX: the columns {', '.join(other)} are "
            "neither numeric nor categorical, and ModelDesk's ONNX export feeds only those.",
        )
    feeds = {c["name"]: ONNX_FEEDS[c["treatment"]] for c in columns}
    types = {"float": FloatTensorType([None, 1]), "text": StringTensorType([None, 1])}
    return [(name, types[kind]) for name, kind in feeds.items()], feeds


def export_onnx(pipeline: Any, version: ModelVersion, path: Path) -> dict[str, Any]:
    """Convert, check against scikit-learn on the input example, then write."""
    import numpy as np
    import pandas as pd

    missing = unsupported_steps(pipeline)
    if missing:
        raise InvalidInput(
            f"{version.ref} cannot be exported to ONNX: skl2onnx has no converter for "
            + "; ".join(missing)
            + ".",
            hint="Export it as skops instead, or train it without the columns those steps "
            "handle (date columns go through DateParts).",
        )
    inputs, feeds = _onnx_inputs(version)
    names = list(feeds)
    if not version.input_example:
        raise InvalidInput(f"{version.ref} has no input example to verify an ONNX export on.")
    from skl2onnx import convert_sklearn

    final = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else pipeline
    options = {id(final): {"zipmap": False}} if hasattr(final, "classes_") else None
    try:
        from app.core.training.flavours_onnx import target_opset

        opset = target_opset(final)
        onx = convert_sklearn(pipeline, initial_types=inputs, options=options, target_opset=opset)
    except Exception as exc:  # skl2onnx raises bare RuntimeError/TypeError/NameError
        raise InvalidInput(
            f"{version.ref} could not be converted to ONNX: {exc}",
            hint="Export it as skops instead.",
        ) from exc
    input_names = _map_input_names(onx, names, version)
    data = onx.SerializeToString()

    import onnxruntime as ort

    frame = pd.DataFrame(version.input_example, columns=names)
    for name, kind in feeds.items():
        if kind == "float":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    outputs = session.run(None, onnx_feed(data, frame))
    expected = pipeline.predict(frame)
    got = np.asarray(outputs[0]).reshape(-1)
    if version.task == "regression":
        diff = float(np.max(np.abs(got.astype(float) - expected.astype(float))))
        agree = bool(np.allclose(got, expected, atol=ATOL, rtol=RTOL))
    else:
        agree = [str(a) for a in got] == [str(b) for b in expected]
        diff = 0.0
        if agree and len(outputs) > 1 and hasattr(pipeline, "predict_proba"):
            proba = np.asarray(outputs[1], dtype=float)
            diff = float(np.max(np.abs(proba - pipeline.predict_proba(frame))))
            agree = diff <= ATOL + RTOL
    if not agree:
        raise InvalidInput(
            f"The ONNX conversion of {version.ref} predicts differently from scikit-learn on "
            f"its input example (largest difference {diff:.3g}); it was not written.",
            hint="Export it as skops instead.",
        )
    _write_atomic(path, data)
    return {
        "path": str(path),
        "format": "onnx",
        "rows_compared": len(frame),
        "max_abs_diff": diff,
        "inputs": feeds,
        "input_names": input_names,
    }


#: the ONNX model's metadata_props key holding {column name: ONNX input name}
INPUT_NAMES_KEY = "modeldesk.input_names"


def _map_input_names(onx: Any, names: list[str], version: ModelVersion) -> dict[str, str]:
    """{column: ONNX input name}, written into the model's ``metadata_props``.

    skl2onnx turns column names into identifiers (``mean radius`` → ``mean_radius``,
    ``od280/od315…`` → ``od280_od315…``, uniquified on a clash) and keeps the inputs in the
    order of ``initial_types``; the mapping lets a client feed rows by their original
    column names. Each input's ``doc_string`` names its column too.
    """
    graph_inputs = list(onx.graph.input)
    if len(graph_inputs) != len(names):
        raise InvalidInput(
            f"The ONNX conversion of {version.ref} has {len(graph_inputs)} inputs for "
            f"{len(names)} columns; it was not written.",
            hint="Export it as skops instead.",
        )
    mapping = {column: graph.name for column, graph in zip(names, graph_inputs, strict=True)}
    for column, graph in zip(names, graph_inputs, strict=True):
        graph.doc_string = f"The column '{column}'."
    entry = onx.metadata_props.add()
    entry.key, entry.value = INPUT_NAMES_KEY, json.dumps(mapping)
    return mapping


def onnx_feed(model_bytes: bytes, rows: Any) -> dict[str, Any]:
    """The input feed for an exported ONNX model from a frame with the original column
    names: each column under its ONNX input name, as float or as ``AsCategories`` text."""
    import numpy as np
    import onnx

    from app.core.registry.onnx_converters import as_categories_text

    model = onnx.load_from_string(model_bytes)
    props = {p.key: p.value for p in model.metadata_props}
    mapping = json.loads(props.get(INPUT_NAMES_KEY, "{}")) or {
        i.name: i.name for i in model.graph.input
    }
    kinds = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    feed = {}
    for column, name in mapping.items():
        if kinds[name] == onnx.TensorProto.STRING:
            feed[name] = as_categories_text(rows[[column]])
        else:
            feed[name] = rows[[column]].to_numpy(np.float32)
    return feed


# -- import -------------------------------------------------------------------------------------


def inspect_file(path: Any) -> dict[str, Any]:
    """What an outside skops file would need trusted, and its metadata if exported by us."""
    import skops.io as sio

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder; name the .skops file in it.") from None
    except OSError as exc:
        raise InvalidInput(f"{path} cannot be read: {exc.strerror or exc}.") from None
    try:
        constructs = set(sio.get_untrusted_types(data=data))
    except Exception as exc:  # a zip that is not skops, or no zip at all
        raise InvalidInput(
            f"{path} is not a skops model file ({type(exc).__name__}: {exc}).",
            hint="Only skops files (.skops) can be imported; pickle files are refused.",
        ) from exc
    meta: dict[str, Any] = {}
    if sidecar(path).exists():
        try:
            meta = json.loads(sidecar(path).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InvalidInput(f"The metadata file {sidecar(path)} is not JSON: {exc}.") from exc
    return {
        "path": str(path),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        # what the user must trust by name; the rest skops would also ask about is known safe
        "untrusted_types": sorted(constructs - KNOWN_SAFE_TYPES),
        "known_safe_types": sorted(constructs & KNOWN_SAFE_TYPES),
        "metadata": meta,
    }


def _describe(model: Any, meta: dict[str, Any]) -> dict[str, Any]:
    from sklearn.base import is_classifier, is_regressor

    if meta.get("task"):
        task = meta["task"]
    elif is_classifier(model):
        task = "binary" if len(getattr(model, "classes_", [])) == 2 else "multiclass"
    elif is_regressor(model):
        task = "regression"
    else:
        task = None
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(model, "classes_", [])] or (
        meta.get("output") or {}
    ).get("classes", [])
    signature = meta.get("signature") or {
        "columns": [
            {"name": str(n), "dtype": "unknown", "role": "feature", "treatment": "unknown"}
            for n in getattr(model, "feature_names_in_", [])
        ]
    }
    return {
        "task": task,
        "target": meta.get("target"),
        "estimator": type(model[-1] if hasattr(model, "steps") else model).__name__,
        "signature": signature,
        "input_example": meta.get("input_example") or [],
        "output": {"task": task, **({"classes": classes} if classes else {})},
        "metrics": {k: float(v) for k, v in (meta.get("metrics") or {}).items()},
    }


def import_file(
    registry: RegistryService, path: Any, name: str, *, trust: list[str], description: str = ""
) -> ModelVersion:
    """Register an outside skops file as the next version of ``name``."""
    import skops.io as sio

    from app.core.registry.refs import check_name
    from app.core.tracking.environment import capture_environment

    check_name(name)
    info = inspect_file(path)
    trusted = {t.strip() for t in trust if t.strip()}
    missing = [t for t in info["untrusted_types"] if t not in trusted]
    if missing:
        raise InvalidInput(
            f"{path} would construct types that are not trusted by default: "
            + ", ".join(missing)
            + ". Nothing was imported.",
            hint="If you know where the file came from, trust them explicitly: "
            "--trust " + ",".join(missing),
        )
    constructs = sorted({*info["untrusted_types"], *info["known_safe_types"]})
    data = Path(path).read_bytes()
    if hashlib.sha256(data).hexdigest() != info["sha256"]:
        raise InvalidInput(f"{path} changed while it was being imported; try again.")
    try:
        model = sio.loads(data, trusted=constructs)
    except Exception as exc:
        raise InvalidInput(f"{path} could not be loaded by skops: {exc}") from exc
    if not hasattr(model, "predict"):
        raise InvalidInput(f"{path} holds a {type(model).__name__}, which cannot predict.")
    meta = info["metadata"]
    env = capture_environment()
    fields = dict(
        source="import",
        run_id=None,
        dataset_version_id=None,
        artifact_sha256=info["sha256"],
        artifact_size=info["size"],
        trusted_types=constructs,
        packages=dict(meta.get("packages") or env["packages"]),
        python_version=str(meta.get("python_version") or env["python"]),
        recipe=None,
        description=description or meta.get("description", ""),
        tags={"imported_from": Path(path).name},
        **_describe(model, meta),
    )
    pending = registry.artifacts.put_bytes(data, kind="model")
    try:
        return registry.store.write(registry._insert_version, name, fields, pending)
    except BaseException:
        if not pending.existed:
            registry.artifacts.discard(pending)
        raise
