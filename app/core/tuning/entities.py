"""Frozen views of studies and trials handed out by the tuning service."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TrialInfo:
    number: int
    state: str  # COMPLETE | PRUNED | FAIL | RUNNING | WAITING
    values: tuple[float, ...] | None
    params: dict[str, Any]
    run_id: int | None
    started_at: datetime | None
    ended_at: datetime | None
    intermediate: dict[int, float] = field(default_factory=dict)
    retried_from: int | None = None
    error: str | None = None  # why a failed trial failed

    @property
    def duration(self) -> float | None:
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["values"] = list(self.values) if self.values is not None else None
        data["started_at"] = self.started_at.isoformat() if self.started_at else None
        data["ended_at"] = self.ended_at.isoformat() if self.ended_at else None
        data["duration"] = self.duration
        data["intermediate"] = {str(k): v for k, v in self.intermediate.items()}
        return data


@dataclass(frozen=True)
class StudySummary:
    name: str
    directions: tuple[str, ...]
    objectives: tuple[str, ...]
    dataset: str | None
    target: str | None
    estimators: tuple[str, ...]
    sampler: str | None
    pruner: str | None
    budget: int | None
    counts: dict[str, int]  # state → number of trials
    best_values: tuple[float, ...] | None
    best_params: dict[str, Any] | None
    best_trial: int | None
    best_run_id: int | None
    pareto_size: int
    parent_run_id: int | None
    status: str  # the parent run's status: running | finished | cancelled | failed | external
    started_at: datetime | None
    user_attrs: dict[str, Any] = field(default_factory=dict)
    #: the runs of the best trial, or of every Pareto-optimal one (these get a model when the
    #: study ends, and can be registered from the Runs panel or ``studies best --register``)
    best_run_ids: tuple[int, ...] = ()

    @property
    def done(self) -> int:
        """Trials that ended (completed, pruned or failed)."""
        return sum(self.counts.get(s, 0) for s in ("COMPLETE", "PRUNED", "FAIL"))

    @property
    def best_value(self) -> float | None:
        return self.best_values[0] if self.best_values else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat() if self.started_at else None
        data["best_value"] = self.best_value
        data["done"] = self.done
        data.pop("user_attrs")
        return data
