"""Model bundles: the folder the model server loads (``app/serving``), in an image or not.

    model.skops   the exact verified skops bytes
    model.json    name, version, artifact_sha256, run_id, task, target, signature,
                  input_example, output, trusted_types, packages, python_version
    code/         the self-contained modules saved pipelines import by path, at the same
                  relative paths (app/core/training/transformers.py,
                  app/core/recipes/runtime.py), with empty ``__init__.py`` files on the way

A bundle comes from a registered model version (``verified_bundle``, ``bundle_from_version``)
or, for ``modeldesk serve --run``, straight from a finished run (``bundle_from_run``).

Packaging keeps one in-memory path: ``verified_bundle`` resolves the reference once and
hashes the bytes once as they are read; the ``VerifiedBundle`` then gives the image its
expected answers and writes itself once, straight into the build context. The server hashes
the file again at start, in the image, which is the check that matters there.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput, NotFound, TamperedArtifact

if TYPE_CHECKING:
    from app.core.artifacts import ArtifactStore
    from app.core.tracking import TrackingService

APP_ROOT = Path(__file__).resolve().parents[1]  # …/app
#: modules a saved pipeline may refer to by import path, relative to the app package's parent
SHIPPED_MODULES = ("app/core/training/transformers.py", "app/core/recipes/runtime.py")
MODEL_FILE, META_FILE, CODE_DIR = "model.skops", "model.json", "code"


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle in memory: model bytes already checked against ``meta['artifact_sha256']``."""

    meta: dict[str, Any]
    data: bytes
    version_id: int | None = None  # the registry's model version, when it came from there

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    @property
    def version(self) -> str:
        return str(self.meta["version"])

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def write(self, dest: str | Path) -> Path:
        """Write the bundle folder (the bytes were verified when they were read)."""
        return _write(Path(dest), self.data, self.meta)


def slug(text: str) -> str:
    """``text`` as a Docker repository or tag component (and a folder name)."""
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in text.lower()).strip(".-_")


def bundle_folder(bundle: VerifiedBundle) -> str:
    """The folder of one bundle in a folder of several (``churn-v3``), as the server reads it."""
    return f"{slug(bundle.name) or 'model'}-v{slug(bundle.version)}"


def verified_bundle(registry: Any, ref: str) -> VerifiedBundle:
    """The bundle of a registered version, resolved once and hashed once as it is read."""
    data, version = registry.model_bytes(ref)
    return VerifiedBundle(meta_from_version(version), data, getattr(version, "id", None))


def read_bundle(folder: str | Path) -> VerifiedBundle:
    """A bundle folder read back into memory, its bytes checked against its model.json."""
    folder = Path(folder)
    missing = [n for n in (MODEL_FILE, META_FILE) if not (folder / n).is_file()]
    if missing:
        raise InvalidInput(
            f"The model bundle {folder} lacks {', '.join(missing)}.",
            hint="Write the bundle again from the model version.",
        )
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{folder / META_FILE} cannot be read: {exc}.") from exc
    for key in ("name", "version", "artifact_sha256"):
        if key not in meta:
            raise InvalidInput(f"{folder / META_FILE} has no {key!r}.")
    data = (folder / MODEL_FILE).read_bytes()
    _check(data, meta)
    return VerifiedBundle(meta, data)


def write_bundle(dest: str | Path, model_bytes: bytes, meta: dict[str, Any]) -> Path:
    """Write a bundle folder (created if needed) from bytes checked here against model.json."""
    _check(model_bytes, meta)
    return _write(Path(dest), model_bytes, meta)


def _check(model_bytes: bytes, meta: dict[str, Any]) -> None:
    actual = hashlib.sha256(model_bytes).hexdigest()
    if actual != meta["artifact_sha256"]:
        raise TamperedArtifact(
            f"The model bytes hash to {actual[:12]}…, not the recorded "
            f"{meta['artifact_sha256'][:12]}…; no bundle was written.",
        )


def _write(dest: Path, model_bytes: bytes, meta: dict[str, Any]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / MODEL_FILE).write_bytes(model_bytes)
    (dest / META_FILE).write_text(json.dumps(meta, indent=1, default=str), encoding="utf-8")
    copy_code(dest / CODE_DIR)
    return dest


def copy_code(code_dir: Path) -> list[str]:
    """Copy the shipped modules that exist into ``code_dir``; returns their relative paths."""
    copied = []
    for rel in SHIPPED_MODULES:
        source = APP_ROOT.parent / rel
        if not source.is_file():
            continue  # e.g. recipes/runtime.py before the recipes area exists
        target = code_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        folder = target.parent
        while folder != code_dir:
            (folder / "__init__.py").touch(exist_ok=True)
            folder = folder.parent
        copied.append(rel)
    return copied


def meta_from_version(version: Any) -> dict[str, Any]:
    """model.json for a registry ``ModelVersion`` (the contract's field names)."""
    if hasattr(version, "bundle_meta"):  # the registry's own rendering of the contract
        return {**version.bundle_meta(), "recipe": getattr(version, "recipe", None)}
    return {
        "name": version.model_name,
        "version": version.version,
        "artifact_sha256": version.artifact_sha256,
        "run_id": version.run_id,
        "task": version.task,
        "target": version.target,
        "signature": version.signature,
        "input_example": version.input_example,
        "output": version.output,
        "trusted_types": list(version.trusted_types),
        "packages": dict(version.packages),
        "python_version": version.python_version,
        "recipe": getattr(version, "recipe", None),
    }


def bundle_from_version(registry: Any, ref: str, dest: str | Path) -> tuple[Path, Any]:
    """Bundle of a registered version (``name``, ``name@3``, ``name@champion``)."""
    data, version = registry.model_bytes(ref)
    return _write(Path(dest), data, meta_from_version(version)), version


def meta_from_run(
    tracking: TrackingService, artifacts: ArtifactStore, run_id: int
) -> tuple[dict[str, Any], bytes]:
    """model.json and verified model bytes of a finished run (before it is registered)."""
    run = tracking.get(run_id)
    art, meta_art = run.artifact(MODEL_FILE), run.artifact(META_FILE)
    if art is None or meta_art is None:
        raise NotFound(
            f"Run {run_id} has no saved model (status: {run.status}).",
            hint="Only finished training runs can be served.",
        )
    run_meta = json.loads(artifacts.open_verified(meta_art.sha256).read_bytes())
    data = artifacts.open_verified(art.sha256).read_bytes()
    env = run.env or {}
    meta = {
        "name": f"run-{run_id}",
        "version": 0,  # not registered: version 0 says so
        "artifact_sha256": art.sha256,
        "run_id": run_id,
        "task": run_meta.get("task") or run.task,
        "target": run_meta.get("target") or run.target,
        "signature": run_meta.get("inputs") or {"columns": []},
        "input_example": run_meta.get("input_example") or [],
        "output": {"task": run_meta.get("task") or run.task}
        | ({"classes": run_meta["classes"]} if run_meta.get("classes") else {}),
        "trusted_types": list(run_meta.get("trusted_types") or []),
        "packages": dict(env.get("packages") or {}),
        "python_version": env.get("python") or run_meta.get("versions", {}).get("python"),
        "recipe": (run.recipe or {}).get("recipe") if isinstance(run.recipe, dict) else None,
    }
    return meta, data


def bundle_from_run(
    tracking: TrackingService, artifacts: ArtifactStore, run_id: int, dest: str | Path
) -> Path:
    meta, data = meta_from_run(tracking, artifacts, run_id)
    return write_bundle(dest, data, meta)
