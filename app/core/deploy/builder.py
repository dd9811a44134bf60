"""Building an image from a context with the network off, streaming its log line by line.

The legacy builder's stream is read chunk by chunk so that each log line reaches the caller
(panel or stderr) as it comes, ``Step N/M`` becomes the progress fraction, and a cancel closes
the connection, which makes the daemon abandon the build. A failure raises ``BuildFailed``
carrying the failing lines; the caller stores nothing as built.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.deploy.context import BuildContext
from app.core.deploy.daemon import DISK_HINT, docker_errors, is_disk_full
from app.core.errors import Cancelled, ModelDeskError, NotFound
from app.core.progress import NullProgress, Progress

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)")
BASE_HINT = (
    "Pull it (docker pull {image}) where a registry is reachable; on a machine without one "
    "build a local base with ci/base-image.sh, or choose another base image "
    "(--base-image, or MODELDESK_BASE_IMAGE)."
)


class BuildFailed(ModelDeskError):
    """The image build stopped with an error; ``lines`` are the last lines of its log."""

    def __init__(self, message: str, *, lines: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.lines = lines


@dataclass(frozen=True)
class BuiltImage:
    image_id: str
    tag: str
    size: int
    seconds: float
    log: list[str]
    layers: tuple[str, ...]


def check_base_image(client: Any, base_image: str) -> None:
    import docker.errors as de

    with docker_errors(f"looking for the base image {base_image}"):
        try:
            client.images.get(base_image)
        except de.ImageNotFound as exc:
            raise NotFound(
                f"The base image {base_image} is not on this Docker daemon, and the build "
                "runs with the network off so it cannot be pulled.",
                hint=BASE_HINT.format(image=base_image),
            ) from exc


def build_image(
    client: Any,
    context: BuildContext,
    *,
    base_image: str,
    progress: Progress | None = None,
    on_log: Callable[[str], None] | None = None,
    start: float = 0.0,
    end: float = 1.0,
) -> BuiltImage:
    """Build ``context`` as ``context.tag``; progress is mapped onto [start, end]."""
    progress = progress or NullProgress()
    check_base_image(client, base_image)
    log: list[str] = []
    image_id = ""
    t0 = time.perf_counter()

    def emit(line: str) -> None:
        log.append(line)
        if on_log:
            on_log(line)

    progress.update(start, "Sending the build context to the daemon")
    with docker_errors(f"building {context.tag}"):
        stream = client.api.build(
            path=str(context.folder),
            tag=context.tag,
            network_mode="none",
            buildargs={"BASE_IMAGE": base_image},
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
        )
        try:
            for chunk in stream:
                progress.check_cancelled()
                if "error" in chunk or "errorDetail" in chunk:
                    detail = chunk.get("errorDetail") or {}
                    text = str(detail.get("message") or chunk.get("error") or "").strip()
                    for line in text.splitlines():
                        emit(line)
                    raise _failure(context.tag, text, log)
                if isinstance(chunk.get("aux"), dict) and chunk["aux"].get("ID"):
                    image_id = chunk["aux"]["ID"]
                for line in str(chunk.get("stream") or chunk.get("status") or "").splitlines():
                    if not line.strip():
                        continue
                    emit(line.rstrip())
                    step = _STEP.match(line)
                    if step:
                        n, total = int(step.group(1)), int(step.group(2))
                        fraction = start + (end - start) * (n - 1) / max(1, total)
                        progress.update(fraction, f"Step {n}/{total}: {step.group(3)[:60]}")
        except Cancelled:
            # Dropping the connection makes the daemon stop the build it was running.
            client.api.close()
            raise
        image = client.images.get(image_id or context.tag)
    seconds = time.perf_counter() - t0
    progress.update(end, "Built")
    layers = tuple(image.attrs.get("RootFS", {}).get("Layers") or ())
    return BuiltImage(
        image.id, context.tag, int(image.attrs.get("Size") or 0), seconds, log, layers
    )


def _failure(tag: str, text: str, log: list[str]) -> BuildFailed:
    tail = [line for line in log[-15:] if line.strip()]
    if is_disk_full(text):
        return BuildFailed(
            f"Building {tag} failed: the disk is full.\n  " + "\n  ".join(tail[-6:]),
            lines=tail,
            hint=DISK_HINT,
        )
    if "pull access denied" in text or "manifest unknown" in text or "no such host" in text:
        return BuildFailed(
            f"Building {tag} failed: the base image could not be found ({text}).",
            lines=tail,
            hint="Check the base image name; the build runs offline, so it must be local.",
        )
    return BuildFailed(
        f"Building {tag} failed:\n  " + "\n  ".join(tail),
        lines=tail,
        hint="The lines above are the end of the build log; nothing was stored as built.",
    )
