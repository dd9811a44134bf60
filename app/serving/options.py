"""Server settings from the command line, falling back on MODELDESK_* environment variables.

The image sets them with ``docker run -e``; ``modeldesk serve`` passes them as options.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass

ENV = {
    "token": "MODELDESK_TOKEN",
    "log_dir": "MODELDESK_LOG_DIR",
    "log_max_mb": "MODELDESK_LOG_MAX_MB",
    "max_batch": "MODELDESK_MAX_BATCH",
    "max_wait_ms": "MODELDESK_MAX_WAIT_MS",
    "max_body_mb": "MODELDESK_MAX_BODY_MB",
    "max_inflight_mb": "MODELDESK_MAX_INFLIGHT_MB",
    "queue_seconds": "MODELDESK_QUEUE_SECONDS",
    "body_timeout_s": "MODELDESK_BODY_TIMEOUT_S",
    "tls_cert": "MODELDESK_TLS_CERT",
    "tls_key": "MODELDESK_TLS_KEY",
}


@dataclass(frozen=True)
class ServeOptions:
    bundle: str = "/model"
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    log_dir: str | None = None
    log_max_mb: float = 50.0
    max_batch: int = 128
    max_wait_ms: float = 2.0
    max_body_mb: float = 20.0
    #: bytes of request bodies worked on at once: a JSON body costs about 8× its size while
    #: it is parsed and predicted, so the server's memory stays near the model's + 8× this
    max_inflight_mb: float = 32.0
    queue_seconds: float = 10.0  # a request waits this long for room, then 503
    body_timeout_s: float = 30.0  # a body not read in full by then is a 408
    graceful_seconds: float = 30.0
    tls_cert: str | None = None  # PEM certificate (chain): HTTPS instead of HTTP
    tls_key: str | None = None  # its unencrypted PEM key


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m app.serving",
        description="Serve a ModelDesk model bundle over HTTP (OIP v2 and MLflow scoring).",
    )
    p.add_argument("--bundle", default="/model", help="bundle folder (model.skops, model.json)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--token", help=f"require 'Authorization: Bearer TOKEN' (${ENV['token']})")
    p.add_argument("--log-dir", help=f"write the prediction log here (${ENV['log_dir']})")
    p.add_argument("--log-max-mb", type=float, help="rotate the prediction log at this size")
    p.add_argument("--max-batch", type=int, help="most rows in one predict call")
    p.add_argument("--max-wait-ms", type=float, help="longest wait to fill a batch under load")
    p.add_argument("--max-body-mb", type=float, help="largest request body (413 above)")
    add_limit_arguments(p)
    p.add_argument("--tls-cert", help=f"serve HTTPS with this PEM certificate (${ENV['tls_cert']})")
    p.add_argument("--tls-key", help=f"the certificate's PEM key (${ENV['tls_key']})")
    return p


def add_limit_arguments(p: argparse.ArgumentParser) -> None:
    """The memory and slow-client limits (shared with ``modeldesk serve``)."""
    p.add_argument(
        "--max-inflight-mb",
        type=float,
        help="bytes of request bodies worked on at once; more wait, then 503 (default 32)",
    )
    p.add_argument(
        "--queue-seconds", type=float, help="how long a request waits for room (default 10)"
    )
    p.add_argument(
        "--body-timeout", dest="body_timeout_s", type=float,
        help="seconds to receive a whole request body, else 408 (default 30)",
    )  # fmt: skip


def from_args(argv: Sequence[str] | None = None) -> ServeOptions:
    args = parser().parse_args(argv)
    return resolve(
        bundle=args.bundle,
        host=args.host,
        port=args.port,
        token=args.token,
        log_dir=args.log_dir,
        log_max_mb=args.log_max_mb,
        max_batch=args.max_batch,
        max_wait_ms=args.max_wait_ms,
        max_body_mb=args.max_body_mb,
        max_inflight_mb=args.max_inflight_mb,
        queue_seconds=args.queue_seconds,
        body_timeout_s=args.body_timeout_s,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )


def resolve(**given: object) -> ServeOptions:
    """Options given explicitly win; unset ones come from the environment, then defaults."""
    defaults = ServeOptions()
    values: dict[str, object] = {}
    for name in ServeOptions.__dataclass_fields__:
        value = given.get(name)
        if value is None and name in ENV:
            value = os.environ.get(ENV[name]) or None
        if value is None:
            continue
        kind = type(getattr(defaults, name))
        try:
            values[name] = kind(value) if kind in (int, float) else value
        except ValueError:
            where = ENV.get(name, name)
            raise SystemExit(f"error: {where} is {value!r}; expected a number.") from None
    options = ServeOptions(**values)  # type: ignore[arg-type]
    if options.max_batch < 1 or options.max_wait_ms < 0 or options.max_body_mb <= 0:
        raise SystemExit("error: --max-batch must be ≥ 1, --max-wait-ms ≥ 0 and --max-body-mb > 0.")
    if options.max_inflight_mb <= 0 or options.queue_seconds < 0 or options.body_timeout_s <= 0:
        raise SystemExit(
            "error: --max-inflight-mb and --body-timeout must be > 0 and --queue-seconds ≥ 0."
        )
    if (options.tls_cert is None) != (options.tls_key is None):
        raise SystemExit("error: TLS needs both --tls-cert and --tls-key (or neither).")
    return options
