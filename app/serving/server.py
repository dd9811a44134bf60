"""Run the server: load and verify the bundle (or each bundle of a folder), warm up, then
uvicorn until SIGTERM.

On SIGTERM (or Ctrl+C) uvicorn stops accepting connections and lets requests in flight
finish; then the lifespan drains the batcher and flushes the prediction log, and the process
exits 0. Uvicorn would otherwise re-raise the signal after shutting down, ending the process
as "killed by SIGTERM", which a container runtime reports as a failure.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import sys
import threading
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from .model_loader import BundleError
from .options import ServeOptions

if TYPE_CHECKING:
    from .http import ModelServer

EXIT_REFUSED = 1


class WarmUpError(Exception):
    """A model fails on its own input example, so it is not served."""


class BindError(Exception):
    """The address cannot be listened on; the message says why and what to do."""


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, bound before uvicorn starts (which then serves on
    it), so a bad or taken port is one sentence and exit 1, never uvicorn's own exit code
    and never a server that says one port and listens on another."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise BindError(f"Port {port} is not a TCP port; choose one from 1 to 65535.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise BindError(f"Host '{host}' is not an address this machine has ({exc}).") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise BindError(
                f"Port {port} on {host} is already taken by another program; choose another "
                "port (--port) or stop what listens there."
            ) from exc
        if exc.errno == errno.EACCES:
            raise BindError(
                f"Port {port} on {host} needs privileges this user lacks; choose a port above 1023."
            ) from exc
        raise BindError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from exc
    sock.set_inheritable(True)
    return sock


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


def build(options: ServeOptions) -> ModelServer:
    """Every bundle of ``options.bundle`` (one bundle, or a folder of them) loaded, verified
    and warmed up; ``BundleError`` or ``WarmUpError`` says which one cannot be served."""
    from .http import ModelServer
    from .repository import ModelRepository, scan

    entries = scan(options.bundle)
    server = ModelServer(ModelRepository(options.bundle, entries), options)
    for entry in entries:
        try:
            served = server.load(entry)
        except BundleError:
            raise
        except Exception as exc:
            which = f"{entry.name} version {entry.version}" if len(entries) > 1 else "the model"
            raise WarmUpError(
                f"{which} fails on its own input example ({type(exc).__name__}: {exc}); "
                "it is not served. Check that the bundle's packages match the ones it was "
                "trained with."
            ) from exc
        server.hold(served)
    return server


def serve(options: ServeOptions, sock: socket.socket | None = None) -> int:
    """Serve until told to stop, on ``sock`` if given (else bound here); returns the exit
    code (1 when the bundle is refused or the address cannot be listened on)."""
    configure_logging()
    if sock is None:
        try:
            sock = bind_socket(options.host, options.port)
        except BindError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_REFUSED
    if options.tls_cert:
        import ssl

        try:  # a bad pair is one sentence now, not uvicorn's traceback later
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(
                options.tls_cert, options.tls_key
            )
        except (OSError, ssl.SSLError) as exc:
            print(
                f"error: the TLS certificate {options.tls_cert} and key {options.tls_key} "
                f"cannot be used ({exc}); give a PEM certificate and its unencrypted key.",
                file=sys.stderr,
            )
            return EXIT_REFUSED
    try:
        server_model = build(options)
    except (BundleError, WarmUpError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    import uvicorn

    config = uvicorn.Config(
        server_model.asgi(),
        host=options.host,
        port=options.port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=int(options.graceful_seconds),
        server_header=False,
        ssl_certfile=options.tls_cert,
        ssl_keyfile=options.tls_key,
    )
    server = _uvicorn_server(config)
    with sock:
        server.run(sockets=[sock])
    return 0 if server.started else EXIT_REFUSED
