"""The FastAPI routes beside the prediction path: health, metadata, ``/metrics`` and the OIP
model repository extension (index, load, unload), for one model or several."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from . import SERVER_NAME, SERVER_VERSION, jsonio
from .errors import RequestError
from .repository import version_order

if TYPE_CHECKING:
    from .http import ModelServer

JSON = "application/json"


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonio.dumps(obj), status_code=status, media_type=JSON, headers=headers)


def add_routes(app: FastAPI, server: ModelServer) -> None:
    repo = server.repository
    from .explain import add_routes as add_explain_routes

    add_explain_routes(app, server)  # POST /explain, /v2/models/{name}[/versions/V]/explain

    @app.exception_handler(RequestError)
    async def _request_error(request: Request, exc: RequestError) -> Response:
        return json_response(exc.body(), exc.status)

    # -- health (open even with a token) ----------------------------------------------------

    @app.get("/v2/health/live")
    async def live() -> Response:
        return json_response({"live": True})

    @app.get("/v2/health/ready")
    async def ready() -> Response:
        return json_response({"ready": server.ready}, 200 if server.ready else 503)

    @app.get("/ping")
    @app.get("/health")
    async def ping() -> Response:
        return Response(b"\n", status_code=200 if server.ready else 503, media_type=JSON)

    @app.get("/version")
    async def version() -> Response:
        out: dict[str, Any] = {"server": SERVER_NAME, "version": SERVER_VERSION}
        loaded = repo.loaded()
        if len(loaded) == 1:
            only = loaded[0]
            out.update(model=only.name, model_version=only.model.version, sha256=only.model.sha256)
        out["models"] = [
            {"name": m.name, "version": m.version, "sha256": m.model.sha256} for m in loaded
        ]
        return json_response(out)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(server.metrics.exposition(), media_type=server.metrics.content_type)

    # -- Open Inference Protocol v2 ---------------------------------------------------------

    @app.get("/v2")
    async def server_metadata() -> Response:
        return json_response(
            {
                "name": SERVER_NAME,
                "version": SERVER_VERSION,
                "extensions": ["binary_tensor_data", "model_repository"],
            }
        )

    @app.get("/v2/models/{name}")
    @app.get("/v2/models/{name}/versions/{ver}")
    async def model_metadata(name: str, ver: str | None = None) -> Response:
        served = repo.get(name, ver)
        meta = served.metadata
        if ver is None:
            versions = sorted(repo.models[name], key=version_order)
            meta = {**meta, "versions": versions}
        return json_response(meta)

    @app.get("/v2/models/{name}/ready")
    @app.get("/v2/models/{name}/versions/{ver}/ready")
    async def model_ready(name: str, ver: str | None = None) -> Response:
        if name not in repo.models and any(e.name == name for e in repo.entries):
            return json_response({"name": name, "ready": False}, 503)  # in the folder, unloaded
        served = repo.get(name, ver)
        ok = server.ready and served.batcher is not None
        return json_response({"name": served.name, "ready": ok}, 200 if ok else 503)

    @app.get("/")
    async def index() -> Response:
        loaded = repo.loaded()
        endpoints = ["POST /invocations"] if len(loaded) == 1 else []
        for m in loaded:
            endpoints += [
                f"POST /v2/models/{m.name}/infer",
                f"POST /v2/models/{m.name}/versions/{m.version}/infer",
                f"POST /models/{m.name}/invocations",
                f"GET /v2/models/{m.name}",
            ]
        endpoints += ["POST /v2/repository/index", "GET /v2/health/ready", "GET /metrics",
                      "GET /docs"]  # fmt: skip
        out: dict[str, Any] = {"server": SERVER_NAME}
        if len(loaded) == 1:
            out.update(model=loaded[0].name, version=loaded[0].model.version)
        out["models"] = [{"name": m.name, "version": m.version} for m in loaded]
        out["endpoints"] = endpoints
        return json_response(out)

    # -- the model repository extension (as Triton and MLServer have) -----------------------

    @app.post("/v2/repository/index")
    async def repository_index(request: Request) -> Response:
        body = await request.body()
        wanted = None
        if body.strip():
            try:
                wanted = jsonio.loads(body).get("ready")
            except (ValueError, AttributeError):
                raise RequestError(
                    400, 'The index request body must be a JSON object such as {"ready": true}.'
                ) from None
        rows = repo.index()
        if wanted is not None:
            rows = [r for r in rows if (r["state"] == "READY") == bool(wanted)]
        return json_response(rows)

    @app.post("/v2/repository/models/{name}/load")
    async def repository_load(name: str) -> Response:
        await server.load_named(name)
        return json_response({})

    @app.post("/v2/repository/models/{name}/unload")
    async def repository_unload(name: str) -> Response:
        await server.unload_named(name)
        return json_response({})
