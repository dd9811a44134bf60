"""``modeldesk serve NAME@V [NAME@V …] | --run ID``: the image's model server, without Docker.

The model version (or a finished run, before it is registered) is written as a bundle to a
temporary folder — verified bytes, model.json, the shipped code — and served by the same
``app.serving`` runtime the image runs, in this process, until Ctrl+C or SIGTERM. Several
versions are written as a folder of bundles, which one server serves on per-model routes.
"""

from __future__ import annotations

import ipaddress
import sys
import tempfile
from pathlib import Path
from typing import Any

from app.cli import add_common
from app.core.errors import Conflict, InvalidInput


def register(commands: Any) -> None:
    p = commands.add_parser(
        "serve",
        help="serve a model version over HTTP without Docker",
        description="Serve a model version (NAME, NAME@3, NAME@champion) or a run's model "
        "with the same REST server as the image: Open Inference Protocol v2 and MLflow's "
        "/invocations, /metrics, validation against the signature.",
    )
    add_common(p)
    p.add_argument(
        "refs",
        nargs="*",
        metavar="ref",
        help="model versions: NAME, NAME@VERSION or NAME@ALIAS (several: one server for all)",
    )
    p.add_argument("--run", type=int, metavar="ID", help="serve a finished run's model")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--token", help="require 'Authorization: Bearer TOKEN'")
    p.add_argument("--log-dir", help="append every prediction to JSON Lines files here")
    p.add_argument("--max-batch", type=int, help="most rows in one predict call (default 128)")
    p.add_argument("--max-wait-ms", type=float, help="longest wait to fill a batch (default 2)")
    p.add_argument("--max-body-mb", type=float, help="largest request body (default 20)")
    p.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate")
    p.add_argument("--tls-key", metavar="PEM", help="the certificate's unencrypted key")
    p.add_argument(
        "--tls",
        choices=("self-signed",),
        help="serve HTTPS with a self-signed certificate ModelDesk makes (and keeps)",
    )
    from app.serving.options import add_limit_arguments

    add_limit_arguments(p)
    p.set_defaults(handler=serve)


def serve(services: Any, args: Any) -> tuple[dict[str, Any], str]:
    from app.core.bundle import bundle_folder, bundle_from_run, verified_bundle
    from app.serving.options import resolve
    from app.serving.server import BindError, bind_socket
    from app.serving.server import serve as run_server

    if bool(args.refs) == (args.run is not None):
        raise InvalidInput("Name a model version (NAME@VERSION) or a run (--run ID), not both.")
    cert, key = tls_pair(args, [args.host])
    try:  # before any work, and held: nothing can take the port before the server has it
        sock = bind_socket(args.host, args.port)
    except BindError as exc:
        kind = Conflict if "already taken" in str(exc) else InvalidInput
        raise kind(str(exc)) from None
    if not args.token and not _is_loopback(args.host):
        print(
            f"warning: serving on {args.host} without a token: anyone who can reach this "
            "machine can call the model. Pass --token TOKEN (clients then send "
            "'Authorization: Bearer TOKEN').",
            file=sys.stderr,
            flush=True,
        )
    with sock, tempfile.TemporaryDirectory(prefix="modeldesk-serve-") as tmp:
        dest = Path(tmp) / "bundle"
        if args.run is not None:
            bundle_from_run(services.tracking, services.artifacts, args.run, dest)
            label = f"run {args.run}"
        else:
            registry = _registry(services)
            bundles = [verified_bundle(registry, ref) for ref in dict.fromkeys(args.refs)]
            _check_distinct(bundles)
            if len(bundles) == 1:
                bundles[0].write(dest)
            else:  # a folder of bundles: the server serves each on its own routes
                for bundle in bundles:
                    bundle.write(dest / bundle_folder(bundle))
            label = ", ".join(b.ref for b in bundles)
        services.close()  # the server needs nothing from the store while it runs
        options = resolve(
            bundle=str(dest),
            host=args.host,
            port=args.port,
            token=args.token,
            log_dir=args.log_dir,
            max_batch=args.max_batch,
            max_wait_ms=args.max_wait_ms,
            max_body_mb=args.max_body_mb,
            max_inflight_mb=args.max_inflight_mb,
            queue_seconds=args.queue_seconds,
            body_timeout_s=args.body_timeout_s,
            tls_cert=cert,
            tls_key=key,
        )
        url = f"{'https' if cert else 'http'}://{args.host}:{args.port}"
        if cert:
            print(f"TLS certificate: {cert} (clients trust it with --cacert).", file=sys.stderr)
        print(f"Serving {label} at {url} (Ctrl+C to stop).", file=sys.stderr, flush=True)
        code = run_server(options, sock)
    if code != 0:  # the server printed its one ``error:`` line (a refused bundle, a bad port)
        from app.cli import AlreadyReported

        raise AlreadyReported(f"The server for {label} did not start.")
    return {"served": label, "url": url, "stopped": True}, ""


def _check_distinct(bundles: list[Any]) -> None:
    refs = [b.ref for b in bundles]
    twice = sorted({r for r in refs if refs.count(r) > 1})
    if twice:
        raise InvalidInput(
            f"{', '.join(twice)} is named twice (an alias and a number of one version?); "
            "name each version once."
        )


def tls_pair(args: Any, hosts: list[str]) -> tuple[str | None, str | None]:
    """The certificate and key to serve HTTPS with (checked), or (None, None) for HTTP, from
    ``--tls self-signed`` or ``--tls-cert``/``--tls-key`` (``serve`` and ``deploy``)."""
    from app.core.deploy import tls

    given = args.tls_cert is not None or args.tls_key is not None
    if args.tls and given:
        raise InvalidInput("Give either --tls self-signed or --tls-cert/--tls-key, not both.")
    if args.tls == "self-signed":
        from app.core.paths import user_data_dir

        cert, key = tls.self_signed(user_data_dir() / "tls", hosts)
        return str(cert), str(key)
    if not given:
        return None, None
    if args.tls_cert is None or args.tls_key is None:
        raise InvalidInput("TLS needs both --tls-cert and --tls-key.")
    cert, key = tls.check_pair(args.tls_cert, args.tls_key)
    return str(cert), str(key)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


def _registry(services: Any) -> Any:
    try:
        return services.registry
    except ImportError as exc:
        raise InvalidInput(
            "The model registry is not available in this build yet.",
            hint="Serve a run's model instead: modeldesk serve --run ID.",
        ) from exc
