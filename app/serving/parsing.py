"""Request bodies of both protocols → the model's columns as lists, in signature order.

No pydantic on this path: the bytes are decoded once (orjson when present) and reshaped with
``zip``/``itemgetter``, which run in C. Every shape MLflow's scoring server accepts is taken
(``dataframe_split``, ``dataframe_records``, ``instances``, ``inputs``, ``text/csv``), and
the Open Inference Protocol v2's in ``oip.py``. Every field is type-checked before use, so
a malformed body is a 400/422 with a sentence, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from . import jsonio
from .errors import RequestError
from .schema import Signature

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


@dataclass
class Piece:
    """One request's rows, checked: ``columns[j]`` holds column j's values for every row."""

    columns: list[Sequence[Any]]
    n: int
    want_proba: bool = False
    request_id: str | None = None
    logged: bool = True  # False for traffic that is not real (a deploy's smoke test)


def decode_json(body: bytes) -> Any:
    if not body:
        raise RequestError(400, "The request body is empty; send JSON.", problem="format")
    try:
        return jsonio.loads(body)
    except (ValueError, RecursionError) as exc:  # orjson: JSONDecodeError; json: nesting
        raise RequestError(400, f"The request body is not valid JSON: {exc}.") from exc


def parse_mlflow(body: bytes, content_type: str, sig: Signature) -> Piece:
    """``POST /invocations``: JSON in any of MLflow's four shapes, or CSV."""
    if content_type.startswith("text/csv"):
        return parse_csv(body, sig)
    if content_type and not content_type.startswith("application/json"):
        raise RequestError(
            415,
            f"Content type '{content_type}' is not supported; send application/json "
            "(dataframe_split, dataframe_records, instances or inputs) or text/csv.",
        )
    doc = decode_json(body)
    if not isinstance(doc, dict):
        raise RequestError(400, _MLFLOW_HELP)
    keys = [k for k in MLFLOW_KEYS if k in doc]
    if len(keys) != 1:
        raise RequestError(400, _MLFLOW_HELP)
    key = keys[0]
    data = doc[key]
    params = doc.get("params") or {}
    want = isinstance(params, dict) and wants_proba(params)
    if key == "dataframe_split":
        if not isinstance(data, dict) or "data" not in data:
            raise RequestError(400, "dataframe_split needs {'columns': [...], 'data': [[...]]}.")
        rows = data["data"]
        names = data.get("columns")
        piece = from_rows(rows, sig) if names is None else from_named_rows(names, rows, sig)
    elif key == "dataframe_records":
        piece = from_records(data, sig)
    else:  # instances / inputs: records, rows, or a mapping of columns
        piece = from_any(data, sig)
    piece.want_proba = want
    return piece


_MLFLOW_HELP = (
    "The body must be a JSON object with exactly one of dataframe_split, dataframe_records, "
    "instances or inputs (MLflow's scoring format), or text/csv."
)


def wants_proba(params: dict[str, Any]) -> bool:
    return bool(params.get("probabilities")) or params.get("predict_method") == "predict_proba"


def from_any(data: Any, sig: Signature) -> Piece:
    if isinstance(data, dict):
        return from_mapping(data, sig)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return from_records(data, sig)
    if isinstance(data, list):
        return from_rows(data, sig)
    raise RequestError(400, "instances/inputs must be a list of rows or records, or an object.")


def from_records(records: Any, sig: Signature) -> Piece:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise RequestError(400, "dataframe_records must be a list of objects, one per row.")
    if not records:
        raise RequestError(422, "The request holds no rows.", problem="format")
    k = len(sig.names)
    getter = itemgetter(*sig.names)
    try:
        if set(map(len, records)) != {k}:
            raise KeyError
        rows = list(map(getter, records))
    except KeyError:
        bad = next(r for r in records if r.keys() != sig.name_set)
        sig.order(list(bad))  # raises the 422 naming the missing or extra column
        raise  # pragma: no cover - order() always raises here
    if k == 1:
        return Piece([list(rows)], len(rows))
    return Piece(list(zip(*rows, strict=True)), len(rows))


def from_named_rows(names: Any, rows: Any, sig: Signature) -> Piece:
    if not isinstance(names, list) or not isinstance(rows, list):
        raise RequestError(400, "dataframe_split needs 'columns' and 'data' lists.")
    positions = sig.order([str(n) for n in names])
    cols = transpose(rows, [str(n) for n in names])
    return Piece([cols[p] for p in positions], len(rows))


def from_rows(rows: Any, sig: Signature) -> Piece:
    """Rows without names: values in the order of the model's columns."""
    if not isinstance(rows, list):
        raise RequestError(400, "Rows must be a list of lists.")
    return Piece(transpose(rows, sig.names), len(rows))


def transpose(rows: list[Any], names: list[str]) -> list[Sequence[Any]]:
    k = len(names)
    if not rows:
        raise RequestError(422, "The request holds no rows.", problem="format")
    if k == 1 and not isinstance(rows[0], list):
        return [rows]
    if not all(isinstance(r, list) for r in rows):
        raise RequestError(400, "Each row must be a list of values.")
    widths = set(map(len, rows))
    if widths != {k}:
        bad = next(len(r) for r in rows if len(r) != k)
        raise RequestError(
            422,
            f"A row has {bad} values; the model takes {k} columns in this order: "
            f"{', '.join(names)}.",
            problem="width",
        )
    return list(zip(*rows, strict=True))


def from_mapping(data: dict[str, Any], sig: Signature) -> Piece:
    """``{"col": [v, …], …}`` (or one value per column for a single row)."""
    names = list(data)
    positions = sig.order(names)
    values = list(data.values())
    if not any(isinstance(v, list) for v in values):
        return Piece([[values[p]] for p in positions], 1)
    lengths = {len(v) if isinstance(v, list) else -1 for v in values}
    if len(lengths) != 1 or -1 in lengths:
        raise RequestError(422, "Every column must hold a list of the same length.")
    return Piece([values[p] for p in positions], lengths.pop())


def parse_csv(body: bytes, sig: Signature) -> Piece:
    import io

    import pandas as pd

    if not body.strip():
        raise RequestError(400, "The CSV body is empty; send a header row and data rows.")
    try:
        frame = pd.read_csv(io.BytesIO(body))
    except Exception as exc:  # pandas' parsers raise many kinds; every one is the body's fault
        raise RequestError(400, f"The CSV body cannot be read: {exc}.") from exc
    positions = sig.order([str(c) for c in frame.columns])
    if not len(frame):
        raise RequestError(422, "The CSV holds a header but no rows.", problem="format")
    columns = [frame.iloc[:, p].tolist() for p in positions]
    return Piece(columns, len(frame))
