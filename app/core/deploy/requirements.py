"""Which packages go into a model image, at exactly the versions the run recorded.

The image must never give a model a different scikit-learn than the one that trained it, so
every package the server needs is pinned to the version in the run's environment. The
packages the run could not have recorded (the server's own: FastAPI, uvicorn,
prometheus_client when training ran without them) fall back to the versions installed here.
Every other recorded version becomes a constraint, so the dependencies pip pulls in
(pydantic, starlette, …) are also the run's where the run had them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from app.core.errors import InvalidInput

#: what the server imports; the model-critical ones must have been recorded with the run
SERVING_PACKAGES = (
    "scikit-learn",
    "numpy",
    "scipy",
    "pandas",
    "skops",
    "joblib",
    "threadpoolctl",
    "fastapi",
    "uvicorn",
    "prometheus-client",
)
MODEL_PACKAGES = frozenset({"scikit-learn", "numpy", "scipy", "pandas", "skops"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_VERSION = re.compile(r"^[A-Za-z0-9.+!_-]+$")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def serving_package_names() -> list[str]:
    """The model's packages plus the server's own (app/serving/requirements.txt if present)."""
    listed = Path(__file__).resolve().parents[2] / "serving" / "requirements.txt"
    if listed.is_file():
        names = []
        for line in listed.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
            if match:
                names.append(normalise(match.group(0)))
        if names:
            return list(dict.fromkeys([*SERVING_PACKAGES[:7], *names]))
    return list(SERVING_PACKAGES)


@dataclass(frozen=True)
class RequirementSet:
    """Pinned top-level requirements plus the run's other versions as constraints."""

    python: str  # "3.11"
    requirements: tuple[str, ...]  # "scikit-learn==1.9.1", …
    constraints: tuple[str, ...]

    def requirements_text(self) -> str:
        return "".join(f"{r}\n" for r in self.requirements)

    def constraints_text(self) -> str:
        return "".join(f"{c}\n" for c in self.constraints)


def requirement_set(
    packages: dict[str, str], python_version: str, *, needs: list[str] | None = None
) -> RequirementSet:
    """Pins for the image from the run's recorded ``packages`` (name → version)."""
    recorded = {normalise(k): str(v) for k, v in (packages or {}).items()}
    names = serving_package_names() + [normalise(n) for n in needs or ()]
    missing = sorted(n for n in MODEL_PACKAGES if n in names and n not in recorded)
    if missing:
        raise InvalidInput(
            "The run did not record the versions of " + ", ".join(missing) + ", so the image "
            "could not install the exact versions that trained the model.",
            hint="Train the model again with ModelDesk, which records its environment.",
        )
    pins = []
    for name in dict.fromkeys(names):
        version = recorded.get(name) or _installed(name)
        pins.append(f"{name}=={version}" if version else name)
    constraints = [
        f"{name}=={version}"
        for name, version in sorted(recorded.items())
        if name not in names and _NAME.match(name) and _VERSION.match(version)
    ]
    parts = (python_version or "3.11").split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise InvalidInput(f"The run's Python version {python_version!r} cannot be read.")
    return RequirementSet(".".join(parts[:2]), tuple(pins), tuple(constraints))


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def needs_from(version: Any) -> list[str]:
    """Extra packages a model version needs beyond the server's (pyarrow if it refers to it)."""
    types = list(getattr(version, "trusted_types", None) or [])
    if isinstance(version, dict):
        types = list(version.get("trusted_types") or [])
    needs = ["pyarrow"] if any(t.startswith("pyarrow") for t in types) else []
    packages = getattr(version, "packages", None)
    if isinstance(version, dict):
        packages = version.get("packages")
    return needs + flavour_packages(types, packages or {})


def flavour_packages(types: list[str], packages: dict[str, str]) -> list[str]:
    """The library wheels a flavour model needs (and only those: a LightGBM image gets no
    torch, no XGBoost), named as the run recorded them (``xgboost-cpu`` or ``xgboost``)."""
    from app.serving.flavours import LIBRARIES, flavour_of_type

    recorded = {normalise(k) for k in packages}
    out = []
    for flavour in dict.fromkeys(filter(None, map(flavour_of_type, types))):
        _, dists = LIBRARIES[flavour]
        out.append(next((d for d in dists if d in recorded), dists[-1]))
    return out
