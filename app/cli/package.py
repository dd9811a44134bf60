"""``modeldesk package NAME@V [NAME@V …] [--name N]``: build (and optionally push) a model
image — one serving several models when several versions are named — or export its build
context for a CI/CD pipeline. The build log streams to stderr."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli import add_common
from app.cli.deploy import log_sink, size_text
from app.cli.progress_bar import ProgressBar


def register(commands: Any) -> None:
    p = commands.add_parser(
        "package",
        help="build a Docker image of model versions (offline, non-root, REST server)",
        description="Build a Docker image serving registered model versions: one, or several "
        "in one server (each on its own routes; give the image a --name). The build runs "
        "with the network off from a local wheel cache; its log goes to stderr.",
    )
    p.add_argument(
        "refs", nargs="+", metavar="NAME@V", help="model versions: name, name@3 or name@alias"
    )
    p.add_argument(
        "--name", metavar="N", help="the image's name (needed for several models: --name scoring)"
    )
    p.add_argument(
        "--tag", metavar="T", help="image tag (default modeldesk/NAME:vV, or modeldesk/N:…)"
    )
    p.add_argument(
        "--base-image",
        metavar="IMG",
        help="base image with python3 (default $MODELDESK_BASE_IMAGE or python:3.11-slim)",
    )
    p.add_argument("--push", metavar="REGISTRY", help="push to this registry (host:port)")
    p.add_argument(
        "--export-context",
        metavar="DIR",
        help="write the build context here instead of building (a name ending in .tar.gz "
        "writes a tarball)",
    )
    add_common(p)
    p.set_defaults(handler=package)


def package(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    deploy = services.deployments
    refs = list(args.refs)
    with ProgressBar(f"package {' '.join(refs)}") as bar:
        sink = log_sink(bar)
        if args.export_context:
            from app.core.fsutil import check_folder

            dest = Path(args.export_context)
            check_folder(dest)  # a missing parent folder is refused before any download
            exported = deploy.export_context(
                refs,
                dest,
                name=args.name,
                tarball=dest.name.endswith((".tar", ".tar.gz", ".tgz")),
                tag=args.tag,
                base_image=args.base_image,
                progress=bar,
                on_log=sink,
            )
            payload = {
                "context": str(exported.path),
                "tag": exported.tag,
                "command": exported.command,
            }
            return payload, f"Build context written to {exported.path}\nBuild it with:\n  " + (
                exported.command
            )
        image = deploy.build_models(
            refs,
            name=args.name,
            tag=args.tag,
            base_image=args.base_image,
            progress=bar,
            on_log=sink,
        )
        pushed = deploy.push(image.id, args.push, on_log=sink) if args.push else None
    payload = image.to_dict()
    payload.pop("example", None)
    payload["pushed"] = pushed
    text = (
        f"Built {image.tag} ({image.image_id[7:19]}, {size_text(image.size)}) for {image.ref} "
        f"in {image.build_seconds:.1f} s"
    )
    if len(refs) > 1:
        text += f"\nRun it with: modeldesk deploy {args.name}"
    if pushed:
        text += f"\nPushed {pushed}"
    return payload, text
