"""Experiment tracking: runs, their parameters, metrics, tags, artifacts and environment.

The names below are imported on first use (PEP 562), so ``app.core.tracking.liveness`` loads
without SQLAlchemy for the list commands' read path (``app.core.store.lite``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.tracking.entities import Run, RunArtifact, RunPage, RunSummary
    from app.core.tracking.service import TrackingService

__all__ = ["Run", "RunArtifact", "RunPage", "RunSummary", "TrackingService"]
_HOME = {"TrackingService": "app.core.tracking.service"}


def __getattr__(name: str) -> Any:
    if name in __all__:
        module = importlib.import_module(_HOME.get(name, "app.core.tracking.entities"))
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
