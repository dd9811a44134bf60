"""Packaging and deployment of registered model versions on the local Docker daemon.

``DeployService`` is the one place that talks to Docker for ModelDesk (the panel and the CLI
call it through the job runner). It is composed of three parts, each in its own module:

images       build, bundles, export, push, the ``model_images`` rows
deployments  run, deploy, stop, rollback, logs, test requests, the ``deployments`` rows
recovery     recover (rows of dead owners), reconcile (rows against the daemon), start-up
variants     canary, replicas, promote, abort, scale, fallback behind HAProxy (balancer)

This module holds what they share: the store, the registry, the wheel cache and the one Docker
client, connected on first use.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

from app.core.deploy.daemon import connect
from app.core.deploy.deployments import ACTIVE, LABEL_IMAGE_ROW, DeploymentsMixin
from app.core.deploy.images import ImagesMixin, LogSink, default_base_image
from app.core.deploy.recovery import RecoveryMixin, reconcile_at_startup
from app.core.deploy.variants import VariantsMixin
from app.core.deploy.wheels import WheelCache
from app.core.errors import InvalidInput
from app.core.store import Store

__all__ = [
    "ACTIVE",
    "LABEL_IMAGE_ROW",
    "DeployService",
    "LogSink",
    "default_base_image",
    "reconcile_at_startup",
]


class DeployService(ImagesMixin, DeploymentsMixin, VariantsMixin, RecoveryMixin):
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

    # -- shared helpers -----------------------------------------------------------------------

    def _registry(self) -> Any:
        if self.registry is None:
            raise InvalidInput("The model registry is not available in this session.")
        return self.registry

    def _audit(self, action: str, subject: str, details: dict[str, Any]) -> None:
        append = getattr(self.registry, "audit_append", None)
        if append is not None:
            append(action, subject, details)
