"""Deployment tokens: stored as a SHA-256 digest only, rotated by replacing the container.

The store keeps ``token_sha256`` (a token is 32 random bytes, so a plain digest cannot be
guessed back; no salt is needed against a dictionary). The clear token exists in two places
only: the container's environment, where the server reads it, and once on the screen of the
person who rotated it. ``rotate`` makes a new token and puts it into the container the only
way an environment can change: a new container from the same image, on the same port and
under the same deployment id, smoke-tested with the new token before the row moves to it. If
the new one fails, the old container's settings (and token) are started again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from app.core.deploy import containers as ctr
from app.core.deploy.context import LABEL_MODEL
from app.core.errors import Conflict, ModelDeskError
from app.core.progress import NullProgress, Progress

LABEL_IMAGE_ROW = "io.modeldesk.image_row"


def token_digest(token: str | None) -> str:
    """The hex SHA-256 of ``token``, or "" for no token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest() if token else ""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def stored_digest(store: Any, deployment_id: int) -> str:
    from app.core.store.models_deploy import DeploymentRow

    with store.session() as s:
        row = s.get(DeploymentRow, int(deployment_id))
        return row.token_sha256 if row is not None else ""


def matches(store: Any, deployment_id: int, token: str) -> bool:
    """Whether ``token`` is deployment ``deployment_id``'s current token (constant time)."""
    digest = stored_digest(store, deployment_id)
    return bool(digest) and hmac.compare_digest(digest, token_digest(token))


def rotate(deploy: Any, deployment_id: int, *, progress: Progress | None = None) -> tuple[Any, str]:
    """Give a running deployment a new token; returns (deployment, the new token)."""
    progress = progress or NullProgress()
    dep = deploy.deployment(deployment_id)
    if dep.status != "running":
        raise Conflict(
            f"Deployment {deployment_id} is {dep.status}; only a running deployment's token "
            "can be rotated.",
            hint="A stopped deployment takes no requests; deploy again with --token.",
        )
    if getattr(dep, "kind", "single") != "single" or getattr(dep, "variant_id", None):
        raise Conflict(
            f"Deployment {deployment_id} is part of a balanced deployment; its replicas "
            "share one token.",
            hint="Rotate the token of a single deployment (modeldesk deployments list).",
        )
    image = deploy.image(dep.image_row_id)
    old_container = deploy._container(dep)
    old_token = deploy._token_of(dep)
    token = new_token()
    options = ctr.RunOptions.from_public(dep.options, port=dep.port, token=token)
    labels = {LABEL_IMAGE_ROW: str(image.id), LABEL_MODEL: image.model}
    client = deploy.client()
    base = dep.container_name.rsplit("-", 1)[0] or "modeldesk-model"
    progress.update(0.1, "Stopping the container")
    if old_container is not None:
        ctr.stop_container(old_container)
    container = None
    try:
        progress.update(0.3, "Starting the container with the new token")
        container, port = ctr.start_container(
            client, image.image_id, name=f"{base}-{uuid.uuid4().hex[:6]}", options=options,
            labels=labels,
        )  # fmt: skip
        ctr.wait_ready(container, port, progress=progress, tls_ca=options.tls_cert)
        smoke = ctr.smoke_test(
            port,
            image.example.get("rows") or [],
            image.example.get("predictions") or [],
            token=token,
            tls_ca=options.tls_cert,
        )
        if not smoke["ok"]:
            raise ModelDeskError(f"The container with the new token failed its smoke test: "
                                 f"{smoke['reason']}.")  # fmt: skip
    except BaseException:
        if container is not None:
            ctr.stop_container(container)
        with contextlib.suppress(ModelDeskError):  # the old token keeps working
            back = ctr.RunOptions.from_public(dep.options, port=dep.port, token=old_token)
            again, _ = ctr.start_container(
                client, image.image_id, name=f"{base}-{uuid.uuid4().hex[:6]}", options=back,
                labels=labels,
            )  # fmt: skip
            _move(deploy, deployment_id, again, token_digest(old_token))
        raise
    moved = _move(deploy, deployment_id, container, token_digest(token), smoke=smoke)
    append = getattr(deploy.registry, "audit_append", None)
    if append is not None:  # the digest's head only: enough to tell tokens apart
        append(
            "deployment.token_rotated",
            dep.model or dep.tag,
            {"deployment": deployment_id, "fingerprint": token_digest(token)[:12]},
        )
    progress.update(1.0, "New token in place")
    return moved, token


def _move(
    deploy: Any,
    deployment_id: int,
    container: Any,
    digest: str,
    *,
    smoke: dict[str, Any] | None = None,
) -> Any:
    """Point the deployment row at ``container`` and its token digest."""
    from app.core.store.models_deploy import DeploymentRow

    def write(s: Any) -> None:
        row = s.get(DeploymentRow, deployment_id)
        row.container_id = container.id
        row.container_name = container.name
        row.token_sha256 = digest
        row.options = {**(row.options or {}), "token": bool(digest)}
        if smoke is not None:
            row.smoke_test = {**smoke, "token_rotated_at": datetime.now(UTC).isoformat()}

    deploy.store.write(write)
    return deploy.deployment(deployment_id)
