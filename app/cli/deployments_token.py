"""``modeldesk deployments token ID [--rotate]``: the token's fingerprint, or a new token.

The store keeps only the token's SHA-256; ``--rotate`` prints the new token once (on stdout,
or as ``token`` in ``--json``) and it cannot be shown again.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar


def register(sub: Any) -> None:
    """Add ``token`` to the ``deployments`` subcommands."""
    p = sub.add_parser(
        "token",
        help="show whether a deployment needs a token, or give it a new one (--rotate)",
        description="The store keeps only a digest of each deployment's token. --rotate "
        "makes a new token, restarts the deployment's container with it (same id and port, "
        "smoke-tested) and prints it once; the old token stops working.",
    )
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--rotate", action="store_true", help="make a new token and print it once")
    add_common(p)
    p.set_defaults(handler=token)


def token(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.deploy import tokens

    deploy = services.deployments
    if not args.rotate:
        dep = deploy.deployment(args.id)
        digest = tokens.stored_digest(deploy.store, args.id)
        payload = {"deployment": dep.id, "token": bool(digest), "fingerprint": digest[:12]}
        text = (
            f"Deployment {dep.id} requires a bearer token (fingerprint {digest[:12]})."
            if digest
            else f"Deployment {dep.id} takes requests without a token."
        )
        return payload, text
    with ProgressBar(f"token {args.id}") as bar:
        dep, new = tokens.rotate(deploy, args.id, progress=bar)
    if not args.json:
        print(
            f"Deployment {dep.id} has a new token; it is shown only now, keep it:",
            file=sys.stderr,
        )
    payload = {
        "deployment": dep.id,
        "token": new,
        "fingerprint": tokens.token_digest(new)[:12],
        "url": dep.url,
    }
    return payload, new
