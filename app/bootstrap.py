"""Builds the core services once, for the GUI and the CLI alike.

Nothing here is a module-level singleton: each caller gets its own ``Services`` for the store
it names, which keeps tests independent and lets one process open two stores if it must.

Only the store, its artifact folder and tracking are opened up front (tracking because the
repair of runs whose worker died belongs to every start); every other service is built, and
its module imported, on first use, so ``modeldesk runs list`` never imports training,
profiling or dataset code. The commands that only list go further: ``open_read_services``
reads the store through the stdlib ``sqlite3`` driver when opening it would change nothing
(``app.core.store.lite``), so they import neither SQLAlchemy nor the ORM.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.paths import resolve_store_url

if TYPE_CHECKING:
    from app.core.artifacts import ArtifactStore
    from app.core.datasets import DatasetService
    from app.core.profiling import ProfileService
    from app.core.store import Store
    from app.core.store.lite import Reader, SqliteReader
    from app.core.tracking import TrackingService
    from app.core.training.service import TrainingService


class Services:
    """The store, its artifacts and the services over them, each built on first use."""

    def __init__(self, store: Store, artifacts: ArtifactStore, tracking: TrackingService) -> None:
        self.store = store
        self.artifacts = artifacts
        self.tracking = tracking

    def __repr__(self) -> str:
        built = [k for k in self.__dict__ if k not in ("store", "artifacts", "tracking")]
        return f"Services({self.store.url_for_display}, built={built})"

    @cached_property
    def reader(self) -> Reader:
        """The list commands' SQL (``app.core.store.listing``) through this open store."""
        from app.core.store.lite import EngineReader

        return EngineReader(self.store)

    @cached_property
    def datasets(self) -> DatasetService:
        from app.core.datasets import DatasetService

        return DatasetService(self.store, self.artifacts)

    @cached_property
    def training(self) -> TrainingService:
        from app.core.training.service import TrainingService

        return TrainingService(self.datasets, self.tracking, self.artifacts, self.store.url)

    @cached_property
    def profiles(self) -> ProfileService:
        from app.core.profiling import ProfileService

        return ProfileService(self.store, self.artifacts, self.datasets)

    # The later areas: a CLI command or a panel that never touches them never pays for
    # importing Optuna, the Docker SDK or skl2onnx.

    @cached_property
    def registry(self) -> Any:
        from app.core.registry import RegistryService

        return RegistryService(self.store, self.artifacts, self.tracking, self.training)

    @cached_property
    def runner(self) -> Any:
        """The job runner for work the services start themselves (the CLI's tuning workers);
        the window hands its own runner to what it starts."""
        from app.jobs.runner import JobRunner

        return JobRunner()

    @cached_property
    def tuning(self) -> Any:
        from app.core.tuning import TuningService

        return TuningService(
            self.store,
            self.datasets,
            self.tracking,
            self.training,
            runner=self.runner,
            registry=self.registry,
        )

    @cached_property
    def recipes(self) -> Any:
        from app.core.recipes import RecipeService

        return RecipeService(self.store, self.artifacts, self.datasets)

    @cached_property
    def deployments(self) -> Any:
        from app.core.deploy import DeployService

        return DeployService(self.store, self.artifacts, self.registry)

    @cached_property
    def monitoring(self) -> Any:
        from app.core.monitoring import MonitorService

        return MonitorService(self.store, self.artifacts, self.datasets, self.registry)

    @cached_property
    def replays(self) -> Any:
        from app.core.monitoring.replay import ReplayService

        # the deploy service is only reached for container replays (it builds no client)
        return ReplayService(self.store, self.registry, self.deployments)

    def close(self) -> None:
        if "runner" in self.__dict__:  # built on first use only
            self.runner.shutdown()
        self.store.dispose()


class ReadServices:
    """What a list command needs from a store that needs nothing done at open: a reader."""

    def __init__(self, reader: SqliteReader) -> None:
        self.reader = reader

    def close(self) -> None:
        self.reader.close()


def open_read_services(store_url: str | None = None) -> ReadServices | None:
    """A stdlib reader on the store when opening it fully would change nothing, else None
    (then ``build_services``: migrate, restore the guard, repair, and read through it)."""
    from app.core.store.lite import open_reader

    reader = open_reader(resolve_store_url(store_url), _any_stale)
    return None if reader is None else ReadServices(reader)


def _any_stale(running: list[tuple[str, datetime]]) -> bool:
    """Whether ``TrackingService.fail_stale`` would fail one of these (owner, beat) runs."""
    import time

    from app.core.tracking.liveness import HEARTBEAT_TIMEOUT, stale_reason

    now = time.time()
    return any(
        stale_reason(owner, now - beat.timestamp(), HEARTBEAT_TIMEOUT) is not None
        for owner, beat in running
    )


def build_services(store_url: str | None = None, *, artifacts_dir: Path | None = None) -> Services:
    """Open (and migrate) the store, clear what crashed writers left, and wire the services."""
    from app.core.artifacts import ArtifactStore
    from app.core.store import Store
    from app.core.tracking import TrackingService

    store = Store(resolve_store_url(store_url), artifacts_dir=artifacts_dir)
    artifacts = ArtifactStore(store)
    artifacts.recover()
    tracking = TrackingService(store, artifacts)
    tracking.fail_stale()  # runs whose worker died while nobody watched
    services = Services(store=store, artifacts=artifacts, tracking=tracking)
    if store.restored_guards:
        # whoever dropped the triggers may have edited the log meanwhile: say so in the log
        services.registry.audit_append(
            "audit.guards_restored", "audit_log", {"triggers": store.restored_guards}
        )
    return services
