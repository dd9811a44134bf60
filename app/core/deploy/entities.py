"""Frozen views of images and deployments (rows never leave a session)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Image:
    id: int
    model_version_id: int | None
    tag: str
    image_id: str
    status: str  # building, built, failed
    size: int
    base_image: str
    labels: dict[str, str]
    build_seconds: float
    error: str
    created_at: datetime
    example: dict[str, Any]  # {"rows": input example, "predictions": in-process answers}

    @property
    def model(self) -> str:
        return self.labels.get("io.modeldesk.model", "")

    @property
    def version(self) -> str:
        return self.labels.get("io.modeldesk.version", "")

    @property
    def models(self) -> list[str]:
        """The model versions the image serves (``churn@3``; several for a multi-model one)."""
        several = self.labels.get("io.modeldesk.models")
        if several:
            return several.split(",")
        return [f"{self.model}@{self.version}"] if self.model else []

    @property
    def ref(self) -> str:
        if "io.modeldesk.models" in self.labels:
            return f"{self.model} ({', '.join(self.models)})"
        return f"{self.model}@{self.version}" if self.model else self.tag

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["ref"] = self.ref
        data["models"] = self.models
        return data


@dataclass(frozen=True)
class Deployment:
    id: int
    image_row_id: int | None
    model_version_id: int | None
    container_id: str
    container_name: str
    host: str
    port: int
    status: str  # starting, running, failed, stopped, vanished
    options: dict[str, Any]
    smoke_test: dict[str, Any]
    created_at: datetime
    stopped_at: datetime | None
    tag: str = ""
    model: str = ""
    version: str = ""
    kind: str = "single"  # balanced: the container is the load balancer of ``variants``
    variant_id: int | None = None  # set on a replica of a balanced deployment's variant
    variants: tuple[Variant, ...] = ()

    @property
    def url(self) -> str:
        scheme = "https" if self.options.get("tls_cert") else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["stopped_at"] = self.stopped_at.isoformat() if self.stopped_at else None
        data["url"] = self.url
        data["variants"] = [v.to_dict() for v in self.variants]
        return data


@dataclass(frozen=True)
class Variant:
    """A model image with its share of a balanced deployment's traffic and its replicas."""

    id: int
    deployment_id: int
    role: str  # primary, canary, shadow
    image_row_id: int | None
    model_version_id: int | None
    weight: int  # percent
    replicas: int
    status: str  # active, promoted, aborted, fallen_back
    reason: str
    model: str = ""
    version: str = ""
    replica_ids: tuple[int, ...] = ()  # the running replicas' deployment ids

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ref"] = self.ref
        data["replica_ids"] = list(self.replica_ids)
        return data


@dataclass(frozen=True)
class TestResponse:
    status: int
    body: Any
    latency_ms: float


@dataclass(frozen=True)
class ExportedContext:
    path: Path
    command: str
    tag: str
