"""Recovery after a crash and reconciliation with the daemon.

A process killed mid-build or mid-start cannot finish its row: ``recover`` (run when the
service is built; it reads only the store) fails ``building``/``starting`` rows whose owner is
gone, and ``reconcile`` later marks deployments whose container vanished or stopped and stops a
container such a dead start left running.

``RecoveryMixin`` is one of the three parts of ``DeployService``; it relies on the service's
``store``, ``client()`` and ``_audit()``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.core.artifacts import _owner_is_dead
from app.core.deploy import containers as ctr
from app.core.deploy.daemon import docker_errors
from app.core.deploy.deployments import ACTIVE, LABEL_IMAGE_ROW, _deployment
from app.core.deploy.entities import Deployment
from app.core.errors import DockerUnavailable
from app.core.owners import describe
from app.core.progress import Progress
from app.core.store.models_deploy import DeploymentRow, ImageRow


class RecoveryMixin:
    """Failing rows of dead owners; matching the rows with the daemon's containers."""

    store: Any

    def recover(self) -> tuple[list[int], list[int]]:
        """Fail the ``building`` images and ``starting`` deployments whose process died.

        Only the store is read, never the daemon, so it is cheap enough for every start-up.
        Returns the ids of the failed (images, deployments). Rows of other hosts stay: only
        their own host can tell whether their owner still lives.
        """
        now = datetime.now(UTC)

        def write(s: Any) -> tuple[list[int], list[int]]:
            images, deployments = [], []
            building = select(ImageRow).where(ImageRow.status == "building")
            for row in s.scalars(building):
                if _owner_is_dead(row.owner):
                    row.status = "failed"
                    row.error = (
                        f"The process {describe(row.owner)} that was building this image ended "
                        "before the build finished (it was killed or crashed); build it again."
                    )
                    images.append(row.id)
            starting = select(DeploymentRow).where(DeploymentRow.status == "starting")
            for row in s.scalars(starting):
                if _owner_is_dead(row.owner):
                    row.status = "failed"
                    row.stopped_at = now
                    row.smoke_test = {
                        "ok": False,
                        "reason": f"The process {describe(row.owner)} that was starting this "
                        "deployment ended before its smoke test finished (it was killed or "
                        "crashed).",
                        "orphan": True,  # its container may still run: reconcile stops it
                    }
                    deployments.append(row.id)
            return images, deployments

        images, deployments = self.store.write(write)
        for image_id in images:
            self._audit("image.build_failed", f"image {image_id}", {"error": "owner died"})
        for dep_id in deployments:
            self._audit("deployment.failed", f"deployment {dep_id}", {"error": "owner died"})
        return images, deployments

    def reconcile(self) -> list[Deployment]:
        """Mark deployments whose container vanished or stopped behind ModelDesk's back.

        Safe from any thread and next to a concurrent ``run`` in another process: the store is
        read first (a row exists only after its container was created), the daemon is asked
        ONCE for ModelDesk's containers, and each row changes only if it is still in the state
        it was read in. With nothing active it does not even connect to the daemon. A container
        still running for a deployment that ``recover`` failed is stopped: a deployment that
        never passed its smoke test must not take traffic.
        """
        self.recover()
        with self.store.session() as s:
            stmt = select(DeploymentRow.id, DeploymentRow.container_id, DeploymentRow.status)
            active = s.execute(stmt.where(DeploymentRow.status.in_(ACTIVE))).all()
            orphans = [
                (r.id, r.container_id)
                for r in s.scalars(select(DeploymentRow).where(DeploymentRow.status == "failed"))
                if (r.smoke_test or {}).get("orphan")
            ]
        if not active and not orphans:
            return []
        client = self.client()
        with docker_errors("checking the deployments"):
            state = {
                c.id: c
                for c in client.containers.list(all=True, filters={"label": LABEL_IMAGE_ROW})
            }
        changed: list[Deployment] = []
        for dep_id, container_id, was in active:
            container = state.get(container_id)
            if container is None:
                status = "vanished"
            elif container.status in ("exited", "dead"):
                status = "stopped"
            else:
                continue  # running, or still being created/restarted by its owner
            dep = self._mark_if(dep_id, was, status)
            if dep is not None:
                changed.append(dep)
                self._audit(f"deployment.{status}", dep.model or dep.tag, {"deployment": dep.id})
        for dep_id, container_id in orphans:
            container = state.get(container_id)
            if container is not None and container.status == "running":
                ctr.stop_container(container)
            self._clear_orphan(dep_id)
        return changed

    def _mark_if(self, dep_id: int, was: str, status: str) -> Deployment | None:
        """``status`` for a deployment still ``was`` (another process may have moved it)."""

        def write(s: Any) -> Deployment | None:
            row = s.get(DeploymentRow, dep_id)
            if row is None or row.status != was:
                return None
            row.status = status
            row.stopped_at = row.stopped_at or datetime.now(UTC)
            s.flush()
            image = s.get(ImageRow, row.image_row_id) if row.image_row_id else None
            return _deployment(row, image)

        return self.store.write(write)

    def _clear_orphan(self, dep_id: int) -> None:
        def write(s: Any) -> None:
            row = s.get(DeploymentRow, dep_id)
            if row is not None and (row.smoke_test or {}).get("orphan"):
                row.smoke_test = {k: v for k, v in row.smoke_test.items() if k != "orphan"}

        self.store.write(write)


def reconcile_at_startup(services: Any, *, progress: Progress | None = None) -> list[Any]:
    """The main window's start-up job: fail dead builds/starts, reconcile with the daemon.

    Runs on a worker thread (building ``services.deployments`` there keeps the Docker SDK
    import off the GUI thread). A daemon that cannot be reached is not an error at start-up:
    the rows stay as they are and the Deploy panel says so when it is opened.
    """
    deploy = services.deployments
    try:
        return deploy.reconcile()
    except DockerUnavailable:
        return []
