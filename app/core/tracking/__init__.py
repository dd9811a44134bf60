"""Experiment tracking: runs, their parameters, metrics, tags, artifacts and environment."""

from app.core.tracking.entities import Run, RunArtifact, RunPage, RunSummary
from app.core.tracking.service import TrackingService

__all__ = ["Run", "RunArtifact", "RunPage", "RunSummary", "TrackingService"]
