"""``modeldesk deploy NAME@V|IMAGE``: run a model image on 127.0.0.1, wait until ready and
smoke-test it against the model in ModelDesk (built first when the version has no image)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar


def register(commands: Any) -> None:
    p = commands.add_parser(
        "deploy",
        help="run a model image locally, smoke-tested against the model",
        description="Run a model version (built first if needed) or an image ModelDesk built, "
        "as a container on 127.0.0.1; it counts as deployed once its answers to the input "
        "example equal the model's.",
    )
    p.add_argument("target", metavar="NAME@V|IMAGE", help="model version, image tag or id")
    p.add_argument("--port", type=int, metavar="P", help="host port (default: a free one)")
    p.add_argument("--token", metavar="T", help="require 'Authorization: Bearer T'")
    p.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDR",
        help="host address to publish on (default 127.0.0.1; another needs --token)",
    )
    p.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate")
    p.add_argument("--tls-key", metavar="PEM", help="the certificate's unencrypted key")
    p.add_argument(
        "--tls", choices=("self-signed",), help="serve HTTPS with a certificate ModelDesk makes"
    )
    p.add_argument("--cpus", type=float, metavar="N", help="CPU limit, e.g. 1.5")
    p.add_argument("--memory", metavar="SIZE", help="memory limit, e.g. 512m or 2g")
    p.add_argument("--log-dir", metavar="DIR", help="folder for the prediction log")
    p.add_argument(
        "--canary", metavar="REF", help="a second version behind the same endpoint (HAProxy)"
    )
    p.add_argument(
        "--weight", type=int, default=10, metavar="PCT", help="the canary's percent (10)"
    )
    p.add_argument("--sticky", metavar="HEADER", help="one value of HEADER meets one variant")
    p.add_argument(
        "--replicas", type=int, default=1, metavar="N", help="containers of the primary (1)"
    )
    p.add_argument("--shadow", metavar="REF", help=argparse.SUPPRESS)
    add_common(p)
    p.set_defaults(handler=deploy)


def deploy(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.cli.serve import tls_pair
    from app.core.deploy import RunOptions

    cert, key = tls_pair(args, [args.bind])
    options = RunOptions(
        port=args.port,
        token=args.token,
        cpus=args.cpus,
        memory=args.memory,
        log_dir=args.log_dir,
        bind=args.bind,
        tls_cert=cert,
        tls_key=key,
    )
    if args.shadow:
        from app.core.errors import InvalidInput

        raise InvalidInput(
            "--shadow is not available yet in this build.",
            hint="Deploy the candidate as a --canary with a small --weight instead.",
        )
    balanced = args.canary or args.replicas != 1 or args.sticky
    with ProgressBar(f"deploy {args.target}") as bar:
        if balanced:
            dep = services.deployments.deploy_variants(
                args.target,
                canary=args.canary,
                weight=args.weight,
                sticky=args.sticky,
                replicas=args.replicas,
                options=options,
                progress=bar,
                on_log=log_sink(bar),
            )
        else:
            dep = services.deployments.deploy(
                args.target, options, progress=bar, on_log=log_sink(bar)
            )
    return dep.to_dict(), "\n".join(deployment_lines(dep))


# -- shared with `modeldesk package` and `modeldesk deployments` ------------------------------


def log_sink(bar: ProgressBar) -> Callable[[str], None]:
    """Build and pull lines go to stderr (stdout stays for --json), above the progress bar."""

    def write(line: str) -> None:
        if getattr(bar, "_bar", None) is not None:
            from tqdm import tqdm

            tqdm.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    return write


def size_text(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size else "-"


def deployment_lines(dep: Any) -> list[str]:
    smoke = dep.smoke_test or {}
    lines = [
        f"Deployment {dep.id}  {dep.model}@{dep.version}  {dep.status}",
        f"  url        {dep.url}",
        f"  image      {dep.tag}",
        f"  container  {dep.container_name} ({dep.container_id[:12]})",
    ]
    if smoke:
        verdict = "passed" if smoke.get("ok") else f"FAILED — {smoke.get('reason', '')}"
        lines.append(
            f"  smoke test {verdict} ({smoke.get('rows', 0)} rows, "
            f"{smoke.get('latency_ms', '-')} ms)"
        )
    if dep.options.get("token"):
        lines.append("  auth       bearer token required")
    if dep.options.get("sticky"):
        lines.append(f"  sticky     {dep.options['sticky']}")
    lines += [f"  variant    {variant_line(v)}" for v in dep.variants]
    return lines


def variant_line(v: Any) -> str:
    reason = f" — {v.reason}" if v.reason and v.status != "active" else ""
    return (
        f"{v.role:<8} {v.ref:<20} {v.weight:>3} %  {len(v.replica_ids)}/{v.replicas} replicas  "
        f"{v.status}{reason}"
    )
