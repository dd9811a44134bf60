"""Why this answer: per-prediction attributions, one per input column, plus the expected value.

For the boosted trees of ``flavours.py`` the attributions are the library's own exact
TreeSHAP (``pred_contribs``), so the server needs no ``shap`` package and one row costs well
under a millisecond. Other tree models (forests, scikit-learn's boosting) use
``shap.TreeExplainer`` when ``shap`` is installed. The values are in the model's raw output
space — log-odds of the positive class for a binary classifier, per class for several, the
value itself for a regressor — where they add up exactly: expected value + Σ attributions =
raw output (``tests/frameworks`` checks this additivity).

The preprocessing turns one input column into several features (one-hot, missing
indicators, date parts); each feature's value is given back to the column it came from, so
a person reads one number per column they sent.

Routes: ``POST /explain`` (MLflow's request formats) and ``POST /v2/models/{name}/explain``
(Open Inference Protocol inputs), registered by ``add_routes``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from fastapi import Request  # at module level: FastAPI resolves the routes' annotations here
from fastapi.responses import Response

from .errors import RequestError


class ExplainError(Exception):
    """The model cannot be explained; the message says why and what to do."""


def explain_frame(pipeline: Any, frame: Any, columns: list[str]) -> dict[str, Any]:
    """Attributions of each row of ``frame`` (the pipeline's input) to ``columns``."""
    steps = getattr(pipeline, "steps", None)
    model = steps[-1][1] if steps else pipeline
    features = pipeline[:-1].transform(frame) if steps and len(steps) > 1 else frame
    features = np.asarray(features, dtype=np.float64)
    if hasattr(model, "contributions"):
        contribs = model.contributions(features)
        raw = model.raw_output(features)
    else:
        contribs, raw = _shap_tree(model, features)
    classes = [_plain(c) for c in getattr(model, "classes_", [])]
    owners = _owners(pipeline, columns, features.shape[1])
    per_class = contribs.ndim == 3
    out: dict[str, Any] = {
        "output": "value" if not classes else ("log_odds" if not per_class else "margin"),
        "columns": columns,
    }
    if classes and not per_class:
        out["class"] = classes[-1]  # binary: the attributions push towards this class
    if per_class:
        out["classes"] = classes
        expected = contribs[0, :, -1].tolist()
        attributions = [
            {str(c): _by_column(row[k, :-1], owners, columns) for k, c in enumerate(classes)}
            for row in contribs
        ]
    else:
        expected = float(contribs[0, -1])
        attributions = [_by_column(row[:-1], owners, columns) for row in contribs]
    out["expected_value"] = expected
    out["explanations"] = [
        {"raw": _tolist(r), "attributions": a}
        for r, a in zip(np.asarray(raw), attributions, strict=True)
    ]
    return out


def _shap_tree(model: Any, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    try:
        import shap
    except ImportError as exc:
        raise ExplainError(
            f"Explaining a {type(model).__name__} needs the shap package: "
            "pip install 'modeldesk[explain]'."
        ) from exc
    try:
        explainer = shap.TreeExplainer(model)
    except Exception as exc:  # shap raises its own kinds for a model it does not support
        raise ExplainError(
            f"shap's TreeExplainer does not support {type(model).__name__}: {exc}."
        ) from exc
    values = np.asarray(explainer.shap_values(features, check_additivity=False))
    expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
    if values.ndim == 3:  # rows × features × classes (shap ≥ 0.45)
        values = np.transpose(values, (0, 2, 1))
        base = np.broadcast_to(expected, values.shape[:2])[..., None]
        contribs = np.concatenate([values, base], axis=2)
        if contribs.shape[1] == 2:  # binary: keep the positive class
            contribs = contribs[:, 1, :]
    else:
        base = np.full((len(values), 1), expected[-1])
        contribs = np.concatenate([values, base], axis=1)
    raw = contribs.sum(axis=-1)
    return contribs, raw


def _owners(pipeline: Any, columns: list[str], width: int) -> list[int]:
    """For each feature after preprocessing, the index of the input column it came from
    (-1 when no column claims it: its value is then reported as ``(other)``)."""
    try:
        names = [str(n) for n in pipeline[:-1].get_feature_names_out()]
    except Exception:  # a step without feature names: features are the columns, in order
        return list(range(width)) if width == len(columns) else [-1] * width
    by_length = sorted(range(len(columns)), key=lambda i: -len(columns[i]))
    owners = []
    for name in names:
        bare = name.split("__", 1)[-1]
        if bare.startswith("missingindicator_"):
            bare = bare[len("missingindicator_") :]
        owner = next(
            (i for i in by_length if bare == columns[i] or bare.startswith(columns[i] + "_")),
            -1,
        )
        owners.append(owner)
    return owners


def _by_column(values: np.ndarray, owners: list[int], columns: list[str]) -> dict[str, float]:
    sums = np.zeros(len(columns) + 1)
    np.add.at(sums, np.asarray(owners), values)  # -1 lands in the last slot: "(other)"
    out = {name: float(sums[i]) for i, name in enumerate(columns)}
    if sums[-1]:
        out["(other)"] = float(sums[-1])
    return out


def _tolist(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


# -- the routes -------------------------------------------------------------------------------


def add_routes(app: Any, server: Any) -> None:
    """``POST /explain`` and ``POST /v2/models/{name}/explain`` on ``server``'s model."""
    from . import jsonio, oip
    from .parsing import parse_mlflow

    def answer(served: Any, piece: Any) -> dict[str, Any]:
        served.signature.check(piece.columns)
        frame = served.predictor.frame([piece])
        try:
            out = explain_frame(served.model.pipeline, frame, list(served.signature.names))
        except ExplainError as exc:
            raise RequestError(501, str(exc)) from exc
        predictions = np.asarray(served.model.pipeline.predict(frame)).tolist()
        for row, prediction in zip(out["explanations"], predictions, strict=True):
            row["prediction"] = prediction
        return {"model_name": served.model.name, "model_version": served.model.version, **out}

    async def run(served: Any, piece: Any) -> Response:
        body = await asyncio.to_thread(answer, served, piece)
        return Response(jsonio.dumps(body), media_type="application/json")

    @app.post("/explain")
    async def explain_mlflow(request: Request) -> Response:
        served = server.repository.only()  # a 404 naming the models when there are several
        body = await request.body()
        ctype = request.headers.get("content-type") or "application/json"
        return await run(served, parse_mlflow(body, ctype.lower(), served.signature))

    @app.post("/v2/models/{name}/explain")
    @app.post("/v2/models/{name}/versions/{ver}/explain")
    async def explain_oip(name: str, request: Request, ver: str | None = None) -> Response:
        served = server.repository.get(name, ver)
        body = await request.body()
        size = oip.header_length(
            request.headers.get(oip.HEADER_LENGTH.decode("latin-1")), len(body)
        )
        piece, _ = oip.parse_oip(
            body, served.signature, json_size=size, has_proba=served.model.has_proba
        )
        return await run(served, piece)
