"""``modeldesk deployments list|logs ID|stop ID|rollback NAME|promote ID|abort ID|scale ID N``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli import add_common
from app.cli.deploy import deployment_lines, variant_line
from app.cli.progress_bar import ProgressBar


def register(commands: Any) -> None:
    group = commands.add_parser("deployments", help="list, follow, stop and roll back deployments")
    sub = group.add_subparsers(dest="action", required=True, parser_class=type(group))

    p = sub.add_parser("list", help="deployments, checked against the Docker daemon")
    p.add_argument("--all", action="store_true", help="include stopped and failed ones")
    add_common(p)
    p.set_defaults(handler=list_)

    p = sub.add_parser("logs", help="a deployment's container log")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--tail", type=int, default=200, metavar="N")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    add_common(p)
    p.set_defaults(handler=logs)

    p = sub.add_parser("stop", help="stop a deployment (its container is removed)")
    p.add_argument("id", type=int, metavar="ID")
    add_common(p)
    p.set_defaults(handler=stop)

    p = sub.add_parser(
        "rollback", help="stop the model's current deployment, start its previous good image"
    )
    p.add_argument("name", metavar="NAME")
    add_common(p)
    p.set_defaults(handler=rollback)

    p = sub.add_parser("promote", help="move all traffic of a deployment to its canary")
    p.add_argument("id", type=int, metavar="ID")
    add_common(p)
    p.set_defaults(handler=promote)

    p = sub.add_parser("abort", help="move all traffic of a deployment back to its primary")
    p.add_argument("id", type=int, metavar="ID")
    add_common(p)
    p.set_defaults(handler=abort)

    p = sub.add_parser("scale", help="change the primary's replicas live")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("replicas", type=int, metavar="N")
    add_common(p)
    p.set_defaults(handler=scale)

    from app.cli import deployments_export, deployments_token

    deployments_export.register(sub)  # export and token: their own modules
    deployments_token.register(sub)


def list_(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    deploy = services.deployments
    deploy.client()  # the statuses are only as good as the daemon's answer: say if it is gone
    deploy.reconcile()
    deploy.check_fallbacks()  # canaries the balancer took out of the rotation are recorded
    rows = [
        deploy.balanced(d.id) if d.kind == "balanced" else d
        for d in deploy.deployments(active_only=not args.all)
        if d.variant_id is None  # replicas are listed under their deployment
    ]
    payload = {"deployments": [d.to_dict() for d in rows]}
    if not rows:
        return payload, "No deployments." if args.all else "No deployment is running."
    header = f"{'ID':>4}  {'MODEL':<24} {'STATUS':<9} {'URL':<24} IMAGE"
    lines = [header] + [
        f"{d.id:>4}  {(d.model + '@' + d.version):<24} {d.status:<9} {d.url:<24} {d.tag}"
        + "".join(f"\n      {variant_line(v)}" for v in d.variants)
        for d in rows
    ]
    return payload, "\n".join(lines)


def logs(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    lines = services.deployments.logs(args.id, tail=args.tail, follow=args.follow)
    if args.json:
        return {"id": args.id, "lines": list(lines)}, ""
    for line in lines:  # streamed as they come (with --follow until Ctrl+C)
        print(line, flush=True)
    return None, ""


def stop(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    dep = services.deployments.stop(args.id)
    return dep.to_dict(), f"Stopped deployment {dep.id} ({dep.model}@{dep.version})."


def rollback(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    with ProgressBar(f"rollback {args.name}") as bar:
        dep = services.deployments.rollback(args.name, progress=bar)
    print(f"Rolled {args.name} back to version {dep.version}.", file=sys.stderr)
    return dep.to_dict(), "\n".join(deployment_lines(dep))


def promote(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    dep = services.deployments.promote(args.id)
    return dep.to_dict(), "\n".join(deployment_lines(dep))


def abort(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    dep = services.deployments.abort(args.id)
    return dep.to_dict(), "\n".join(deployment_lines(dep))


def scale(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    dep = services.deployments.scale(args.id, args.replicas)
    return dep.to_dict(), "\n".join(deployment_lines(dep))
