"""``deployments export ID``: a stored deployment turned into an ``ExportSpec``, validated,
written.

Works on any deployment the store knows, running or not: an export describes what was
deployed (images, variants, replicas, limits), and needs neither the daemon nor the
containers. The files are validated before the first one is written, so a failed export
leaves the folder as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.deploy.export import ExportSpec, ExportVariant, dns_name, render, write_export
from app.core.deploy.export_validate import validate_files
from app.core.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class ExportResult:
    deployment_id: int
    format: str
    folder: Path
    files: list[str]
    checks: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment_id,
            "format": self.format,
            "folder": str(self.folder),
            "files": self.files,
            "checks": self.checks,
        }


def spec_of(deploy: Any, deployment_id: int) -> ExportSpec:
    """The export's view of deployment ``deployment_id`` (its active variants, or its image)."""
    dep = deploy.deployment(deployment_id)
    variants = []
    for v in getattr(dep, "variants", ()) or ():
        if getattr(v, "status", "active") != "active" or v.image_row_id is None:
            continue
        image = deploy.image(v.image_row_id)
        variants.append(
            ExportVariant(v.role, image.tag, image.model, image.version, v.weight, v.replicas)
        )
    if not variants:
        if dep.image_row_id is None:
            raise Conflict(
                f"Deployment {deployment_id} names no image any more (it was removed), so "
                "there is nothing to export.",
                hint="Deploy the version again, then export that deployment.",
            )
        image = deploy.image(dep.image_row_id)
        variants.append(ExportVariant("primary", image.tag, image.model, image.version))
    options = dep.options or {}
    name = dns_name(f"{variants[0].model or 'model'}-{deployment_id}")
    return ExportSpec(
        name=name,
        variants=tuple(variants),
        port=dep.port or 8080,
        bind=options.get("bind") or "127.0.0.1",
        token=bool(options.get("token")),
        cpus=options.get("cpus"),
        memory=options.get("memory"),
        max_body_mb=options.get("max_body_mb"),
        sticky=options.get("sticky"),
        tls=bool(options.get("tls_cert")),
    )


def export_deployment(deploy: Any, deployment_id: int, fmt: str, dest: str | Path) -> ExportResult:
    folder = Path(dest).expanduser()
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder} is a file; -o names the folder the export is written to.")
    if not folder.parent.is_dir():
        raise InvalidInput(
            f"The folder {folder.parent} for -o {folder.name} does not exist.",
            hint=f"Create it first (mkdir -p {folder.parent}) or write somewhere else.",
        )
    spec = spec_of(deploy, deployment_id)
    files = render(spec, fmt)
    checks = validate_files(files, fmt)
    written = write_export(files, folder)
    return ExportResult(deployment_id, fmt, folder, [p.name for p in written], checks)
