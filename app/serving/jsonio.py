"""JSON to and from bytes: orjson when the image has it (several times faster), else json."""

from __future__ import annotations

import json
import math
from typing import Any

try:  # pragma: no cover - depends on the image
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None

if _orjson is not None:  # pragma: no cover

    def loads(data: bytes) -> Any:
        return _orjson.loads(data)

    def dumps(obj: Any) -> bytes:
        return _orjson.dumps(obj, option=_orjson.OPT_SERIALIZE_NUMPY, default=_default)

else:
    _decoder = json.JSONDecoder()
    _encoder = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=lambda o: _default(o)
    )

    def loads(data: bytes) -> Any:
        return _decoder.decode(data.decode("utf-8"))

    def dumps(obj: Any) -> bytes:
        try:
            return _encoder.encode(obj).encode("utf-8")
        except ValueError:  # NaN or infinity: JSON has no word for them, null is honest
            return json.dumps(_clean(obj), separators=(",", ":"), default=_default).encode()


def _default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj
