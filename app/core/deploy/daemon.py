"""One Docker client per service, and the daemon's failures turned into sentences.

Every Docker call of packaging and deployment goes through ``connect`` and ``docker_errors``
so that a stopped daemon, a missing base image, a taken port or a full disk reach the user as
a ``ModelDeskError`` that says what to do, never as a requests traceback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from app.core.errors import Conflict, DockerUnavailable, InvalidInput, ModelDeskError, NotFound

START_HINT = (
    "Start the Docker daemon (Linux: sudo systemctl start docker, after installing Docker "
    "Engine, e.g. sudo apt install docker.io; macOS and Windows: start Docker Desktop) or point "
    "DOCKER_HOST at a running daemon. Without Docker, modeldesk serve NAME@VERSION serves the "
    "model on this machine."
)
DISK_HINT = (
    "Free disk space where Docker keeps its data (docker system df shows what takes it; remove "
    "images you no longer need with docker image rm), then build again."
)


def connect(timeout: int = 120) -> Any:
    """A Docker SDK client for the daemon of the environment, checked with a ping."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - a broken install
        raise DockerUnavailable(
            "The 'docker' Python package is not installed.",
            hint="Reinstall ModelDesk with its dependencies.",
        ) from exc
    host = os.environ.get("DOCKER_HOST") or "the default socket (/var/run/docker.sock)"
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:
        from app.core.docker_status import _reason

        raise DockerUnavailable(
            f"The Docker daemon at {host} is unreachable: {_reason(exc)}.", hint=START_HINT
        ) from exc
    return client


def is_disk_full(text: str) -> bool:
    lowered = text.lower()
    return "no space left on device" in lowered or "disk quota exceeded" in lowered


@contextlib.contextmanager
def docker_errors(action: str) -> Iterator[None]:
    """Map the Docker SDK's exceptions raised while doing ``action`` to ours."""
    import docker.errors as de
    import requests

    try:
        yield
    except ModelDeskError:
        raise
    except de.ImageNotFound as exc:
        raise NotFound(f"While {action}: {_explain(exc)}.") from exc
    except de.NotFound as exc:
        raise NotFound(f"While {action}: {_explain(exc)}.") from exc
    except de.APIError as exc:
        text = _explain(exc)
        if is_disk_full(text):
            raise ModelDeskError(
                f"While {action} the disk filled up: {text}.", hint=DISK_HINT
            ) from exc
        if "port is already allocated" in text or "address already in use" in text:
            raise Conflict(
                f"While {action}: the port is already taken ({text}).",
                hint="Choose another port, or leave the port empty to take a free one.",
            ) from exc
        if exc.status_code == 409:
            raise Conflict(f"While {action}: {text}.") from exc
        if exc.status_code and 400 <= exc.status_code < 500:
            raise InvalidInput(f"While {action}: {text}.") from exc
        raise ModelDeskError(f"While {action} the Docker daemon failed: {text}.") from exc
    except (requests.ConnectionError, de.DockerException) as exc:
        from app.core.docker_status import _reason

        raise DockerUnavailable(
            f"While {action} the Docker daemon became unreachable: {_reason(exc)}.",
            hint=START_HINT,
        ) from exc
    except OSError as exc:
        if is_disk_full(str(exc)):
            raise ModelDeskError(
                f"While {action} the disk filled up: {exc}.", hint=DISK_HINT
            ) from exc
        raise


def _explain(exc: Any) -> str:
    explanation = getattr(exc, "explanation", None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc).strip().rstrip(".")
