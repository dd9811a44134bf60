"""Deployments: run an image, deploy a version, stop, roll back, logs, test requests, and the
``deployments`` rows.

A deployment counts as ``running`` only after its smoke test passed; a failed start leaves the
container stopped. A starting row carries its owner (host:pid) so that ``recovery`` can fail it
(and later stop its container) when its process died mid-start.

``DeploymentsMixin`` is one of the three parts of ``DeployService``; it relies on the service's
``store``, ``client()``, ``_registry()``, ``_audit()`` and on ``ImagesMixin``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.core.artifacts import owner_tag
from app.core.deploy import containers as ctr
from app.core.deploy.context import LABEL_MODEL
from app.core.deploy.daemon import docker_errors
from app.core.deploy.entities import Deployment, Image, TestResponse
from app.core.deploy.images import LogSink, _Slice
from app.core.deploy.tokens import token_digest
from app.core.errors import Conflict, InvalidInput, ModelDeskError, NotFound
from app.core.progress import NullProgress, Progress
from app.core.store.models_deploy import DeploymentRow, ImageRow

ACTIVE = ("starting", "running")
LABEL_IMAGE_ROW = "io.modeldesk.image_row"


class DeploymentsMixin:
    """Running images as containers on 127.0.0.1 and keeping their rows."""

    store: Any

    def run(
        self,
        image: int | str,
        options: ctr.RunOptions | None = None,
        *,
        progress: Progress | None = None,
        ready_timeout: float = 120.0,
    ) -> Deployment:
        """Start the image, wait until ready, smoke-test it; a failure leaves it stopped."""
        progress = progress or NullProgress()
        options = options or ctr.RunOptions()
        row = self.image(image)
        if row.status != "built":
            raise Conflict(f"Image {row.tag} is {row.status}, not built.", hint="Build it again.")
        client = self.client()
        suffix = uuid.uuid4().hex[:6]
        name = f"modeldesk-{_slug(row.model or 'model')}-{row.version or row.id}-{suffix}"
        progress.update(0.05, "Starting the container")
        container, port = ctr.start_container(
            client,
            row.image_id,
            name=name,
            options=options,
            labels={LABEL_IMAGE_ROW: str(row.id), LABEL_MODEL: row.model},
        )
        dep_id = self._insert_deployment(row, container, name, port, options)
        try:
            progress.update(0.2, "Waiting until the server is ready")
            ready = ctr.wait_ready(
                container, port, timeout=ready_timeout, progress=progress, tls_ca=options.tls_cert
            )
            progress.update(0.8, "Smoke test")
            smoke = _smoke_tests(port, row.example, options.token, options.tls_cert)
            smoke["ready_seconds"] = round(ready, 2)
            if not smoke["ok"]:
                raise ModelDeskError(
                    f"The smoke test of {row.ref} failed: {smoke['reason']}.",
                    hint="The container was stopped; it does not answer like the model that "
                    "was validated. Check the image's package versions.",
                )
        except BaseException as exc:
            ctr.stop_container(container)
            failure = {"ok": False, "reason": str(exc)[:1000]}
            self._finish_deployment(dep_id, "failed", smoke=failure)
            self._audit(
                "deployment.failed", row.ref, {"deployment": dep_id, "error": str(exc)[:300]}
            )
            raise
        deployment = self._finish_deployment(dep_id, "running", smoke=smoke, stopped=False)
        self._audit(
            "deployment.started",
            row.ref,
            {"deployment": dep_id, "port": port, "image_id": row.image_id, "smoke": "passed"},
        )
        progress.update(1.0, f"Running on {deployment.url}")
        return deployment

    def deploy(
        self,
        target: str,
        options: ctr.RunOptions | None = None,
        *,
        progress: Progress | None = None,
        on_log: LogSink | None = None,
    ) -> Deployment:
        """Run ``target``: an image ModelDesk built (tag or id), or a version, built if needed."""
        progress = progress or NullProgress()
        self.client()  # no daemon, no deployment: say so before any work
        with contextlib.suppress(NotFound):
            return self.run(self.image(target).id, options, progress=progress)
        image = self.image_for(target, progress=_Slice(progress, 0, 0.7), on_log=on_log)
        return self.run(image.id, options, progress=_Slice(progress, 0.7, 1.0))

    def image_for(
        self, target: str, *, progress: Progress | None = None, on_log: LogSink | None = None
    ) -> Image:
        """The built image of ``target`` (an image tag or id, or a version, built if needed)."""
        with contextlib.suppress(NotFound):
            return self.image(target)
        try:
            version = self._registry().resolve(target)
        except NotFound as exc:
            raise self._not_a_modeldesk_image(target) or exc from exc
        built = [i for i in self.images(include_failed=False) if i.model_version_id == version.id]
        if built and self._image_exists(built[0].image_id):
            return built[0]
        return self.build(version.ref, progress=progress, on_log=on_log)

    def stop(self, deployment_id: int) -> Deployment:
        dep = self.deployment(deployment_id)
        if dep.kind == "balanced":
            self._stop_replicas(dep.id)
        if dep.status in ACTIVE:
            container = self._container(dep)
            if container is not None:
                ctr.stop_container(container)
        stopped = self._finish_deployment(deployment_id, "stopped", stopped=True)
        self._audit("deployment.stopped", dep.model or dep.tag, {"deployment": deployment_id})
        return stopped

    def rollback(self, model: str, *, progress: Progress | None = None) -> Deployment:
        """Stop the model's current deployment and start the previous good image on its port."""
        deployments = [d for d in self.deployments() if d.model == model]
        current = next((d for d in deployments if d.status in ACTIVE), None)
        if current is None:
            raise NotFound(
                f"No deployment of {model} is running, so there is nothing to roll back."
            )
        previous = next(
            (
                d
                for d in deployments
                if d.id < current.id
                and d.image_row_id != current.image_row_id
                and d.smoke_test.get("ok")
                and d.image_row_id is not None
            ),
            None,
        )
        if previous is None or not self._image_exists(self.image(previous.image_row_id).image_id):
            raise NotFound(
                f"No earlier image of {model} ran successfully, so there is nothing to roll "
                "back to.",
            )
        token = self._token_of(current)
        options = ctr.RunOptions.from_public(current.options, port=current.port, token=token)
        self.stop(current.id)
        try:
            deployment = self.run(previous.image_row_id, options, progress=progress)
        except ModelDeskError:
            with contextlib.suppress(ModelDeskError):  # put the current one back
                self.run(current.image_row_id, options)
            raise
        self._audit(
            "deployment.rolled_back",
            model,
            {"from": current.version, "to": deployment.version, "deployment": deployment.id},
        )
        return deployment

    def logs(self, deployment_id: int, *, tail: int = 200, follow: bool = False) -> Iterator[str]:
        """The deployment's log lines; a log that ended with a stop ends, it does not fail."""
        dep = self.deployment(deployment_id)
        container = self._container(dep)
        if container is None:
            if dep.status in ACTIVE:  # removed by a stop still under way: its log has ended
                return iter(())
            raise NotFound(
                f"Deployment {deployment_id} is {dep.status}; its container was removed "
                "with its log."
            )
        return ctr.stream_logs(container, tail=tail, follow=follow)

    def test_request(
        self, deployment_id: int, rows: list[dict[str, Any]], *, protocol: str = "mlflow"
    ) -> TestResponse:
        """Send ``rows`` to a running deployment; the response and its latency."""
        dep = self.deployment(deployment_id)
        if dep.status not in ACTIVE:
            raise Conflict(f"Deployment {deployment_id} is {dep.status}, not running.")
        token = self._token_of(dep)
        model, route = dep.model, "/invocations"
        image = None
        if dep.image_row_id is not None:
            with contextlib.suppress(NotFound):
                image = self.image(dep.image_row_id)
        if image is not None and len(image.models) > 1:  # an image of several: the first's
            model = image.models[0].rpartition("@")[0]
            route = f"/models/{model}/invocations"
        if protocol == "v2":
            body: Any = {
                "inputs": [
                    {
                        "name": col,
                        "shape": [len(rows)],
                        "datatype": "BYTES"
                        if any(isinstance(r.get(col), str) for r in rows)
                        else "FP64",
                        "data": [r.get(col) for r in rows],
                    }
                    for col in (rows[0].keys() if rows else [])
                ]
            }
            path = f"/v2/models/{model}/infer"
        else:
            body, path = {"dataframe_records": rows}, route
        status, answer, latency = ctr.request(
            dep.port, "POST", path, token=token, json_body=body, tls_ca=dep.options.get("tls_cert")
        )
        return TestResponse(status, answer, round(latency, 2))

    def deployments(self, *, active_only: bool = False) -> list[Deployment]:
        with self.store.session() as s:
            stmt = select(DeploymentRow, ImageRow).outerjoin(
                ImageRow, ImageRow.id == DeploymentRow.image_row_id
            )
            if active_only:
                stmt = stmt.where(DeploymentRow.status.in_(ACTIVE))
            rows = s.execute(stmt.order_by(DeploymentRow.id.desc())).all()
            return [_deployment(d, i) for d, i in rows]

    def deployment(self, deployment_id: int) -> Deployment:
        with self.store.session() as s:
            row = s.get(DeploymentRow, int(deployment_id))
            if row is None:
                raise NotFound(f"There is no deployment {deployment_id}.")
            image = s.get(ImageRow, row.image_row_id) if row.image_row_id else None
            return _deployment(row, image)

    def _not_a_modeldesk_image(self, target: str) -> ModelDeskError | None:
        """Why ``target``, an image the daemon knows but no row of this store, cannot run.

        A deployment counts only once the container answered like the model version it was
        built from; only a ModelDesk build records that version and its expected answers.
        """
        import docker.errors as de

        with docker_errors("looking for an image"):
            try:
                found = self.client().images.get(target)
            except (de.ImageNotFound, de.APIError):
                found = None
        if found is None:
            if "@" in target or ("/" not in target and ":" not in target):
                return None  # reads as a model reference: the registry's message says it best
            return NotFound(
                f"{target!r} is neither a model version in the registry nor an image on the "
                "Docker daemon.",
                hint="Give NAME@VERSION (modeldesk models list) or the tag of an image "
                "ModelDesk built (`modeldesk package NAME@VERSION` prints it; the Deploy panel "
                "lists them).",
            )
        labels = (found.attrs.get("Config") or {}).get("Labels") or {}
        model, version = labels.get(LABEL_MODEL), labels.get("io.modeldesk.version")
        if model and version:
            return InvalidInput(
                f"Image {target!r} was built by ModelDesk for {model}@{version}, but not with "
                "this store, which has no record of it (nor of its expected answers).",
                hint=f"Build it here with `modeldesk package {model}@{version}` (or deploy "
                f"the version directly: `modeldesk deploy {model}@{version}`), or point "
                "--store at the store that built it.",
            )
        return InvalidInput(
            f"Image {target!r} was not built by ModelDesk, so there is no model version to "
            "smoke-test it against; `modeldesk deploy` only runs images ModelDesk built.",
            hint="Register the model and deploy its version (`modeldesk deploy NAME@VERSION` "
            "builds the image first), or run a foreign image yourself with `docker run`.",
        )

    def _container(self, dep: Deployment) -> Any:
        import docker.errors as de

        with docker_errors("looking for a container"):
            try:
                return self.client().containers.get(dep.container_id)
            except de.NotFound:
                return None

    def _token_of(self, dep: Deployment) -> str | None:
        """The token lives only in the container's environment, never in the store."""
        if not dep.options.get("token"):
            return None
        container = self._container(dep)
        env = (container.attrs.get("Config") or {}).get("Env") or [] if container else []
        for item in env:
            key, _, value = item.partition("=")
            if key == "MODELDESK_TOKEN":
                return value
        return None

    def _insert_deployment(
        self, image: Image, container: Any, name: str, port: int, options: ctr.RunOptions
    ) -> int:
        def write(s: Any) -> int:
            row = DeploymentRow(
                image_row_id=image.id,
                model_version_id=image.model_version_id,
                container_id=container.id,
                container_name=name,
                host="127.0.0.1",
                port=port,
                status="starting",
                options=options.public(),
                token_sha256=token_digest(options.token),
                smoke_test={},
                owner=owner_tag(),
                created_at=datetime.now(UTC),
            )
            s.add(row)
            s.flush()
            return row.id

        return self.store.write(write)

    def _finish_deployment(
        self,
        dep_id: int,
        status: str,
        *,
        smoke: dict[str, Any] | None = None,
        stopped: bool = True,
    ) -> Deployment:
        def write(s: Any) -> Deployment:
            row = s.get(DeploymentRow, dep_id)
            row.status = status
            if smoke is not None:
                row.smoke_test = smoke
            if stopped and row.stopped_at is None:
                row.stopped_at = datetime.now(UTC)
            s.flush()
            image = s.get(ImageRow, row.image_row_id) if row.image_row_id else None
            return _deployment(row, image)

        return self.store.write(write)


