"""Offline validation of the exports, each against its runtime's own published schema.

- Compose: the Compose Specification's JSON schema (``app/resources/schemas/compose-spec.json``,
  from github.com/compose-spec/compose-spec, Apache-2.0), and ``docker compose config`` /
  ``docker-compose config`` as well where one is installed (they read it as they would run it).
- Kubernetes: ``kubernetes-validate`` (the API's OpenAPI schemas bundled), strict, so an
  unknown or misspelt field is an error rather than silently dropped by the API server.
- KServe: the ``openAPIV3Schema`` of the ``InferenceService`` and ``ServingRuntime`` CRDs
  (``kserve-crds.json.gz``, from kserve's ``config/crd/full``), plus a strict walk that refuses
  fields the CRD does not declare (the API server would prune them without a word).

A failure is ``InvalidInput`` naming the file, the document and the field.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from app.core.errors import InvalidInput

KUBERNETES_VERSION = "1.30"


@cache
def _compose_schema() -> dict[str, Any]:
    from app import resources

    return json.loads(resources.read_text("schemas/compose-spec.json"))


@cache
def _kserve_schemas() -> dict[str, Any]:
    from app import resources

    return json.loads(gzip.decompress(resources.read_bytes("schemas/kserve-crds.json.gz")))["kinds"]


def _where(path: Any) -> str:
    return "/".join(str(p) for p in path) or "(top)"


def validate_compose(text: str, *, file: str = "compose.yaml", folder: Path | None = None) -> str:
    """Check a compose file; returns which checks ran (schema, and the CLI when present)."""
    import jsonschema
    import yaml

    data = yaml.safe_load(text)
    errors = sorted(
        jsonschema.Draft7Validator(_compose_schema()).iter_errors(data), key=lambda e: list(e.path)
    )
    if errors:
        e = errors[0]
        raise InvalidInput(
            f"{file} does not follow the Compose Specification at {_where(e.path)}: {e.message}."
        )
    checks = "compose-spec schema"
    command = compose_command()
    if command is not None and folder is not None:
        proc = subprocess.run(
            [*command, "-f", str(folder / file), "config", "--quiet"],
            capture_output=True,
            text=True,
            cwd=folder,
            env={**_env(), "MODELDESK_TOKEN": "x"},
            check=False,
            timeout=120,
        )
        if proc.returncode != 0:
            raise InvalidInput(
                f"`{' '.join(command)} config` refuses {file}: {proc.stderr.strip()[:500]}"
            )
        checks += f" + {' '.join(command)} config"
    return checks


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def compose_command() -> list[str] | None:
    """``docker compose`` (the plugin) or ``docker-compose`` (Debian's), whichever runs."""
    docker = shutil.which("docker")
    if docker:
        try:
            probe = subprocess.run(
                [docker, "compose", "version"], capture_output=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            probe = None
        if probe is not None and probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def validate_kubernetes(docs: list[dict[str, Any]], *, file: str) -> str:
    import kubernetes_validate
    from kubernetes_validate.utils import (
        SchemaNotFoundError,
        ValidationError,
        VersionNotSupportedError,
    )

    for i, doc in enumerate(docs):
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except ValidationError as exc:
            raise InvalidInput(
                f"{file}, document {i + 1} ({doc.get('kind')} {doc['metadata']['name']}) is not "
                f"valid Kubernetes {KUBERNETES_VERSION} at {_where(exc.path)}: {exc.message}."
            ) from None
        except (SchemaNotFoundError, VersionNotSupportedError) as exc:
            raise InvalidInput(f"{file}, document {i + 1}: no schema for it ({exc}).") from None
    return f"kubernetes-validate {KUBERNETES_VERSION} (strict)"


def _undeclared(value: Any, schema: dict[str, Any], path: list[Any]) -> list[str]:
    """Paths of fields the (structural) CRD schema does not declare."""
    found: list[str] = []
    if isinstance(value, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in schema:
            return found
        props = schema.get("properties")
        if props is None:
            return found
        for key, item in value.items():
            if key not in props:
                found.append(_where([*path, key]))
            else:
                found += _undeclared(item, props[key], [*path, key])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found += _undeclared(item, schema["items"], [*path, i])
    return found


def validate_kserve(docs: list[dict[str, Any]], *, file: str) -> str:
    import jsonschema

    schemas = _kserve_schemas()
    for i, doc in enumerate(docs):
        kind = doc.get("kind")
        known = schemas.get(kind)
        name = (doc.get("metadata") or {}).get("name")
        if known is None or doc.get("apiVersion") != known["apiVersion"]:
            raise InvalidInput(f"{file}, document {i + 1}: {doc.get('apiVersion')}/{kind} is no "
                               "KServe resource ModelDesk knows.")  # fmt: skip
        errors = list(jsonschema.Draft7Validator(known["schema"]).iter_errors(doc))
        if errors:
            e = errors[0]
            raise InvalidInput(
                f"{file}, document {i + 1} ({kind} {name}) breaks the KServe CRD at "
                f"{_where(e.path)}: {e.message}."
            )
        extra = _undeclared(doc, known["schema"], [])
        if extra:
            raise InvalidInput(
                f"{file}, document {i + 1} ({kind} {name}) has fields the KServe CRD does not "
                f"declare: {', '.join(extra[:5])}."
            )
    return "KServe CRD schemas (strict)"


def validate_files(files: dict[str, str], fmt: str) -> dict[str, str]:
    """File name → the checks it passed; raises on the first failure, before any write."""
    import yaml

    checks: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="modeldesk-export-") as tmp:
        folder = Path(tmp)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        for name, text in files.items():
            if not name.endswith(".yaml"):
                continue
            if fmt == "compose":
                checks[name] = validate_compose(text, file=name, folder=folder)
            elif fmt == "kubernetes":
                checks[name] = validate_kubernetes(list(yaml.safe_load_all(text)), file=name)
            else:
                checks[name] = validate_kserve(list(yaml.safe_load_all(text)), file=name)
    return checks
