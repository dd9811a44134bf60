"""Open Inference Protocol v2 requests and answers, JSON and binary tensors alike.

Every field of the request is checked before it is used, so a malformed body is a 400 or
422 that names the tensor and the field, never a traceback: ``inputs`` a non-empty list of
objects, each with a ``name``, a ``shape`` of whole numbers ≥ 0 whose product is the number
of values, a known ``datatype``, and ``data`` (nested or flat, row-major); ``outputs`` a list
of objects naming outputs the model has; ``parameters`` objects.

The binary tensor data extension (KServe / Triton, what ``tritonclient.http`` sends by
default): with an ``Inference-Header-Content-Length: H`` header, the first H bytes are the
JSON request and the rest are the tensors whose ``parameters.binary_data_size`` says how
many bytes each takes, in the order of ``inputs``; fixed-size types are little-endian
arrays, ``BYTES`` elements a 4-byte little-endian length then the bytes. Outputs asked for
with ``parameters.binary_data`` (or all of them with the request's ``binary_data_output``)
are answered the same way.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import jsonio
from .errors import RequestError
from .parsing import Piece, decode_json, transpose, wants_proba
from .schema import Signature

#: OIP datatypes → little-endian NumPy dtypes (``BYTES`` has no fixed size)
DTYPES: dict[str, str | None] = {
    "BOOL": "|b1",
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
    "BYTES": None,
}
OUTPUTS = ("predict", "predict_proba")
HEADER_LENGTH = b"inference-header-content-length"
_LENGTH = struct.Struct("<I")


@dataclass
class Reply:
    """What the client asked of the answer: which outputs, and which of them in binary."""

    proba: bool = False
    binary: dict[str, bool] = field(default_factory=dict)
    binary_default: bool = False

    def is_binary(self, name: str) -> bool:
        return self.binary.get(name, self.binary_default)


@dataclass
class Tensor:
    name: str
    shape: list[int]
    values: list[Any]  # flat, row-major


def header_length(raw: str | None, body_size: int) -> int | None:
    """The JSON part's size from ``Inference-Header-Content-Length`` (None: all JSON)."""
    if raw is None:
        return None
    text = raw.strip()
    if not text.isdigit() or int(text) > body_size:
        raise RequestError(
            400,
            f"Inference-Header-Content-Length is '{raw[:40]}'; it must be the size in bytes "
            f"of the JSON part of the body (0–{body_size}).",
        )
    return int(text)


def parse_oip(
    body: bytes, sig: Signature, *, json_size: int | None = None, has_proba: bool = True
) -> tuple[Piece, Reply]:
    """An inference request → the model's columns (checked for shape, not yet for types)."""
    if json_size is None:
        doc, binary = decode_json(body), memoryview(b"")
    else:
        doc, binary = decode_json(body[:json_size]), memoryview(body)[json_size:]
    if not isinstance(doc, dict):
        raise RequestError(400, _NEEDS_INPUTS)
    tensors = _inputs(doc.get("inputs"), binary)
    reply = _reply(doc, has_proba)
    piece = _columns(tensors, sig)
    piece.want_proba = reply.proba
    rid = doc.get("id")
    if rid is not None and not isinstance(rid, str | int | float):
        raise RequestError(400, "The request's 'id' must be a string.")
    piece.request_id = str(rid) if rid is not None else None
    return piece, reply


_NEEDS_INPUTS = (
    "An inference request needs 'inputs': a list of tensors (name, shape, datatype, data)."
)


