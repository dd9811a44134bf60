"""The build context of a model image: a folder the daemon (or any ``docker build``) takes.

Layout::

    Dockerfile          from app/resources/docker/Dockerfile.template
    .dockerignore
    requirements.txt    exact pins (see requirements.py)
    wheels/             every wheel the environment needs, so the build runs offline
    serving/app/serving the server, copied as it is (it imports nothing else from app)
    model/              the bundle: model.skops, model.json, code/ — or, for an image
                        serving several models, one bundle folder per model version
                        (model/churn-v3/, model/fraud-v3/), which the server finds itself
    build.sh, README.md the command to build it elsewhere (a CI/CD pipeline)

The same function makes the context for ``DeployService.build`` and for an export, so what a
pipeline builds elsewhere is what ModelDesk builds here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shlex
import shutil
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import __version__
from app.core.bundle import bundle_folder, slug
from app.core.deploy.requirements import RequirementSet
from app.core.errors import InvalidInput
from app.core.fsutil import atomic_write
from app.resources import read_text

if TYPE_CHECKING:
    from app.core.bundle import VerifiedBundle

IMAGE_USER = "10001:10001"
CONTAINER_PORT = 8080
LABEL_MODEL = "io.modeldesk.model"
LABEL_VERSION = "io.modeldesk.version"
LABEL_SHA = "io.modeldesk.sha256"
LABEL_RUN = "io.modeldesk.run"
#: on an image serving several models: "churn@3,fraud@3" (LABEL_MODEL is then the image's name)
LABEL_MODELS = "io.modeldesk.models"
SINGLE_COPY = "COPY model/code/ /model/code/\nCOPY model/model.json model/model.skops /model/"


@dataclass(frozen=True)
class BuildContext:
    folder: Path
    tag: str
    labels: dict[str, str]
    meta: dict[str, Any]  # the bundle's model.json

    @property
    def build_command(self) -> str:
        folder = shlex.quote(str(self.folder))
        return f"docker build --network none -t {shlex.quote(self.tag)} {folder}"


def default_tag(meta: dict[str, Any]) -> str:
    return f"modeldesk/{slug(str(meta['name'])) or 'model'}:v{meta['version']}"


def image_labels(meta: dict[str, Any], base_image: str) -> dict[str, str]:
    created = meta.get("created_at") or datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "org.opencontainers.image.title": f"{meta['name']} version {meta['version']}",
        "org.opencontainers.image.version": str(meta["version"]),
        "org.opencontainers.image.created": str(created),
        "org.opencontainers.image.description": (
            f"ModelDesk model server for {meta['name']}@{meta['version']} "
            f"({meta.get('task') or 'model'}; Open Inference Protocol v2 and MLflow scoring)"
        ),
        "org.opencontainers.image.vendor": "ModelDesk",
        "org.opencontainers.image.revision": str(meta["artifact_sha256"]),
        "org.opencontainers.image.base.name": base_image,
        LABEL_MODEL: str(meta["name"]),
        LABEL_VERSION: str(meta["version"]),
        LABEL_SHA: str(meta["artifact_sha256"]),
        LABEL_RUN: str(meta.get("run_id") or ""),
        "io.modeldesk.builder": f"modeldesk {__version__}",
    }


def serving_source() -> Path:
    spec = importlib.util.find_spec("app.serving")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput("The serving code (app/serving) is missing from this installation.")
    return Path(next(iter(spec.submodule_search_locations)))


def multi_tag(name: str, bundles: Sequence[VerifiedBundle]) -> str:
    """``modeldesk/scoring:churn-v3_fraud-v3`` (a hash where that is longer than a tag may be)."""
    version = "_".join(f"{slug(b.name)}-v{slug(b.version)}" for b in bundles)
    if len(version) > 128:
        joined = ",".join(b.meta["artifact_sha256"] for b in bundles)
        version = "m-" + hashlib.sha256(joined.encode()).hexdigest()[:16]
    return f"modeldesk/{slug(name) or 'models'}:{version}"


def multi_labels(name: str, bundles: Sequence[VerifiedBundle], base_image: str) -> dict[str, str]:
    refs = ",".join(b.ref for b in bundles)
    return {
        "org.opencontainers.image.title": f"{name}: {refs}",
        "org.opencontainers.image.version": multi_tag(name, bundles).rpartition(":")[2],
        "org.opencontainers.image.created": datetime.now(UTC).isoformat(timespec="seconds"),
        "org.opencontainers.image.description": (
            f"ModelDesk model server for {len(bundles)} models ({refs}; Open Inference "
            "Protocol v2 with the model repository extension, and MLflow scoring)"
        ),
        "org.opencontainers.image.vendor": "ModelDesk",
        "org.opencontainers.image.revision": ",".join(b.meta["artifact_sha256"] for b in bundles),
        "org.opencontainers.image.base.name": base_image,
        LABEL_MODEL: name,
        LABEL_VERSION: multi_tag(name, bundles).rpartition(":")[2],
        LABEL_SHA: ",".join(b.meta["artifact_sha256"] for b in bundles),
        LABEL_RUN: ",".join(str(b.meta.get("run_id") or "") for b in bundles),
        LABEL_MODELS: refs,
        "io.modeldesk.builder": f"modeldesk {__version__}",
    }


def write_context(
    dest: Path,
    *,
    bundles: Sequence[VerifiedBundle],
    wheels: Path,
    reqs: RequirementSet,
    base_image: str,
    tag: str | None = None,
    name: str | None = None,
) -> BuildContext:
    """Fill the empty folder ``dest`` with everything the image build needs; several bundles
    make an image that serves them all (``name`` is then the image's name)."""
    if not bundles:
        raise InvalidInput("An image needs at least one model version.")
    multi = len(bundles) > 1
    if multi and not name:
        raise InvalidInput("An image of several models needs a name (--name).")
    meta = bundles[0].meta
    if multi:
        tag = tag or multi_tag(str(name), bundles)
        labels = multi_labels(str(name), bundles, base_image)
        model_ref = f"{name} ({', '.join(b.ref for b in bundles)})"
        copy = "COPY model/ /model/"
    else:
        tag = tag or default_tag(meta)
        labels = image_labels(meta, base_image)
        model_ref = bundles[0].ref
        copy = SINGLE_COPY
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise InvalidInput(f"{dest} is not empty.", hint="Choose an empty or new folder.")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
    shutil.copytree(serving_source(), dest / "serving" / "app" / "serving", ignore=ignore)
    (dest / "serving" / "app" / "__init__.py").write_text("", encoding="utf-8")
    for bundle in bundles:  # each bundle is written once, here
        bundle.write(dest / "model" / bundle_folder(bundle) if multi else dest / "model")
    (dest / "wheels").mkdir()
    for wheel in sorted(wheels.glob("*.whl")):
        _link_or_copy(wheel, dest / "wheels" / wheel.name)
    (dest / "requirements.txt").write_text(reqs.requirements_text(), encoding="utf-8")
    dockerfile = render_dockerfile(
        base_image=base_image, tag=tag, labels=labels, model_ref=model_ref, model_copy=copy
    )
    (dest / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    (dest / ".dockerignore").write_text(read_text("docker/context.dockerignore"), "utf-8")
    if multi:
        meta = {**meta, "name": name, "version": labels[LABEL_VERSION],
                "models": [b.ref for b in bundles]}  # fmt: skip
    context = BuildContext(dest, tag, labels, meta)
    _write_instructions(context)
    return context


def render_dockerfile(
    *,
    base_image: str,
    tag: str,
    labels: dict[str, str],
    model_ref: str,
    model_copy: str = SINGLE_COPY,
) -> str:
    label_lines = " \\\n      ".join(f"{json.dumps(k)}={json.dumps(v)}" for k, v in labels.items())
    values = {
        "modeldesk_version": __version__,
        "model_ref": model_ref,
        "model_copy": model_copy,
        "tag": tag,
        "base_image": base_image,
        "labels": label_lines,
    }
    text = read_text("docker/Dockerfile.template")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _write_instructions(context: BuildContext) -> None:
    command = f"docker build --network none -t {shlex.quote(context.tag)} ."
    (context.folder / "build.sh").write_text(
        "#!/bin/sh\n# Build the model image offline from this folder.\nset -e\n"
        f'cd "$(dirname "$0")"\n{command} "$@"\n',
        encoding="utf-8",
    )
    os.chmod(context.folder / "build.sh", 0o755)
    meta = context.meta
    (context.folder / "README.md").write_text(
        f"# {meta['name']} version {meta['version']}\n\n"
        "Build context of a ModelDesk model image. Build it (no network needed):\n\n"
        f"    {command}\n\n"
        f"Run it:\n\n    docker run --rm -p 127.0.0.1:8080:{CONTAINER_PORT} {context.tag}\n\n"
        "Set MODELDESK_TOKEN to require a bearer token; mount a folder and set "
        "MODELDESK_LOG_DIR to log predictions.\n",
        encoding="utf-8",
    )


def export_tarball(context: BuildContext, archive: Path) -> Path:
    """The context as a .tar.gz (``docker build - < archive`` takes it as it is)."""
    with (
        atomic_write(archive, make_parents=True) as tmp,
        tarfile.open(tmp, "w:gz", compresslevel=1) as tar,
    ):
        for path in sorted(context.folder.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
