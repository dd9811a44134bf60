"""``modeldesk deployments export ID --format compose|kubernetes|kserve -o DIR``."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common


def register(sub: Any) -> None:
    """Add ``export`` to the ``deployments`` subcommands."""
    p = sub.add_parser(
        "export",
        help="write a deployment as compose.yaml, Kubernetes manifests or a KServe service",
        description="Write the deployment (its images, variants, replicas, limits, health "
        "checks, token as a secret reference) for Docker Compose, Kubernetes or KServe. "
        "Every file is validated offline before it is written.",
    )
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--format", required=True, choices=("compose", "kubernetes", "kserve"))
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write into")
    add_common(p)
    p.set_defaults(handler=export)


def export(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.deploy.export_deployment import export_deployment

    result = export_deployment(services.deployments, args.id, args.format, args.output)
    lines = [f"Exported deployment {args.id} for {args.format} to {result.folder}:"]
    lines += [f"  {name:<30} {result.checks.get(name, '')}".rstrip() for name in result.files]
    return result.to_dict(), "\n".join(lines)