def _parameters(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RequestError(400, f"'parameters' of {where} must be an object.")
    return value


def _inputs(inputs: Any, binary: memoryview) -> list[Tensor]:
    if not isinstance(inputs, list) or not inputs:
        raise RequestError(400, _NEEDS_INPUTS)
    tensors, offset = [], 0
    for i, t in enumerate(inputs):
        if not isinstance(t, dict):
            raise RequestError(400, f"Input {i} is not an object (name, shape, datatype, data).")
        name = t.get("name")
        if not isinstance(name, str):
            raise RequestError(400, f"Input {i} needs a 'name' (text).")
        where = f"input tensor '{name}'"
        shape = _shape(t.get("shape"), where)
        datatype = t.get("datatype")
        if datatype is not None and (not isinstance(datatype, str) or datatype not in DTYPES):
            raise RequestError(
                400,
                f"The {where} has datatype {str(datatype)[:20]!r}; known ones are "
                f"{', '.join(DTYPES)}.",
            )
        size = _parameters(t.get("parameters"), f"the {where}").get("binary_data_size")
        if size is not None:
            if not _whole(size):
                raise RequestError(400, f"binary_data_size of the {where} must be a whole number.")
            if offset + size > len(binary):
                raise RequestError(
                    400,
                    f"The {where} says it has {size} bytes of binary data, but the body holds "
                    f"{len(binary) - offset} after the JSON part.",
                )
            if datatype is None:
                raise RequestError(400, f"The {where} has binary data, so it needs a 'datatype'.")
            values = _from_binary(binary[offset : offset + size], datatype, shape, where)
            offset += size
        else:
            if "data" not in t:
                raise RequestError(400, f"The {where} needs 'data' (or binary data).")
            values = _flatten(t["data"], where)
        expected = math.prod(shape)
        if len(values) != expected:
            raise RequestError(
                422,
                f"The {where} has shape {shape}, which is {expected} values, but holds "
                f"{len(values)}.",
                column=name,
                problem="width",
            )
        tensors.append(Tensor(name, shape, values))
    if offset != len(binary):
        raise RequestError(
            400,
            f"The body has {len(binary) - offset} bytes after the JSON part and the tensors' "
            "binary_data_size; check Inference-Header-Content-Length.",
        )
    return tensors


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _shape(shape: Any, where: str) -> list[int]:
    if not isinstance(shape, list) or not shape or not all(map(_whole, shape)):
        raise RequestError(
            400,
            f"The {where} needs a 'shape': a list of whole numbers ≥ 0, such as [rows] or "
            f"[rows, columns] (got {jsonio.dumps(shape).decode()[:60]}).",
        )
    return shape


def _flatten(data: Any, where: str) -> list[Any]:
    """Row-major values of nested lists (the common flat list costs one scan of its types)."""
    if not isinstance(data, list):
        raise RequestError(400, f"The {where} needs a list as 'data'.")
    if list not in set(map(type, data)):
        return data
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for value in stack[-1]:
            if isinstance(value, list):
                if len(stack) > 32:
                    raise RequestError(400, f"The {where} nests its 'data' too deeply.")
                stack.append(iter(value))
                break
            flat.append(value)
        else:
            stack.pop()
    return flat


def _from_binary(raw: memoryview, datatype: str, shape: list[int], where: str) -> list[Any]:
    dtype = DTYPES[datatype]
    if dtype is None:
        return _bytes_elements(raw, where)
    itemsize = np.dtype(dtype).itemsize
    if len(raw) != math.prod(shape) * itemsize:
        raise RequestError(
            400,
            f"The {where} has {len(raw)} bytes of {datatype}; shape {shape} needs "
            f"{math.prod(shape) * itemsize}.",
        )
    return np.frombuffer(raw, dtype=dtype).tolist()


def _bytes_elements(raw: memoryview, where: str) -> list[str]:
    out, at, end = [], 0, len(raw)
    data = raw.tobytes()
    while at < end:
        if at + 4 > end:
            raise RequestError(400, f"The {where}'s BYTES data ends inside an element's length.")
        (size,) = _LENGTH.unpack_from(data, at)
        at += 4
        if at + size > end:
            raise RequestError(400, f"The {where}'s BYTES data ends inside an element.")
        try:
            out.append(data[at : at + size].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise RequestError(
                400, f"The {where} has an element that is not UTF-8 text ({exc.reason})."
            ) from exc
        at += size
    return out


def _reply(doc: dict[str, Any], has_proba: bool) -> Reply:
    params = _parameters(doc.get("parameters"), "the request")
    reply = Reply(
        proba=has_proba and wants_proba(params),
        binary_default=params.get("binary_data_output") is True,
    )
    outputs = doc.get("outputs")
    if outputs is None:
        return reply
    if not isinstance(outputs, list):
        raise RequestError(400, "'outputs' must be a list of objects, each with a 'name'.")
    known = OUTPUTS if has_proba else OUTPUTS[:1]
    for o in outputs:
        name = o.get("name") if isinstance(o, dict) else None
        if not isinstance(name, str):
            raise RequestError(400, "Each requested output must be an object with a 'name'.")
        if name not in known:
            raise RequestError(
                400, f"Output '{name[:60]}' is not one of this model's: {', '.join(known)}."
            )
        binary = _parameters(o.get("parameters"), f"output '{name}'").get("binary_data")
        if binary is not None:
            reply.binary[name] = binary is True
        reply.proba = reply.proba or name == "predict_proba"
    return reply


def _columns(tensors: list[Tensor], sig: Signature) -> Piece:
    """One tensor per column ([rows] or [rows, 1]), or one [rows, columns] tensor."""
    k = len(sig.names)
    first = tensors[0]
    if len(tensors) == 1 and len(first.shape) == 2 and (k > 1 or first.name not in sig.name_set):
        n, width = first.shape
        if width != k:
            raise RequestError(
                422,
                f"Tensor '{first.name}' has {width} columns; the model takes {k}: "
                f"{', '.join(sig.names)}.",
                problem="width",
            )
        if n == 0:
            raise RequestError(422, "The request holds no rows.", problem="format")
        values = first.values
        rows = [values[i * k : (i + 1) * k] for i in range(n)]
        return Piece(transpose(rows, sig.names), n)
    for t in tensors:
        if len(t.shape) > 2 or (len(t.shape) == 2 and t.shape[1] != 1):
            raise RequestError(
                422,
                f"Tensor '{t.name}' has shape {t.shape}; a column's tensor is [rows] or "
                f"[rows, 1], and a tensor of all {k} columns is [rows, {k}].",
                column=t.name,
                problem="width",
            )
    positions = sig.order([t.name for t in tensors])
    rows = {t.shape[0] for t in tensors}
    if len(rows) != 1:
        raise RequestError(422, "Every input tensor must hold the same number of rows.")
    n = rows.pop()
    if n == 0:
        raise RequestError(422, "The request holds no rows.", problem="format")
    return Piece([tensors[p].values for p in positions], n)


# -- answers ----------------------------------------------------------------------------------


def datatype(values: np.ndarray) -> str:
    kind = values.dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in "iu":
        return "INT64"
    if kind == "f":
        return "FP64"
    return "BYTES"


def answer(
    head: dict[str, Any], outputs: Sequence[tuple[str, np.ndarray, dict[str, Any]]], reply: Reply
) -> tuple[bytes, dict[str, str]]:
    """The response body and its extra headers: JSON, or JSON then the binary outputs."""
    described, chunks = [], []
    for name, values, params in outputs:
        kind = datatype(values)
        tensor: dict[str, Any] = {"name": name, "datatype": kind, "shape": list(values.shape)}
        if reply.is_binary(name):
            raw = _to_binary(values, kind)
            tensor["parameters"] = {**params, "binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            tensor["data"] = values.ravel().tolist()
            if params:
                tensor["parameters"] = params
        described.append(tensor)
    doc = jsonio.dumps({**head, "outputs": described})
    if not chunks:
        return doc, {}
    return b"".join([doc, *chunks]), {"inference-header-content-length": str(len(doc))}


def _to_binary(values: np.ndarray, kind: str) -> bytes:
    dtype = DTYPES[kind]
    if dtype is not None:
        return np.ascontiguousarray(values, dtype=dtype).tobytes()
    parts = []
    for value in values.ravel().tolist():
        data = value if isinstance(value, bytes) else str(value).encode("utf-8")
        parts.append(_LENGTH.pack(len(data)))
        parts.append(data)
    return b"".join(parts)
