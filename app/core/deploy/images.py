"""Model images: build (from a registry version or a bundle), export the context, push, and
the ``model_images`` rows.

A row is ``building`` while the daemon works, ``built`` once the image exists, ``failed`` with
the failing lines otherwise (a cancelled build leaves no row). A building row carries its owner
(host:pid) so that ``recovery`` can fail it when its process died mid-build.

``ImagesMixin`` is one of the three parts of ``DeployService``; it relies on the service's
``store``, ``registry``, ``wheels``, ``base_image``, ``client()``, ``_registry()`` and
``_audit()``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.core.artifacts import owner_tag
from app.core.deploy.builder import build_image
from app.core.deploy.bundles import expected_predictions, write_bundle
from app.core.deploy.context import default_tag, read_bundle_meta, write_context
from app.core.deploy.context import export_tarball as _export_tarball
from app.core.deploy.daemon import docker_errors
from app.core.deploy.entities import ExportedContext, Image
from app.core.deploy.requirements import needs_from, requirement_set
from app.core.errors import Cancelled, ModelDeskError, NotFound
from app.core.progress import NullProgress, Progress
from app.core.store.models_deploy import ImageRow

LogSink = Callable[[str], None]


def default_base_image() -> str:
    return os.environ.get("MODELDESK_BASE_IMAGE") or (
        f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"
    )


class ImagesMixin:
    """Building, exporting, pushing and listing the images of model versions."""

    store: Any
    wheels: Any

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

    def _image_exists(self, image_id: str) -> bool:
        import docker.errors as de

        with docker_errors("looking for an image"):
            try:
                self.client().images.get(image_id)
            except de.ImageNotFound:
                return False
        return True

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


class _Slice:
    """A child's 0..1 progress mapped onto [start, end] of the parent's."""

    def __init__(self, parent: Progress, start: float, end: float) -> None:
        self.parent, self.start, self.end = parent, start, end

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        mapped = None if fraction is None else self.start + (self.end - self.start) * fraction
        self.parent.update(mapped, status)

    def check_cancelled(self) -> None:
        self.parent.check_cancelled()


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
