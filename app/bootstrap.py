"""Builds the core services once, for the GUI and the CLI alike.

Nothing here is a module-level singleton: each caller gets its own ``Services`` for the store
it names, which keeps tests independent and lets one process open two stores if it must.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.artifacts import ArtifactStore
from app.core.datasets import DatasetService
from app.core.paths import resolve_store_url
from app.core.profiling import ProfileService
from app.core.store import Store
from app.core.tracking import TrackingService
from app.core.training.service import TrainingService


@dataclass
class Services:
    store: Store
    artifacts: ArtifactStore
    datasets: DatasetService
    tracking: TrackingService
    training: TrainingService
    profiles: ProfileService

    def close(self) -> None:
        self.store.dispose()


def build_services(store_url: str | None = None, *, artifacts_dir: Path | None = None) -> Services:
    """Open (and migrate) the store, clear what crashed writers left, and wire the services."""
    store = Store(resolve_store_url(store_url), artifacts_dir=artifacts_dir)
    artifacts = ArtifactStore(store)
    artifacts.recover()
    tracking = TrackingService(store, artifacts)
    tracking.fail_stale()  # runs whose worker died while nobody watched
    datasets = DatasetService(store, artifacts)
    return Services(
        store=store,
        artifacts=artifacts,
        datasets=datasets,
        tracking=tracking,
        training=TrainingService(datasets, tracking, artifacts, store.url),
        profiles=ProfileService(store, artifacts, datasets),
    )
