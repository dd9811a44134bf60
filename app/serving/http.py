"""The HTTP face of the server: routes of both protocols, and one guard in front of them.

The guard is a plain ASGI wrapper (no ``BaseHTTPMiddleware``, which costs a task per call):
it gives each request an id, refuses bodies over the cap (413) and calls without the bearer
token (401, health endpoints stay open), and on the way out counts the request in
``/metrics`` and prints one JSON access-log line. Handlers take the raw ``Request`` and answer
with bytes, so no pydantic model is built on the request path. A prediction first reserves
its body's bytes from the server's budget, then reads the body within the body timeout
(``limits.py``), so memory and slow clients stay bounded.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import Response

from . import SERVER_NAME, SERVER_VERSION, jsonio, oip
from .batcher import MicroBatcher
from .errors import RequestError
from .limits import ByteBudget, read_body
from .metrics import ServerMetrics
from .model_loader import LoadedModel
from .options import ServeOptions
from .parsing import Piece, parse_mlflow
from .prediction_log import PredictionLog
from .predictor import BatchResult, PieceResult, Predictor
from .schema import Signature

JSON = "application/json"
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


def _json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonio.dumps(obj), status_code=status, media_type=JSON, headers=headers)


def _endpoint(path: str) -> str:
    known = ENDPOINTS.get(path)
    if known is not None:
        return known
    if path.startswith("/v2/models/"):
        if path.endswith("/infer"):
            return "infer"
        return "health" if path.endswith("/ready") else "metadata"
    return "other"


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or (path.startswith("/v2/models/") and path.endswith("/ready"))


class ModelServer:
    """Everything one served model needs: checks, predictor, batcher, metrics, log."""

    def __init__(self, model: LoadedModel, options: ServeOptions) -> None:
        self.model = model
        self.options = options
        self.signature = Signature(model.columns, model.pipeline)
        self.predictor = Predictor(model, self.signature)
        self.metrics = ServerMetrics(model.name, model.version, model.sha256, model.task)
        self.log: PredictionLog | None = None
        if options.log_dir:
            self.log = PredictionLog(
                options.log_dir,
                model=model.name,
                version=model.version,
                max_bytes=int(options.log_max_mb * 1024 * 1024),
            )
        self.batcher: MicroBatcher | None = None
        self.ready = False
        self.max_body = int(options.max_body_mb * 1024 * 1024)
        self.budget = ByteBudget(int(options.max_inflight_mb * 1024 * 1024), options.queue_seconds)
        self.metrics.watch_body_bytes(lambda: self.budget.in_use)
        self._token = options.token.encode() if options.token else None
        self._metadata = self._model_metadata()

    # -- start and stop ---------------------------------------------------------------------

    def warm_up(self) -> None:
        """Predict the input example once: proves the model runs here, and primes caches."""
        if not self.model.input_example:
            return
        rows = self.model.input_example
        piece = Piece([[r.get(n) for r in rows] for n in self.signature.names], len(rows))
        self.signature.check(piece.columns)
        self.predictor.predict([piece])

    @asynccontextmanager
    async def lifespan(self, app: FastAPI):
        self.batcher = MicroBatcher(
            self.predictor.predict,
            max_batch=self.options.max_batch,
            max_wait_ms=self.options.max_wait_ms,
            after_batch=self._after_batch,
        )
        self.batcher.start()
        self.ready = True
        _log_event("started", model=self.model.name, version=self.model.version)
        try:
            yield
        finally:
            self.ready = False
            await self.batcher.stop()  # in-flight requests were answered before this runs
            if self.log is not None:
                self.log.close()
            _log_event("stopped", model=self.model.name, batches=self.batcher.stats.batches)

    def _after_batch(
        self, pieces: list[Piece], ids: list[Any], result: BatchResult, seconds: float
    ) -> None:
        """On the post-batch thread: metrics of the batch and the prediction log."""
        rows = sum(p.n for p in pieces)
        self.metrics.observe_batch(rows, seconds, result.predictions)
        if self.log is None:
            return
        start = 0
        for piece, rid in zip(pieces, ids, strict=True):
            part = result.slice(start, start + piece.n)
            start += piece.n
            if not piece.logged:
                continue
            self.log.write(
                self.signature.names,
                piece.columns,
                piece.request_id or rid,
                part.predictions,
                part.proba,
                self.predictor.classes,
            )

    # -- the ASGI app -----------------------------------------------------------------------

    def asgi(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        app = FastAPI(
            title=f"{self.model.name} v{self.model.version}",
            version=SERVER_VERSION,
            lifespan=self.lifespan,
            openapi_url="/openapi.json",
        )
        self._routes(app)
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
                elif scope["method"] == "POST" and (
                    path == "/invocations" or path.endswith("/infer")
                ):
                    await self._predict_route(scope, receive, send_wrapper)
                else:
                    await app(scope, receive, send_wrapper)
            finally:
                seconds = time.perf_counter() - started
                status = state["status"]
                metrics.observe_request(_endpoint(path), status, seconds)
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
                            }
                        ).decode()
                    )

        return guarded

    def _routes(self, app: FastAPI) -> None:
        model = self.model
        from .explain import add_routes as add_explain_routes

        add_explain_routes(app, self)  # POST /explain, /v2/models/{name}/explain

        @app.exception_handler(RequestError)
        async def _request_error(request: Request, exc: RequestError) -> Response:
            return _json(exc.body(), exc.status)

        # -- health (open even with a token) ------------------------------------------------

        @app.get("/v2/health/live")
        async def live() -> Response:
            return _json({"live": True})

        @app.get("/v2/health/ready")
        async def ready() -> Response:
            return _json({"ready": self.ready}, 200 if self.ready else 503)

        @app.get("/ping")
        @app.get("/health")
        async def ping() -> Response:
            return Response(b"\n", status_code=200 if self.ready else 503, media_type=JSON)

        @app.get("/version")
        async def version() -> Response:
            return _json(
                {
                    "server": SERVER_NAME,
                    "version": SERVER_VERSION,
                    "model": model.name,
                    "model_version": model.version,
                    "sha256": model.sha256,
                }
            )

        @app.get("/metrics")
        async def metrics() -> Response:
            return Response(self.metrics.exposition(), media_type=self.metrics.content_type)

        # -- Open Inference Protocol v2 -----------------------------------------------------

        @app.get("/v2")
        async def server_metadata() -> Response:
            return _json(
                {
                    "name": SERVER_NAME,
                    "version": SERVER_VERSION,
                    "extensions": ["binary_tensor_data"],
                }
            )

        @app.get("/v2/models/{name}")
        @app.get("/v2/models/{name}/versions/{ver}")
        async def model_metadata(name: str, ver: str | None = None) -> Response:
            self._check_name(name, ver)
            return _json(self._metadata)

        @app.get("/v2/models/{name}/ready")
        @app.get("/v2/models/{name}/versions/{ver}/ready")
        async def model_ready(name: str, ver: str | None = None) -> Response:
            self._check_name(name, ver)
            return _json({"name": model.name, "ready": self.ready}, 200 if self.ready else 503)

        @app.get("/")
        async def index() -> Response:
            return _json(
                {
                    "server": SERVER_NAME,
                    "model": model.name,
                    "version": model.version,
                    "endpoints": [
                        "POST /invocations",
                        f"POST /v2/models/{model.name}/infer",
                        f"GET /v2/models/{model.name}",
                        "GET /v2/health/ready",
                        "GET /metrics",
                        "GET /docs",
                    ],
                }
            )

    # -- helpers ----------------------------------------------------------------------------

    def _check_name(self, name: str, ver: str | None) -> None:
        if name != self.model.name:
            raise RequestError(
                404, f"No model '{name}' here; this server serves '{self.model.name}'."
            )
        if ver is not None and ver != str(self.model.version):
            raise RequestError(
                404, f"Model '{name}' version {ver} is not served here; version "
                f"{self.model.version} is."
            )  # fmt: skip

    async def _predict_route(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST /invocations and /v2/models/…/infer, straight on ASGI: the hot path."""
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
        path = scope["path"]
        rid = scope["modeldesk.request_id"]
        is_oip = path != "/invocations"
        if is_oip:
            parts = path.split("/")  # ['', 'v2', 'models', NAME, ('versions', V,) 'infer']
            if len(parts) == 5:
                self._check_name(parts[3], None)
            elif len(parts) == 7 and parts[4] == "versions":
                self._check_name(parts[3], parts[5])
            else:
                raise RequestError(404, f"No such endpoint: POST {path}.")
        batcher = self.batcher
        assert batcher is not None
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
                        body, self.signature, json_size=size, has_proba=self.model.has_proba
                    )
                else:
                    ctype = _header(scope, b"content-type") or "application/json"
                    piece = parse_mlflow(body, ctype.lower(), self.signature)
                del body  # the columns hold the values now; the bytes need not wait for them
                self.signature.check(piece.columns)
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
            return self._oip_answer(piece, result, rid, reply)
        return self._mlflow_answer(result), {}

    def _mlflow_answer(self, result: PieceResult) -> bytes:
        out: dict[str, Any] = {"predictions": result.predictions.tolist()}
        if result.proba is not None:
            out["probabilities"] = result.proba.tolist()
            out["classes"] = self.predictor.classes
        return jsonio.dumps(out)

    def _oip_answer(
        self, piece: Piece, result: PieceResult, rid: str, reply: oip.Reply
    ) -> tuple[bytes, dict[str, str]]:
        outputs: list[tuple[str, np.ndarray, dict[str, Any]]] = [
            ("predict", result.predictions, {})
        ]
        if result.proba is not None:
            proba = np.asarray(result.proba, dtype=np.float64)
            outputs.append(("predict_proba", proba, {"classes": self.predictor.classes}))
        head = {
            "model_name": self.model.name,
            "model_version": str(self.model.version),
            "id": piece.request_id or rid,
            "parameters": {},
        }
        return oip.answer(head, outputs, reply)

    def _model_metadata(self) -> dict[str, Any]:
        inputs = [
            {"name": c.name, "datatype": "FP64" if c.kind == "number" else "BYTES", "shape": [-1]}
            for c in self.signature.columns
        ]
        outputs = [
            {
                "name": "predict",
                "datatype": "FP64" if self.model.task == "regression" else "BYTES",
                "shape": [-1],
            }
        ]
        if self.model.has_proba:
            outputs.append(
                {
                    "name": "predict_proba",
                    "datatype": "FP64",
                    "shape": [-1, len(self.predictor.classes)],
                }
            )
        return {
            "name": self.model.name,
            "versions": [str(self.model.version)],
            "platform": "sklearn",
            "inputs": inputs,
            "outputs": outputs,
            "parameters": {
                "task": self.model.task,
                "target": self.model.target,
                "classes": self.predictor.classes,
                "sha256": self.model.sha256,
                "run_id": self.model.run_id,
                "signature": self.model.columns,
                "input_example": self.model.input_example,
            },
        }


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _refusal(status: int, message: str) -> Response:
    return _json(RequestError(status, message).body(), status)


def _log_event(event: str, **fields: Any) -> None:
    access_log.info(
        jsonio.dumps(
            {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "kind": event, **fields}
        ).decode()
    )
