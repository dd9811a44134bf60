"""A bundle folder to a loaded model, refusing anything that does not match its record.

The bundle is ``model.skops`` + ``model.json`` + ``code/`` (the modules saved pipelines
import by path). The SHA-256 of ``model.skops`` is compared with ``model.json`` before a
single byte is deserialised, and skops is given exactly the types recorded when ModelDesk
saved the file: a type outside that list means the file is not what was recorded either.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODEL_FILE = "model.skops"
META_FILE = "model.json"
CODE_DIR = "code"


class BundleError(Exception):
    """The bundle cannot be served; the message says which file and what to do."""


@dataclass
class LoadedModel:
    name: str
    version: int | str | None
    sha256: str
    run_id: int | None
    task: str
    target: str | None
    columns: list[dict[str, Any]]
    input_example: list[dict[str, Any]]
    classes: list[Any]
    pipeline: Any
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_classifier(self) -> bool:
        return self.task != "regression"

    @property
    def has_proba(self) -> bool:
        return self.is_classifier and hasattr(self.pipeline, "predict_proba")


def read_meta(bundle: Path) -> dict[str, Any]:
    path = bundle / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BundleError(f"{path} is missing; a model bundle needs model.json.") from exc
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path} cannot be read as JSON: {exc}.") from exc
    missing = [k for k in ("artifact_sha256", "signature", "task") if k not in meta]
    if missing:
        raise BundleError(f"{path} lacks {', '.join(missing)}; rebuild the bundle.")
    return meta


def verified_bytes(bundle: Path, sha256: str) -> bytes:
    path = bundle / MODEL_FILE
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise BundleError(
            f"{path} does not match model.json: its SHA-256 is {actual[:16]}…, the bundle "
            f"records {sha256[:16]}…. The file changed after packaging, so it is not served; "
            "rebuild the image or bundle from the registry."
        )
    return data


def load_bundle(bundle: str | Path) -> LoadedModel:
    """The verified model of a bundle folder; ``BundleError`` says why it cannot be served."""
    bundle = Path(bundle)
    if not bundle.is_dir():
        raise BundleError(f"The bundle folder {bundle} does not exist.")
    meta = read_meta(bundle)
    data = verified_bytes(bundle, meta["artifact_sha256"])
    add_code_path(bundle / CODE_DIR)
    pipeline = _skops_load(data, list(meta.get("trusted_types") or []), bundle)
    output = meta.get("output") or {}
    classes = output.get("classes")
    if classes is None:
        classes = list(getattr(pipeline, "classes_", []))
    return LoadedModel(
        name=str(meta.get("name") or "model"),
        version=meta.get("version"),
        sha256=meta["artifact_sha256"],
        run_id=meta.get("run_id"),
        task=str(meta["task"]),
        target=meta.get("target"),
        columns=list(meta["signature"].get("columns") or []),
        input_example=list(meta.get("input_example") or []),
        classes=[_plain(c) for c in classes or []],
        pipeline=pipeline,
        meta=meta,
    )


def add_code_path(code: Path) -> None:
    """Make the bundle's ``code/`` importable, first on ``sys.path``.

    The saved pipeline imports e.g. ``app.core.training.transformers``. This server is itself
    ``app.serving``, so the package ``app`` is already imported from elsewhere and Python
    would never look for ``app.core`` under ``code/``: each package the bundle ships that is
    already imported gets the bundle's folder added to its ``__path__``.
    """
    if not code.is_dir():
        return
    if str(code) not in sys.path:
        sys.path.insert(0, str(code))
    for init in sorted(code.rglob("__init__.py")):
        folder = init.parent
        dotted = ".".join(folder.relative_to(code).parts)
        package = sys.modules.get(dotted)
        paths = getattr(package, "__path__", None)
        if paths is not None and str(folder) not in list(paths):
            paths.append(str(folder))


def _skops_load(data: bytes, trusted: list[str], bundle: Path) -> Any:
    import skops.io as sio

    try:
        untrusted = set(sio.get_untrusted_types(data=data)) - set(trusted)
    except Exception as exc:  # skops raises many kinds for a file that is not an archive
        raise BundleError(f"{bundle / MODEL_FILE} is not a skops archive: {exc}.") from exc
    if untrusted:
        raise BundleError(
            f"{bundle / MODEL_FILE} holds types model.json does not trust: "
            f"{', '.join(sorted(untrusted))}. It is not loaded."
        )
    try:
        return sio.loads(data, trusted=sorted(set(trusted)))
    except ImportError as exc:
        raise BundleError(
            f"The model needs a module the bundle does not ship ({exc}); put it under "
            f"{bundle / CODE_DIR}."
        ) from exc


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value
