"""Frozen views handed out by the registry (rows never leave a session)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

STATUSES = ("active", "archived")


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: everything needed to load, serve, explain and audit it."""

    id: int
    model_name: str
    version: int
    run_id: int | None
    dataset_version_id: int | None
    artifact_sha256: str
    task: str | None
    target: str | None
    estimator: str | None
    signature: dict[str, Any]
    input_example: list[dict[str, Any]]
    output: dict[str, Any]
    metrics: dict[str, float]
    trusted_types: list[str]
    packages: dict[str, str]
    python_version: str
    recipe: dict[str, Any] | None
    description: str
    tags: dict[str, str]
    status: str
    aliases: list[str]
    created_at: datetime
    source: str = "run"
    artifact_size: int = 0
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.model_name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["ref"] = self.ref
        return data

    def bundle_meta(self) -> dict[str, Any]:
        """The ``model.json`` of a model bundle (contract with packaging and serving)."""
        return {
            "name": self.model_name,
            "version": self.version,
            "artifact_sha256": self.artifact_sha256,
            "run_id": self.run_id,
            "task": self.task,
            "target": self.target,
            "signature": self.signature,
            "input_example": self.input_example,
            "output": self.output,
            "trusted_types": self.trusted_types,
            "packages": self.packages,
            "python_version": self.python_version,
        }


@dataclass(frozen=True)
class RegisteredModel:
    """A line of the models list: the model and a summary of its versions."""

    id: int
    name: str
    description: str
    tags: dict[str, str]
    policy: dict[str, Any]
    versions: int
    latest_version: int | None
    aliases: dict[str, int]  # alias → version number
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AuditReport:
    """The outcome of ``audit verify``: ``broken`` is None when the chain is whole."""

    entries: int
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "broken_id": self.broken_id,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PolicyCheck:
    """What the promotion policy found; ``allowed`` False carries the reasons why not."""

    allowed: bool
    reasons: tuple[str, ...]
    metric: str | None
    candidate: float | None
    incumbent: float | None
    incumbent_version: int | None
    #: the cleaned evidence the decision rested on; None when it used the registered scores
    evidence: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reasons"] = list(self.reasons)
        return data
