"""The models one server holds, and the folder they come from (OIP's model repository).

``--bundle DIR`` is either one bundle (``DIR/model.json``) or a repository: a folder whose
sub-folders are bundles, one per model version (``DIR/churn-v3/model.json``,
``DIR/fraud-v3/…``), as a multi-model image ships them. Each bundle's ``model.json`` names
its model and version, so the folder names are free. Every bundle is loaded at start; the
repository API of Triton and MLServer (``POST /v2/repository/index``,
``/v2/repository/models/NAME/load`` and ``/unload``) reloads or drops a model's versions
while the others keep serving.

A request that names a model but no version meets its highest version (Triton's default
policy); ``/invocations`` without a model name is only for a server holding one model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RequestError
from .model_loader import META_FILE, BundleError, read_meta
from .served import ServedModel

READY = "READY"
UNAVAILABLE = "UNAVAILABLE"


@dataclass(frozen=True)
class BundleEntry:
    name: str
    version: str
    path: Path


def is_repository(folder: str | Path) -> bool:
    """A folder of bundles rather than one bundle."""
    folder = Path(folder)
    return not (folder / META_FILE).exists() and any(
        (child / META_FILE).exists() for child in _children(folder)
    )


def scan(folder: str | Path) -> list[BundleEntry]:
    """The bundles under ``folder`` (itself one, or its sub-folders), in folder-name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"The bundle folder {folder} does not exist.")
    paths = [folder] if (folder / META_FILE).exists() else [
        child for child in _children(folder) if (child / META_FILE).exists()
    ]  # fmt: skip
    if not paths:
        raise BundleError(
            f"{folder} holds no model bundle: expected {folder / META_FILE} or sub-folders "
            "that each hold one."
        )
    entries: list[BundleEntry] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in paths:
        meta = read_meta(path)
        entry = BundleEntry(str(meta.get("name") or "model"), str(meta.get("version")), path)
        key = (entry.name, entry.version)
        if key in seen:
            raise BundleError(
                f"{seen[key]} and {path} both hold {entry.name} version {entry.version}; "
                "a server holds each model version once."
            )
        seen[key] = path
        entries.append(entry)
    return entries


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []


def version_order(version: str) -> tuple[int, int | str]:
    """Numbers by value and above names, so ``10`` is above ``9``."""
    return (1, int(version)) if version.isdigit() else (0, version)


class ModelRepository:
    """Loaded models by name and version, plus the state of every bundle on disk."""

    def __init__(self, folder: str | Path, entries: list[BundleEntry]) -> None:
        self.folder = Path(folder)
        self.entries = entries
        self.models: dict[str, dict[str, ServedModel]] = {}
        self.default: dict[str, ServedModel] = {}
        self.reasons: dict[tuple[str, str], str] = {}

    # -- lookup (the request path) ----------------------------------------------------------

    def only(self) -> ServedModel:
        """The one model of a server holding one (for ``/invocations``)."""
        loaded = [m for versions in self.models.values() for m in versions.values()]
        if len(loaded) == 1:
            return loaded[0]
        if not loaded:
            raise RequestError(503, "This server holds no loaded model; load one first.")
        names = ", ".join(f"{m.name}@{m.version}" for m in loaded)
        raise RequestError(
            404,
            f"This server holds {len(loaded)} models ({names}); POST to "
            "/models/NAME/invocations or /v2/models/NAME/infer to say which.",
        )

    def get(self, name: str, version: str | None = None) -> ServedModel:
        versions = self.models.get(name)
        if versions is None:
            held = ", ".join(f"'{n}'" for n in sorted(self.models)) or "no model"
            raise RequestError(404, f"No model '{name}' here; this server serves {held}.")
        if version is None:
            return self.default[name]
        served = versions.get(version)
        if served is None:
            held = ", ".join(sorted(versions, key=version_order))
            raise RequestError(
                404, f"Model '{name}' version {version} is not served here; version {held} is."
            )
        return served

    def loaded(self) -> list[ServedModel]:
        return [m for versions in self.models.values() for m in versions.values()]

    # -- changes ----------------------------------------------------------------------------

    def put(self, served: ServedModel) -> ServedModel | None:
        """Hold ``served``; returns the one it replaces (same name and version), if any."""
        versions = self.models.setdefault(served.name, {})
        old = versions.get(served.version)
        versions[served.version] = served
        self.reasons.pop((served.name, served.version), None)
        self._pick_default(served.name)
        return old

    def drop(self, name: str) -> list[ServedModel]:
        """Stop routing to every version of ``name``; returns them (to be stopped)."""
        versions = self.models.pop(name, {})
        self.default.pop(name, None)
        for version in versions:
            self.reasons[(name, version)] = "unloaded"
        return list(versions.values())

    def _pick_default(self, name: str) -> None:
        versions = self.models[name]
        self.default[name] = versions[max(versions, key=version_order)]

    def index(self) -> list[dict[str, Any]]:
        """What ``POST /v2/repository/index`` answers: every bundle and its state."""
        out = []
        for entry in self.entries:
            loaded = entry.version in self.models.get(entry.name, {})
            # a loaded version keeps serving after a failed reload, which the reason tells
            reason = self.reasons.get((entry.name, entry.version), "")
            out.append(
                {
                    "name": entry.name,
                    "version": entry.version,
                    "state": READY if loaded else UNAVAILABLE,
                    "reason": reason,
                }
            )
        return out

    def rescan(self) -> None:
        """Read the folder again (a load may follow a bundle copied in since the start)."""
        self.entries = scan(self.folder)

    def entries_of(self, name: str) -> list[BundleEntry]:
        found = [e for e in self.entries if e.name == name]
        if not found:
            names = ", ".join(sorted({f"'{e.name}'" for e in self.entries}))
            raise RequestError(
                404, f"The repository {self.folder} holds no model '{name}'; it holds {names}."
            )
        return found
