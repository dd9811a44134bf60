"""Run the server: load and verify the bundle, warm up, then uvicorn until SIGTERM.

On SIGTERM (or Ctrl+C) uvicorn stops accepting connections and lets requests in flight
finish; then the lifespan drains the batcher and flushes the prediction log, and the process
exits 0. Uvicorn would otherwise re-raise the signal after shutting down, ending the process
as "killed by SIGTERM", which a container runtime reports as a failure.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Generator
from typing import Any

from .model_loader import BundleError, load_bundle
from .options import ServeOptions

EXIT_REFUSED = 1


def _uvicorn_server(config: Any) -> Any:
    """A ``uvicorn.Server`` whose signal capture does not re-raise the signal afterwards."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {s: signal.signal(s, self.handle_exit) for s in handled}
            try:
                yield
            finally:
                for s, handler in original.items():
                    signal.signal(s, handler)

    return Server(config)


def configure_logging() -> None:
    """One JSON object per line on stdout for access and lifecycle; uvicorn's own on stderr."""
    import prometheus_client

    prometheus_client.disable_created_metrics()  # *_created series only double the scrape
    access = logging.getLogger("modeldesk.serving.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False


def serve(options: ServeOptions) -> int:
    """Serve until told to stop; returns the exit code (1 when the bundle is refused)."""
    configure_logging()
    try:
        model = load_bundle(options.bundle)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    import uvicorn

    from .http import ModelServer

    server_model = ModelServer(model, options)
    try:
        server_model.warm_up()
    except Exception as exc:
        print(
            f"error: the model fails on its own input example ({type(exc).__name__}: {exc}); "
            "it is not served. Check that the bundle's packages match the ones it was "
            "trained with.",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    config = uvicorn.Config(
        server_model.asgi(),
        host=options.host,
        port=options.port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=int(options.graceful_seconds),
        server_header=False,
    )
    server = _uvicorn_server(config)
    server.run()
    return 0 if server.started else EXIT_REFUSED
