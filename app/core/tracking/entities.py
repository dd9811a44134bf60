"""Frozen views of runs handed out by the tracking service (rows never leave a session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STATUSES = ("queued", "running", "finished", "failed", "cancelled")


@dataclass(frozen=True)
class RunArtifact:
    id: int
    run_id: int
    kind: str  # 'model' | 'plot' | 'log' | 'data' | 'code' | …
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Run:
    id: int
    name: str
    experiment: str
    dataset_version_id: int | None
    target: str | None
    task: str | None
    estimator: str | None
    status: str
    seed: int | None
    recipe: dict[str, Any]
    env: dict[str, Any]
    note: str
    error: str | None
    parent_run_id: int | None
    study_name: str | None
    trial_number: int | None
    started_at: datetime
    ended_at: datetime | None
    deleted: bool = False
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: tuple[RunArtifact, ...] = ()

    @property
    def duration(self) -> float | None:
        return (self.ended_at - self.started_at).total_seconds() if self.ended_at else None

    def artifact(self, name: str) -> RunArtifact | None:
        return next((a for a in self.artifacts if a.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "experiment": self.experiment,
            "dataset_version_id": self.dataset_version_id,
            "target": self.target,
            "task": self.task,
            "estimator": self.estimator,
            "status": self.status,
            "seed": self.seed,
            "recipe": self.recipe,
            "env": self.env,
            "note": self.note,
            "error": self.error,
            "parent_run_id": self.parent_run_id,
            "study_name": self.study_name,
            "trial_number": self.trial_number,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "duration": self.duration,
            "deleted": self.deleted,
            "params": self.params,
            "metrics": self.metrics,
            "tags": self.tags,
            "artifacts": [a.__dict__ for a in self.artifacts],
        }


@dataclass(frozen=True)
class RunSummary:
    """One line of the runs table: fixed attributes plus the chosen param/metric columns."""

    id: int
    name: str
    status: str
    estimator: str | None
    target: str | None
    task: str | None
    dataset_version_id: int | None
    started_at: datetime
    ended_at: datetime | None
    parent_run_id: int | None
    values: dict[str, Any]  # 'params.x' / 'metrics.y' → value (None when absent)
    deleted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "estimator": self.estimator,
            "target": self.target,
            "task": self.task,
            "dataset_version_id": self.dataset_version_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "parent_run_id": self.parent_run_id,
            "deleted": self.deleted,
            **self.values,
        }


@dataclass(frozen=True)
class RunPage:
    runs: list[RunSummary]
    total: int
