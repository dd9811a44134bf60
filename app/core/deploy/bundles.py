"""The model bundle an image is built from, and the in-process answers it must reproduce.

The bundle (model.skops + model.json + code/) is written by ``app.core.bundle``. The expected
predictions for the input example are computed here, in this process, from the very bytes
that go into the image, so the smoke test compares the container with the validated model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.core.errors import InvalidInput


def write_bundle(registry: Any, ref: str, dest: Path) -> Path:
    """Write the bundle of the registry version ``ref`` into the empty folder ``dest``."""
    from app.core.bundle import bundle_from_version

    folder, _ = bundle_from_version(registry, ref, dest)
    return Path(folder)


def example_frame(example: list[dict[str, Any]], signature: dict[str, Any]) -> Any:
    """The input example as the DataFrame the model was trained on (dtypes of the signature)."""
    import pandas as pd

    frame = pd.DataFrame.from_records(example)
    for column in signature.get("columns") or []:
        name, dtype = column.get("name"), str(column.get("dtype") or "")
        if name not in frame:
            continue
        if dtype.startswith("datetime"):
            frame[name] = pd.to_datetime(frame[name], errors="coerce")
        elif dtype.startswith(("int", "uint", "float", "Int", "Float", "UInt")):
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
        elif dtype in ("bool", "boolean"):
            frame[name] = frame[name].astype("boolean")
    return frame


def expected_predictions(bundle: Path) -> dict[str, Any]:
    """{"rows": input example, "predictions": what the verified model answers for it}."""
    from app.core.training import model_io

    meta = json.loads((bundle / "model.json").read_text(encoding="utf-8"))
    example = list(meta.get("input_example") or [])
    if not example:
        raise InvalidInput(
            f"Model {meta.get('name')} version {meta.get('version')} has no input example, "
            "so the deployment cannot be smoke-tested.",
            hint="Register the model from a run trained by ModelDesk, which records one.",
        )
    data = (bundle / "model.skops").read_bytes()
    pipeline = model_io.loads_verified(
        data, meta["artifact_sha256"], list(meta.get("trusted_types") or [])
    )
    frame = example_frame(example, meta.get("signature") or {})
    predictions = [_plain(v) for v in pipeline.predict(frame).tolist()]
    return {"rows": example, "predictions": predictions}


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value
