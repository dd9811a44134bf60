"""The in-process answers a model image must reproduce, from the very bytes that go into it.

The bundles themselves (``app.core.bundle.VerifiedBundle``) are read and hashed once; the
expected predictions for each input example are computed here, in this process, from those
bytes in memory, so the smoke test compares the container with the validated model without
a second read or hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput

if TYPE_CHECKING:
    from app.core.bundle import VerifiedBundle


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


def expected_predictions(bundle: VerifiedBundle) -> dict[str, Any]:
    """{"rows": input example, "predictions": what the verified model answers for it}."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    meta = bundle.meta
    example = list(meta.get("input_example") or [])
    if not example:
        raise InvalidInput(
            f"Model {bundle.name} version {bundle.version} has no input example, "
            "so the deployment cannot be smoke-tested.",
            hint="Register the model from a run trained by ModelDesk, which records one.",
        )
    try:  # skops refuses any type outside the recorded list
        pipeline = sio.loads(bundle.data, trusted=sorted(set(meta.get("trusted_types") or [])))
    except UntrustedTypesFoundException as exc:
        raise InvalidInput(
            f"{bundle.ref}'s file holds types that were not trusted when it was saved: {exc}",
            hint="Import it again, trusting those types, if you know where it came from.",
        ) from exc
    frame = example_frame(example, meta.get("signature") or {})
    predictions = [_plain(v) for v in pipeline.predict(frame).tolist()]
    return {"rows": example, "predictions": predictions}


def expected_for_image(bundles: list[VerifiedBundle]) -> dict[str, Any]:
    """The image row's ``example``: one model's as it always was; for several, one entry per
    model with the route its smoke test posts to."""
    if len(bundles) == 1:
        return expected_predictions(bundles[0])
    return {
        "models": [
            {
                "name": b.name,
                "version": b.version,
                "path": f"/models/{b.name}/versions/{b.version}/invocations",
                **expected_predictions(b),
            }
            for b in bundles
        ]
    }


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value
