"""Packaging and deployment of registered model versions on the local Docker daemon.

``DeployService`` is the one place that talks to Docker for ModelDesk (the panel and the CLI
call it through the job runner). Images are rows of ``model_images``: a row is ``building``
while the daemon works, ``built`` once the image exists, ``failed`` with the failing lines
otherwise (a cancelled build leaves no row). Deployments are rows of ``deployments``; one
counts as ``running`` only after its smoke test passed.

Both kinds of row carry their owner (host:pid) while in flight, as the artifact store's pending
rows do: a process killed mid-build or mid-start cannot finish its row, so ``recover`` (run when
the service is built) fails ``building``/``starting`` rows whose owner is gone, and
``reconcile`` later stops a container such a dead start left running.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.core.artifacts import _owner_is_dead, owner_tag
from app.core.deploy import containers as ctr
from app.core.deploy.builder import build_image
from app.core.deploy.bundles import expected_predictions, write_bundle
from app.core.deploy.context import LABEL_MODEL, default_tag, read_bundle_meta, write_context
from app.core.deploy.context import export_tarball as _export_tarball
from app.core.deploy.daemon import connect, docker_errors
from app.core.deploy.entities import Deployment, ExportedContext, Image, TestResponse
from app.core.deploy.requirements import needs_from, requirement_set
from app.core.deploy.wheels import WheelCache
from app.core.errors import (
    Cancelled,
    Conflict,
    DockerUnavailable,
    InvalidInput,
    ModelDeskError,
    NotFound,
)
from app.core.owners import describe
from app.core.progress import NullProgress, Progress
from app.core.store import Store
from app.core.store.models_deploy import DeploymentRow, ImageRow

LogSink = Callable[[str], None]
ACTIVE = ("starting", "running")
LABEL_IMAGE_ROW = "io.modeldesk.image_row"


def default_base_image() -> str:
    return os.environ.get("MODELDESK_BASE_IMAGE") or (
        f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"
    )


class DeployService:
    def __init__(
        self,
        store: Store,
        artifacts: Any,
        registry: Any = None,
        *,
        base_image: str | None = None,
        wheel_cache: Path | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.registry = registry
        self._base_image = base_image
        cache = wheel_cache or os.environ.get("MODELDESK_WHEEL_CACHE")
        self.wheels = WheelCache(Path(cache) if cache else store.artifacts_dir.parent / "wheels")
        self._client: Any = None
        self._lock = threading.Lock()
        self.recover()

    # -- the daemon -----------------------------------------------------------------------

    @property
    def base_image(self) -> str:
        return self._base_image or default_base_image()

    def client(self) -> Any:
        """The Docker client, connected on first use (``DockerUnavailable`` if it cannot)."""
        with self._lock:
            if self._client is None:
                self._client = connect()
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._client.close()
                self._client = None

    # -- building ---------------------------------------------------------------------------

    def build(
        self,
        ref: str,
        *,
        tag: str | None = None,
        base_image: str | None = None,
        progress: Progress | None = None,
        on_log: LogSink | None = None,
    ) -> Image:
        """Build the image of the registry version ``ref`` (``name@3``, ``name@champion``)."""
        self.client()  # no daemon, no build: say so before any work
        version = self._registry().resolve(ref)
        with tempfile.TemporaryDirectory(prefix="modeldesk-bundle-") as tmp:
            bundle = write_bundle(self._registry(), version.ref, Path(tmp) / "bundle")
            return self.build_bundle(
                bundle,
                model_version_id=version.id,
                tag=tag,
                base_image=base_image,
                progress=progress,
                on_log=on_log,
            )

    def build_bundle(
        self,
        bundle: Path,
        *,
        model_version_id: int | None = None,
        tag: str | None = None,
        base_image: str | None = None,
        progress: Progress | None = None,
        on_log: LogSink | None = None,
    ) -> Image:
        """Build an image from a bundle folder (model.skops, model.json, code/)."""
        progress = progress or NullProgress()
        base = base_image or self.base_image
        meta = read_bundle_meta(bundle)
        client = self.client()
        progress.update(0.0, "Checking the model")
        example = expected_predictions(bundle)
        reqs = requirement_set(
            meta.get("packages") or {}, meta.get("python_version") or "", needs=needs_from(meta)
        )
        wheels = self.wheels.ensure(reqs, progress=_Slice(progress, 0.0, 0.3), on_log=on_log)
        tag = tag or default_tag(meta)
        row_id = self._insert_image(model_version_id, tag, base, example)
        try:
            with tempfile.TemporaryDirectory(prefix="modeldesk-context-") as tmp:
                context = write_context(
                    Path(tmp) / "context",
                    bundle=bundle,
                    wheels=wheels,
                    reqs=reqs,
                    base_image=base,
                    tag=tag,
                )
                built = build_image(
                    client, context, base_image=base, progress=progress, on_log=on_log, start=0.3
                )
        except Cancelled:
            self._delete_image(row_id)
            raise
        except ModelDeskError as exc:
            self._update_image(row_id, status="failed", error=str(exc))
            self._audit("image.build_failed", tag, {"error": exc.message[:500]})
            raise
        except BaseException as exc:
            self._update_image(row_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        image = self._update_image(
            row_id,
            status="built",
            image_id=built.image_id,
            size=built.size,
            labels=context.labels,
            build_seconds=built.seconds,
        )
        self._audit(
            "image.built",
            image.ref,
            {"tag": tag, "image_id": built.image_id, "size": built.size, "base_image": base},
        )
        return image

    def export_context(
        self,
        ref: str,
        dest: Path,
        *,
        tarball: bool = False,
        tag: str | None = None,
        base_image: str | None = None,
        progress: Progress | None = None,
        on_log: LogSink | None = None,
    ) -> ExportedContext:
        """Write the build context of ``ref`` as a folder (or a .tar.gz) for ``docker build``."""
        version = self._registry().resolve(ref)
        base = base_image or self.base_image
        dest = Path(dest).expanduser()
        with tempfile.TemporaryDirectory(prefix="modeldesk-bundle-") as tmp:
            bundle = write_bundle(self._registry(), version.ref, Path(tmp) / "bundle")
            meta = read_bundle_meta(bundle)
            reqs = requirement_set(
                meta.get("packages") or {}, meta.get("python_version") or "", needs=needs_from(meta)
            )
            wheels = self.wheels.ensure(reqs, progress=progress, on_log=on_log)
            folder = Path(tmp) / "context" if tarball else dest
            context = write_context(
                folder, bundle=bundle, wheels=wheels, reqs=reqs, base_image=base, tag=tag
            )
            if tarball:
                archive = (
                    dest
                    if dest.name.endswith((".tar", ".tar.gz", ".tgz"))
                    else dest.with_suffix(".tar.gz")
                )
                _export_tarball(context, archive)
                command = f"docker build --network none -t {context.tag} - < {archive}"
                return ExportedContext(archive, command, context.tag)
        return ExportedContext(dest, context.build_command, context.tag)

    def push(self, image: int | str, registry: str, *, on_log: LogSink | None = None) -> str:
        """Tag the image as ``registry/name:tag``, push it and return that reference."""
        row = self.image(image)
        repo, _, version = row.tag.rpartition(":")
        target = f"{registry.rstrip('/')}/{repo}"
        client = self.client()
        with docker_errors(f"pushing {row.tag} to {registry}"):
            client.images.get(row.image_id).tag(target, version)
            for chunk in client.api.push(target, tag=version, stream=True, decode=True):
                if chunk.get("error"):
                    raise ModelDeskError(
                        f"Pushing {row.tag} to {registry} failed: {chunk['error']}.",
                        hint="Check the registry address and that the daemon may push to it "
                        "(an HTTP registry other than 127.0.0.1 must be listed in "
                        "insecure-registries).",
                    )
                if on_log and chunk.get("status"):
                    on_log(f"{chunk.get('id', '')} {chunk['status']}".strip())
        pushed = f"{target}:{version}"
        self._audit("image.pushed", row.ref, {"image_id": row.image_id, "to": pushed})
        return pushed

    # -- images -------------------------------------------------------------------------------

    def images(self, model: str | None = None, *, include_failed: bool = True) -> list[Image]:
        with self.store.session() as s:
            rows = s.scalars(select(ImageRow).order_by(ImageRow.id.desc())).all()
            images = [_image(r) for r in rows]
        if model:
            images = [i for i in images if i.model == model]
        if not include_failed:
            images = [i for i in images if i.status == "built"]
        return images

    def image(self, key: int | str) -> Image:
        """An image row by id, tag or Docker image id."""
        with self.store.session() as s:
            row = None
            if isinstance(key, int) or str(key).isdigit():
                row = s.get(ImageRow, int(key))
            if row is None:
                text = str(key)
                stmt = (
                    select(ImageRow).where(ImageRow.status == "built").order_by(ImageRow.id.desc())
                )
                for candidate in s.scalars(stmt):
                    if text in (candidate.tag, candidate.image_id) or (
                        len(text) >= 12
                        and candidate.image_id.removeprefix("sha256:").startswith(
                            text.removeprefix("sha256:")
                        )
                    ):
                        row = candidate
                        break
            if row is None:
                raise NotFound(
                    f"No image {key!r} was built by ModelDesk.",
                    hint="modeldesk package NAME@VERSION builds one; the Deploy panel lists them.",
                )
            return _image(row)

    # -- deployments --------------------------------------------------------------------------

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
            ready = ctr.wait_ready(container, port, timeout=ready_timeout, progress=progress)
            progress.update(0.8, "Smoke test")
            smoke = ctr.smoke_test(
                port,
                row.example.get("rows") or [],
                row.example.get("predictions") or [],
                token=options.token,
            )
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
        try:
            version = self._registry().resolve(target)
        except NotFound as exc:
            raise self._not_a_modeldesk_image(target) or exc from exc
        built = [i for i in self.images(include_failed=False) if i.model_version_id == version.id]
        if built and self._image_exists(built[0].image_id):
            image = built[0]
        else:
            image = self.build(version.ref, progress=_Slice(progress, 0, 0.7), on_log=on_log)
        return self.run(image.id, options, progress=_Slice(progress, 0.7, 1.0))

    def stop(self, deployment_id: int) -> Deployment:
        dep = self.deployment(deployment_id)
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
        options = ctr.RunOptions(
            port=current.port,
            token=token,
            cpus=current.options.get("cpus"),
            memory=current.options.get("memory"),
            log_dir=current.options.get("log_dir"),
            max_body_mb=current.options.get("max_body_mb"),
        )
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
            path = f"/v2/models/{dep.model}/infer"
        else:
            body, path = {"dataframe_records": rows}, "/invocations"
        status, answer, latency = ctr.request(dep.port, "POST", path, token=token, json_body=body)
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

    def recover(self) -> tuple[list[int], list[int]]:
        """Fail the ``building`` images and ``starting`` deployments whose process died.

        Only the store is read, never the daemon, so it is cheap enough for every start-up.
        Returns the ids of the failed (images, deployments). Rows of other hosts stay: only
        their own host can tell whether their owner still lives.
        """
        now = datetime.now(UTC)

        def write(s: Any) -> tuple[list[int], list[int]]:
            images, deployments = [], []
            building = select(ImageRow).where(ImageRow.status == "building")
            for row in s.scalars(building):
                if _owner_is_dead(row.owner):
                    row.status = "failed"
                    row.error = (
                        f"The process {describe(row.owner)} that was building this image ended "
                        "before the build finished (it was killed or crashed); build it again."
                    )
                    images.append(row.id)
            starting = select(DeploymentRow).where(DeploymentRow.status == "starting")
            for row in s.scalars(starting):
                if _owner_is_dead(row.owner):
                    row.status = "failed"
                    row.stopped_at = now
                    row.smoke_test = {
                        "ok": False,
                        "reason": f"The process {describe(row.owner)} that was starting this "
                        "deployment ended before its smoke test finished (it was killed or "
                        "crashed).",
                        "orphan": True,  # its container may still run: reconcile stops it
                    }
                    deployments.append(row.id)
            return images, deployments

        images, deployments = self.store.write(write)
        for image_id in images:
            self._audit("image.build_failed", f"image {image_id}", {"error": "owner died"})
        for dep_id in deployments:
            self._audit("deployment.failed", f"deployment {dep_id}", {"error": "owner died"})
        return images, deployments

    def reconcile(self) -> list[Deployment]:
        """Mark deployments whose container vanished or stopped behind ModelDesk's back.

        Safe from any thread and next to a concurrent ``run`` in another process: the store is
        read first (a row exists only after its container was created), the daemon is asked
        ONCE for ModelDesk's containers, and each row changes only if it is still in the state
        it was read in. With nothing active it does not even connect to the daemon. A container
        still running for a deployment that ``recover`` failed is stopped: a deployment that
        never passed its smoke test must not take traffic.
        """
        self.recover()
        with self.store.session() as s:
            stmt = select(DeploymentRow.id, DeploymentRow.container_id, DeploymentRow.status)
            active = s.execute(stmt.where(DeploymentRow.status.in_(ACTIVE))).all()
            orphans = [
                (r.id, r.container_id)
                for r in s.scalars(select(DeploymentRow).where(DeploymentRow.status == "failed"))
                if (r.smoke_test or {}).get("orphan")
            ]
        if not active and not orphans:
            return []
        client = self.client()
        with docker_errors("checking the deployments"):
            state = {
                c.id: c
                for c in client.containers.list(all=True, filters={"label": LABEL_IMAGE_ROW})
            }
        changed: list[Deployment] = []
        for dep_id, container_id, was in active:
            container = state.get(container_id)
            if container is None:
                status = "vanished"
            elif container.status in ("exited", "dead"):
                status = "stopped"
            else:
                continue  # running, or still being created/restarted by its owner
            dep = self._mark_if(dep_id, was, status)
            if dep is not None:
                changed.append(dep)
                self._audit(f"deployment.{status}", dep.model or dep.tag, {"deployment": dep.id})
        for dep_id, container_id in orphans:
            container = state.get(container_id)
            if container is not None and container.status == "running":
                ctr.stop_container(container)
            self._clear_orphan(dep_id)
        return changed

    # -- helpers ------------------------------------------------------------------------------

    def _registry(self) -> Any:
        if self.registry is None:
            raise InvalidInput("The model registry is not available in this session.")
        return self.registry

    def _audit(self, action: str, subject: str, details: dict[str, Any]) -> None:
        append = getattr(self.registry, "audit_append", None)
        if append is not None:
            append(action, subject, details)

    def _image_exists(self, image_id: str) -> bool:
        import docker.errors as de

        with docker_errors("looking for an image"):
            try:
                self.client().images.get(image_id)
            except de.ImageNotFound:
                return False
        return True

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

    def _insert_image(
        self, version_id: int | None, tag: str, base: str, example: dict[str, Any]
    ) -> int:
        def write(s: Any) -> int:
            row = ImageRow(
                model_version_id=version_id,
                tag=tag,
                image_id="",
                status="building",
                size=0,
                base_image=base,
                labels={},
                build_seconds=0.0,
                error="",
                example=example,
                owner=owner_tag(),
                created_at=datetime.now(UTC),
            )
            s.add(row)
            s.flush()
            return row.id

        return self.store.write(write)

    def _update_image(self, row_id: int, **values: Any) -> Image:
        def write(s: Any) -> Image:
            row = s.get(ImageRow, row_id)
            for key, value in values.items():
                setattr(row, key, value)
            s.flush()
            return _image(row)

        return self.store.write(write)

    def _delete_image(self, row_id: int) -> None:
        def write(s: Any) -> None:
            row = s.get(ImageRow, row_id)
            if row is not None:
                s.delete(row)

        self.store.write(write)

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
                smoke_test={},
                owner=owner_tag(),
                created_at=datetime.now(UTC),
            )
            s.add(row)
            s.flush()
            return row.id

        return self.store.write(write)

    def _mark_if(self, dep_id: int, was: str, status: str) -> Deployment | None:
        """``status`` for a deployment still ``was`` (another process may have moved it)."""

        def write(s: Any) -> Deployment | None:
            row = s.get(DeploymentRow, dep_id)
            if row is None or row.status != was:
                return None
            row.status = status
            row.stopped_at = row.stopped_at or datetime.now(UTC)
            s.flush()
            image = s.get(ImageRow, row.image_row_id) if row.image_row_id else None
            return _deployment(row, image)

        return self.store.write(write)

    def _clear_orphan(self, dep_id: int) -> None:
        def write(s: Any) -> None:
            row = s.get(DeploymentRow, dep_id)
            if row is not None and (row.smoke_test or {}).get("orphan"):
                row.smoke_test = {k: v for k, v in row.smoke_test.items() if k != "orphan"}

        self.store.write(write)

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


def reconcile_at_startup(services: Any, *, progress: Progress | None = None) -> list[Any]:
    """The main window's start-up job: fail dead builds/starts, reconcile with the daemon.

    Runs on a worker thread (building ``services.deployments`` there keeps the Docker SDK
    import off the GUI thread). A daemon that cannot be reached is not an error at start-up:
    the rows stay as they are and the Deploy panel says so when it is opened.
    """
    deploy = services.deployments
    try:
        return deploy.reconcile()
    except DockerUnavailable:
        return []


class _Slice:
    """A child's 0..1 progress mapped onto [start, end] of the parent's."""

    def __init__(self, parent: Progress, start: float, end: float) -> None:
        self.parent, self.start, self.end = parent, start, end

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        mapped = None if fraction is None else self.start + (self.end - self.start) * fraction
        self.parent.update(mapped, status)

    def check_cancelled(self) -> None:
        self.parent.check_cancelled()


def _datatype(values: list[Any]) -> str:
    if any(isinstance(v, str) for v in values):
        return "BYTES"
    if values and all(isinstance(v, bool) for v in values if v is not None):
        return "BOOL"
    return "FP64"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:40] or "model"


def _image(row: ImageRow) -> Image:
    return Image(
        id=row.id,
        model_version_id=row.model_version_id,
        tag=row.tag,
        image_id=row.image_id,
        status=row.status,
        size=row.size,
        base_image=row.base_image,
        labels=dict(row.labels or {}),
        build_seconds=row.build_seconds,
        error=row.error,
        created_at=row.created_at,
        example=dict(row.example or {}),
    )


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
    )
