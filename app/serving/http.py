"""The HTTP face of the server: one guard in front of the routes, and the prediction path.

The guard is a plain ASGI wrapper (no ``BaseHTTPMiddleware``, which costs a task per call):
it gives each request an id, refuses bodies over the cap (413) and calls without the bearer
token (401, health endpoints stay open), and on the way out counts the request in
``/metrics`` (labelled by the model it named) and prints one JSON access-log line.
Predictions (``/invocations``, ``/models/NAME/invocations``, ``/v2/models/NAME/infer``) are
answered here straight on ASGI with bytes, so no pydantic model is built on the request path;
the other routes are FastAPI's (``routes.py``). A prediction first reserves its body's bytes
from the server's budget, then reads the body within the body timeout (``limits.py``), so
memory and slow clients stay bounded whatever the number of models.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from . import SERVER_VERSION, jsonio, oip
from .errors import RequestError
from .limits import ByteBudget, read_body
from .metrics import ServerMetrics
from .model_loader import BundleError, load_bundle
from .options import ServeOptions
from .parsing import parse_mlflow
from .repository import BundleEntry, ModelRepository
from .served import ServedModel

#: ``X-Prediction-Log: skip`` keeps a request's rows out of the prediction log
SKIP_LOG_HEADER = b"x-prediction-log"
OPEN_PATHS = frozenset({"/v2/health/live", "/v2/health/ready", "/ping", "/health"})
ENDPOINTS = {
    "/invocations": "invocations",
    "/metrics": "metrics",
    "/ping": "health",
    "/health": "health",
    "/v2/health/live": "health",
    "/v2/health/ready": "health",
    "/version": "metadata",
    "/v2": "metadata",
    "/": "metadata",
}
access_log = logging.getLogger("modeldesk.serving.access")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _endpoint(path: str) -> str:
    known = ENDPOINTS.get(path)
    if known is not None:
        return known
    if path.startswith("/v2/models/"):
        if path.endswith("/infer"):
            return "infer"
        return "health" if path.endswith("/ready") else "metadata"
    if path.startswith("/models/") and path.endswith("/invocations"):
        return "invocations"
    if path.startswith("/v2/repository/"):
        return "repository"
    return "other"


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or (path.startswith("/v2/models/") and path.endswith("/ready"))


def _is_prediction(path: str) -> bool:
    return (
        path == "/invocations"
        or (path.startswith("/v2/models/") and path.endswith("/infer"))
        or (path.startswith("/models/") and path.endswith("/invocations"))
    )


def _named(path: str) -> tuple[str, str | None] | None:
    """The model (and version) a prediction path names; ``None`` for ``/invocations``."""
    parts = path.split("/")
    if parts[1] == "v2":  # ['', 'v2', 'models', NAME, ('versions', V,) 'infer']
        if len(parts) == 5:
            return parts[3], None
        if len(parts) == 7 and parts[4] == "versions":
            return parts[3], parts[5]
    elif parts[1] == "models":  # ['', 'models', NAME, ('versions', V,) 'invocations']
        if len(parts) == 4:
            return parts[2], None
        if len(parts) == 6 and parts[3] == "versions":
            return parts[2], parts[4]
    elif len(parts) == 2:
        return None
    raise RequestError(404, f"No such endpoint: POST {path}.")


class ModelServer:
    """The models of one process, the limits they share, and the ASGI app over them."""

    def __init__(self, repository: ModelRepository, options: ServeOptions) -> None:
        self.repository = repository
        self.options = options
        self.metrics = ServerMetrics()
        self.ready = False
        self.max_body = int(options.max_body_mb * 1024 * 1024)
        self.budget = ByteBudget(int(options.max_inflight_mb * 1024 * 1024), options.queue_seconds)
        self.metrics.watch_body_bytes(lambda: self.budget.in_use)
        self._token = options.token.encode() if options.token else None
        self._changing = asyncio.Lock()  # one load or unload at a time

    # -- the one model, for routes written against a server of one (they 404 on several) ----

    @property
    def model(self) -> Any:
        return self.repository.only().model

    @property
    def signature(self) -> Any:
        return self.repository.only().signature

    @property
    def predictor(self) -> Any:
        return self.repository.only().predictor

    def _check_name(self, name: str, ver: str | None) -> None:
        self.repository.get(name, ver)

    # -- loading ----------------------------------------------------------------------------

    def load(self, entry: BundleEntry) -> ServedModel:
        """Load, verify and warm up one bundle (slow: call off the event loop once serving).

        ``BundleError`` when the bundle is refused; any other exception means the model fails
        on its own input example."""
        model = load_bundle(entry.path)
        log_dir: str | Path | None = self.options.log_dir
        if log_dir and entry.path != self.repository.folder:  # one log folder per model
            log_dir = Path(log_dir) / f"{entry.name}-v{entry.version}"
        served = ServedModel(model, self.options, self.metrics, log_dir=log_dir)
        served.warm_up()
        return served

    def hold(self, served: ServedModel) -> None:
        """Route to ``served`` from now on (before serving starts)."""
        self.repository.put(served)
        self._show_models()

    def _show_models(self) -> None:
        self.metrics.show_models(
            [(m.name, m.version, m.model.sha256) for m in self.repository.loaded()]
        )

    async def load_named(self, name: str) -> list[ServedModel]:
        """``/v2/repository/models/NAME/load``: (re)load every version of NAME on disk."""
        async with self._changing:
            await asyncio.to_thread(self.repository.rescan)
            entries = self.repository.entries_of(name)
            fresh: list[ServedModel] = []
            for entry in entries:
                try:
                    fresh.append(await asyncio.to_thread(self.load, entry))
                except Exception as exc:
                    reason = (
                        str(exc)
                        if isinstance(exc, BundleError)
                        else f"it fails on its own input example ({type(exc).__name__}: {exc})"
                    )
                    self.repository.reasons[(entry.name, entry.version)] = reason
                    for served in fresh:
                        await served.stop()
                    raise RequestError(
                        400, f"Model '{name}' version {entry.version} was not loaded: {reason}"
                    ) from exc
            for served in fresh:
                served.start()
                replaced = self.repository.put(served)
                self._show_models()
                if replaced is not None:
                    await self._retire(replaced)
            _log_event("loaded", model=name, versions=[s.version for s in fresh])
            return fresh

    async def unload_named(self, name: str) -> None:
        """``/v2/repository/models/NAME/unload``: stop routing to NAME, answer what is queued."""
        async with self._changing:
            self.repository.entries_of(name)  # 404 for a name the repository never held
            dropped = self.repository.drop(name)
            self._show_models()
            for served in dropped:
                await self._retire(served)
            _log_event("unloaded", model=name)

    async def _retire(self, served: ServedModel) -> None:
        """Stop a model no request can reach any more, once the requests it has are answered."""
        deadline = time.monotonic() + self.options.body_timeout_s + self.options.queue_seconds
        while served.active and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await served.stop()

    # -- start and stop ---------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, app: FastAPI):
        for served in self.repository.loaded():
            served.start()
        self.ready = True
        for served in self.repository.loaded():
            _log_event("started", model=served.name, version=served.model.version)
        try:
            yield
        finally:
            self.ready = False
            for served in self.repository.loaded():  # in-flight requests were answered
                batches = await served.stop()
                _log_event("stopped", model=served.name, batches=batches)

    # -- the ASGI app -----------------------------------------------------------------------

    def asgi(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        from .routes import add_routes

        loaded = self.repository.loaded()
        title = f"{loaded[0].name} v{loaded[0].version}" if len(loaded) == 1 else "ModelDesk models"
        app = FastAPI(
            title=title, version=SERVER_VERSION, lifespan=self.lifespan, openapi_url="/openapi.json"
        )
        add_routes(app, self)
        return self._guard(app)

    def _guard(self, app: Any) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        token = self._token
        max_body = self.max_body
        metrics = self.metrics

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            path = scope["path"]
            headers = dict(scope["headers"])
            rid = headers.get(b"x-request-id", b"").decode("latin-1") or uuid.uuid4().hex
            scope["modeldesk.request_id"] = rid
            state = {"status": 500, "bytes": 0}
            extra_headers = [(b"x-request-id", rid.encode("latin-1"))]

            async def send_wrapper(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    state["status"] = message["status"]
                    message["headers"] = [*message.get("headers", []), *extra_headers]
                elif message["type"] == "http.response.body":
                    state["bytes"] += len(message.get("body", b""))
                await send(message)

            refusal = None
            if token is not None and not _is_open(path):
                auth = headers.get(b"authorization", b"")
                if not (auth[:7].lower() == b"bearer " and hmac.compare_digest(auth[7:], token)):
                    refusal = _refusal(
                        401, "A bearer token is required: send 'Authorization: Bearer <token>'."
                    )
                    refusal.headers["www-authenticate"] = "Bearer"
            if refusal is None:
                length = headers.get(b"content-length")
                if length is not None and length.isdigit() and int(length) > max_body:
                    refusal = _refusal(
                        413,
                        f"The request body is {int(length):,} bytes; this server takes at most "
                        f"{max_body:,}. Split the rows over several requests.",
                    )
                    refusal.headers["connection"] = "close"  # its body is never read
            try:
                if refusal is not None:
                    await refusal(scope, receive, send_wrapper)
                elif scope["method"] == "POST" and _is_prediction(path):
                    await self._predict_route(scope, receive, send_wrapper)
                else:
                    await app(scope, receive, send_wrapper)
            finally:
                seconds = time.perf_counter() - started
                status = state["status"]
                model, version = scope.get("modeldesk.model") or self._label(path)
                metrics.observe_request(_endpoint(path), status, seconds, model, version)
                if access_log.isEnabledFor(logging.INFO):
                    access_log.info(
                        jsonio.dumps(
                            {
                                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                                "kind": "access",
                                "method": scope["method"],
                                "path": path,
                                "status": status,
                                "ms": round(seconds * 1000, 3),
                                "bytes_in": int(headers.get(b"content-length", b"0") or 0),
                                "bytes_out": state["bytes"],
                                "request_id": rid,
                                "client": (scope.get("client") or ("", 0))[0],
                                **({"model": model, "model_version": version} if model else {}),
                            }
                        ).decode()
                    )

        return guarded

    def _label(self, path: str) -> tuple[str, str]:
        """The model a non-prediction path names, only if the server holds it (a path is the
        client's to choose: an unknown name must not make a new series)."""
        parts = path.split("/")
        at = 0  # where the name is in the path
        if path.startswith("/v2/models/"):
            at = 3
        elif path.startswith("/models/"):
            at = 2
        elif path.startswith("/v2/repository/models/"):
            at = 4
        if not at or len(parts) <= at or parts[at] not in self.repository.models:
            return "", ""
        name = parts[at]
        versioned = len(parts) > at + 2 and parts[at + 1] == "versions"
        served = self.repository.models[name].get(parts[at + 2]) if versioned else None
        served = served or self.repository.default.get(name)
        return (served.name, served.version) if served is not None else ("", "")

    async def _predict_route(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The hot path: every POST that asks for predictions."""
        extra: dict[str, str] = {}
        held = 0
        try:
            length = _header(scope, b"content-length")
            held = await self.budget.acquire(
                int(length) if length and length.isdigit() else self.max_body
            )
            body, extra = await self._predict_answer(scope, receive)
            status = 200
        except RequestError as exc:
            body, status, extra = jsonio.dumps(exc.body()), exc.status, exc.headers
        finally:
            self.budget.release(held)  # the answer's bytes are small; the body's are gone
        binary = "inference-header-content-length" in extra
        headers = [
            (b"content-type", b"application/octet-stream" if binary else b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((k.encode(), v.encode()) for k, v in extra.items()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _predict_answer(self, scope: Scope, receive: Receive) -> tuple[bytes, dict[str, str]]:
        named = _named(scope["path"])
        served = self.repository.only() if named is None else self.repository.get(*named)
        scope["modeldesk.model"] = (served.name, served.version)
        served.active += 1  # an unload waits for this request before it stops the batcher
        try:
            return await self._predict_with(served, scope, receive)
        finally:
            served.active -= 1

    async def _predict_with(
        self, served: ServedModel, scope: Scope, receive: Receive
    ) -> tuple[bytes, dict[str, str]]:
        path = scope["path"]
        rid = scope["modeldesk.request_id"]
        is_oip = path.startswith("/v2/")
        batcher = served.batcher
        if batcher is None:
            raise RequestError(503, f"Model '{served.name}' is not started yet; try again.")
        encoding = (_header(scope, b"content-encoding") or "identity").strip().lower()
        if encoding != "identity":
            raise RequestError(
                415,
                f"Content-Encoding '{encoding[:20]}' is not taken; send the body as it is.",
                headers={"connection": "close"},  # its body is never read
            )
        batcher.arriving += 1
        reply = None
        try:
            body = await read_body(
                receive, max_body=self.max_body, timeout=self.options.body_timeout_s
            )
            try:
                if is_oip:
                    size = oip.header_length(_header(scope, oip.HEADER_LENGTH), len(body))
                    piece, reply = oip.parse_oip(
                        body, served.signature, json_size=size, has_proba=served.model.has_proba
                    )
                else:
                    ctype = _header(scope, b"content-type") or "application/json"
                    piece = parse_mlflow(body, ctype.lower(), served.signature)
                del body  # the columns hold the values now; the bytes need not wait for them
                served.signature.check(piece.columns)
            except RequestError:
                raise
            except Exception as exc:  # a body no check foresaw is still the body's fault
                raise RequestError(
                    400, f"The request body cannot be read: {type(exc).__name__}: {exc}."
                ) from exc
            # a deploy's smoke test is not traffic: it stays out of the drift monitor's log
            piece.logged = _header(scope, SKIP_LOG_HEADER) != "skip"
        finally:
            batcher.arriving -= 1
        try:
            result = await batcher.submit(piece, rid)
        except RequestError:
            raise
        except Exception as exc:
            raise RequestError(
                500, f"The model failed on this request: {type(exc).__name__}: {exc}"
            ) from exc
        if reply is not None:
            return served.oip_answer(piece, result, rid, reply)
        return served.mlflow_answer(result), {}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _refusal(status: int, message: str) -> Any:
    from .routes import json_response

    return json_response(RequestError(status, message).body(), status)


def _log_event(event: str, **fields: Any) -> None:
    access_log.info(
        jsonio.dumps(
            {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "kind": event, **fields}
        ).decode()
    )