def _smoke_tests(
    port: int, example: dict[str, Any], token: str | None, tls_ca: str | None = None
) -> dict[str, Any]:
    """The smoke test of an image: its model's example, or each model's on its own route."""
    models = example.get("models")
    if not models:
        return ctr.smoke_test(
            port,
            example.get("rows") or [],
            example.get("predictions") or [],
            token=token,
            tls_ca=tls_ca,
        )
    results = []
    for model in models:
        result = ctr.smoke_test(
            port,
            model["rows"],
            model["predictions"],
            token=token,
            path=model["path"],
            tls_ca=tls_ca,
        )
        result["model"] = f"{model['name']}@{model['version']}"
        if not result["ok"]:
            return {**result, "reason": f"{result['model']}: {result['reason']}"}
        results.append(result)
    return {"ok": True, "models": results, "rows": sum(r["rows"] for r in results),
            "latency_ms": max(r["latency_ms"] for r in results)}  # fmt: skip


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:40] or "model"


def _deployment(row: DeploymentRow, image: ImageRow | None) -> Deployment:
    labels = (image.labels or {}) if image is not None else {}
    return Deployment(
        id=row.id,
        image_row_id=row.image_row_id,
        model_version_id=row.model_version_id,
        container_id=row.container_id,
        container_name=row.container_name,
        host=row.host,
        port=row.port,
        status=row.status,
        options=dict(row.options or {}),
        smoke_test=dict(row.smoke_test or {}),
        created_at=row.created_at,
        stopped_at=row.stopped_at,
        tag=image.tag if image is not None else "",
        model=labels.get(LABEL_MODEL, ""),
        version=labels.get("io.modeldesk.version", ""),
        kind=row.kind or "single",
        variant_id=row.variant_id,
    )
