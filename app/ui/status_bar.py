"""The window's status bar: the store, the number of running jobs, the Docker daemon.

The job count comes from ``JobRunner.watch_count`` (called on whatever thread changed it) and
the Docker state from ``check_docker`` run on a short-lived thread every few seconds; both
reach the labels through queued signals, so the GUI thread never waits for either.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.core.docker_status import DockerStatus, check_docker
from app.jobs.runner import JobRunner

DOCKER_INTERVAL_MS = 5000
DOCKER_FIRST_CHECK_MS = 1500  # after the first paint, so start-up does not pay for it


def jobs_text(count: int) -> str:
    if count == 0:
        return "No jobs running"
    return f"{count} job running" if count == 1 else f"{count} jobs running"


class StatusBar(QStatusBar):
    job_count_changed = Signal(int)
    docker_changed = Signal(object)  # DockerStatus

    _count_posted = Signal(int)
    _docker_posted = Signal(object)

    def __init__(
        self,
        *,
        store_display: str,
        runner: JobRunner,
        artifacts_display: str = "",
        cluster_display: str = "",
        check: Callable[[], DockerStatus] = check_docker,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._check = check
        self._closed = False
        self._docker_busy = False
        self.docker_status: DockerStatus | None = None
        self.job_count = 0

        remote = "://" in artifacts_display  # an object store: worth naming in the bar itself
        shown = f"Store: {store_display}" + (f" · Artifacts: {artifacts_display}" if remote else "")
        self.store_label = QLabel(shown)
        where = [f"Store: {store_display}"]
        if artifacts_display:
            where.append(f"Artifacts: {artifacts_display}")
        where.append(f"Cluster: {cluster_display or 'none (this machine)'}")
        self.store_label.setToolTip("\n".join(where))
        #: where the work goes (store, artifacts, cluster), for the team setup
        self.cluster_label = QLabel(f"Cluster: {cluster_display}" if cluster_display else "")
        self.cluster_label.setToolTip(self.store_label.toolTip())
        self.cluster_label.setVisible(bool(cluster_display))
        self.store_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.jobs_label = QLabel(jobs_text(0))
        self.docker_label = QLabel("Docker: checking…")
        self.addWidget(self.store_label, 1)
        self.addPermanentWidget(self.cluster_label)
        self.addPermanentWidget(self.jobs_label)
        self.addPermanentWidget(self.docker_label)

        self._count_posted.connect(self._on_count_posted, Qt.ConnectionType.QueuedConnection)
        self._docker_posted.connect(self._on_docker_posted, Qt.ConnectionType.QueuedConnection)
        self._unwatch = runner.watch_count(self._from_runner_count)

        self._timer = QTimer(self)
        self._timer.setInterval(DOCKER_INTERVAL_MS)
        self._timer.timeout.connect(self.check_docker_now)
        QTimer.singleShot(DOCKER_FIRST_CHECK_MS, self._start_docker_checks)

    def check_docker_now(self) -> None:
        """Start one check on a thread unless one is already under way."""
        if self._docker_busy or self._closed:
            return
        self._docker_busy = True
        threading.Thread(target=self._docker_worker, name="docker-status", daemon=True).start()

    def stop(self) -> None:
        self._closed = True
        self._unwatch()
        self._timer.stop()

    # -- any thread --------------------------------------------------------------------------

    def _from_runner_count(self, count: int) -> None:
        if self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the bar was deleted meanwhile
            self._count_posted.emit(count)

    def _docker_worker(self) -> None:
        status = self._check()
        with contextlib.suppress(RuntimeError):
            self._docker_posted.emit(status)

    # -- GUI thread --------------------------------------------------------------------------

    def _start_docker_checks(self) -> None:
        if self._closed:
            return
        self.check_docker_now()
        self._timer.start()

    def _on_count_posted(self, count: int) -> None:
        self.job_count = count
        self.jobs_label.setText(jobs_text(count))
        self.job_count_changed.emit(count)

    def _on_docker_posted(self, status: DockerStatus) -> None:
        self._docker_busy = False
        changed = status != self.docker_status
        self.docker_status = status
        self.docker_label.setText(status.label)
        self.docker_label.setToolTip(status.message)
        if changed:
            self.docker_changed.emit(status)
