"""Deploy panel: build a model version into an image, run it, test it, roll it back.

Every Docker call runs as a job on the runner (the panel never opens a Docker client). The
panel is the build section (deploy_build.py: version, Build, log, progress, cancel) above the
run section (deploy_run.py: images, Run, deployments, Stop, Roll back, live log, test
request); it owns what they share: the jobs, the one message bar, and the refresh of both
lists.

Without a Docker daemon every Docker button is disabled and the hint says what to install or
start on this platform; "Serve locally" (deploy_local.py) runs the same server as
``modeldesk serve`` as a child process on a free port, testable from the Test request form and
stopped by its Stop button or when the panel closes.

Operations the window's menus call: ``build_image``, ``deploy``, ``serve_locally``,
``test_request``, ``stop``, ``roll_back``, ``show_logs`` and ``docker_state``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import DockerUnavailable, ModelDeskError
from app.ui.items import DeploymentItem, ModelVersionItem
from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs, call
from app.ui.panels import deploy_local
from app.ui.panels.deploy_build import BuildSection
from app.ui.panels.deploy_run import RunSection, group
from app.ui.panels.deploy_serving import LocalServing
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.ui.context import CurrentContext


def docker_hint(platform: str = sys.platform) -> str:
    """What to install or start so that ModelDesk finds a Docker daemon, on ``platform``."""
    if platform.startswith("linux"):
        how = (
            "Install Docker Engine (Debian and Ubuntu: sudo apt install docker.io; others: the "
            "docker-ce package) and start it with sudo systemctl start docker"
        )
    elif platform == "darwin":
        how = "Install Docker Desktop for Mac (docker.com/products/docker-desktop) and start it"
    elif platform.startswith(("win", "cygwin")):
        how = "Install Docker Desktop for Windows (docker.com/products/docker-desktop), start it"
    else:
        how = "Install Docker and start its daemon"
    return f"{how}, or set DOCKER_HOST to a running daemon. Serve locally works without Docker."


def _refresh(deploy: Any, reconcile: bool, *, progress: Any) -> dict[str, Any]:
    """The images and deployments in the store, and whether the daemon answers (why not)."""
    docker, reason = True, ""
    try:
        deploy.client()
        if reconcile:
            deploy.reconcile()
    except DockerUnavailable as exc:
        docker, reason = False, exc.message
    return {
        "images": deploy.images(),
        "deployments": deploy.deployments(),
        "docker": docker,
        "reason": reason,
    }


def _deploy(deploy: Any, ref: str, *, progress: Any) -> Any:
    return deploy.deploy(ref, progress=progress)


def _roll_back(deploy: Any, deployment_id: int, *, progress: Any) -> Any:
    return deploy.rollback(deploy.deployment(deployment_id).model, progress=progress)


class DeployPanel(LocalServing, QWidget):
    images_listed = Signal()
    built = Signal(object)
    deployed = Signal(object)
    tested = Signal(object)
    local_changed = Signal(object)  # the local server's URL, or None once it stopped
    open_requested = Signal(str, object)
    item_menu_requested = Signal(object, QPoint)  # (DeploymentItem | ModelVersionItem, pos)
    item_activated = Signal(object)
    selection_changed = Signal(object)

    def __init__(
        self,
        *,
        deploy: Any,
        registry: Any,
        runner: Any,
        store_url: str = "",
        context: CurrentContext | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel-deploy")
        self._deploy, self._registry, self._store_url = deploy, registry, store_url
        self._context = context
        self._jobs = PanelJobs(self, runner, on_failed=self._on_job_failed)
        self._refresh_slot = JobSlot(self._jobs)
        self._local_slot, self._watch_slot = JobSlot(self._jobs), JobSlot(self._jobs)
        self._docker: bool | None = None  # unknown until the first refresh answers
        self._docker_reason = "Checking the Docker daemon…"
        self.local: deploy_local.LocalServer | None = None
        self.messages = MessageBar()
        self.builder = BuildSection(
            deploy=deploy,
            registry=registry,
            jobs=self._jobs,
            messages=self.messages,
            context=context,
        )
        self.runner_section = RunSection(deploy=deploy, jobs=self._jobs, messages=self.messages)
        # the widgets tests and the main window's menus reach for, at the panel's top level
        self.version_combo = self.builder.version_combo
        self.build_log = self.builder.build_log
        self.progress = self.builder.progress
        self.status = self.builder.status
        self.images_table = self.runner_section.images_table
        self.deploy_table = self.runner_section.deploy_table
        self.run_button = self.runner_section.run_button
        self.stop_button = self.runner_section.stop_button
        self.request_edit = self.runner_section.request_edit
        self.send_button = self.runner_section.send_button
        self.response_view = self.runner_section.response_view
        self.latency_label = self.runner_section.latency_label
        self.logs_view = self.runner_section.logs_view
        self.docker_label = QLabel("")
        self.docker_label.setWordWrap(True)
        self.docker_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.docker_label.setVisible(False)
        self.serve_button = QPushButton("Serve locally")
        self.serve_button.setToolTip(
            "Run the picked version's REST server on this computer, without Docker (the same "
            "server as modeldesk serve)"
        )
        self.local_stop_button = QPushButton("Stop")
        self.local_stop_button.setToolTip("Stop the local server")
        self.local_test_button = QPushButton("Test local server")
        self.local_test_button.setToolTip("Send the Test request form's rows to the local server")
        self.local_url = QLabel("Not serving.")
        self.local_url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        local_row = QHBoxLayout()
        for widget in (self.serve_button, self.local_stop_button, self.local_test_button):
            local_row.addWidget(widget)
        local_row.addWidget(self.local_url, 1)

        build_box = QVBoxLayout()
        build_box.addWidget(self.builder, 1)
        local_label = QLabel("Without Docker:")
        local_label.setToolTip("Serve locally runs the same REST server on this computer")
        local_row.insertWidget(0, local_label)
        build_box.addLayout(local_row)
        # at 650 px every box shrinks to a few lines (the splitter gives the rest back)
        for view in (self.build_log, self.logs_view, self.request_edit, self.response_view,
                     self.images_table, self.deploy_table):  # fmt: skip
            view.setMinimumHeight(44)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(group("Build, or serve locally", build_box))
        splitter.addWidget(self.runner_section)
        splitter.setChildrenCollapsible(False)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.docker_label)
        body_layout.addWidget(splitter, 1)
        scroll = QScrollArea()  # below its minimum height the panel scrolls, never clips
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messages)
        layout.addWidget(scroll, 1)

        self.serve_button.clicked.connect(self._on_serve_button_clicked)
        self.local_stop_button.clicked.connect(self.stop_local)
        self.local_test_button.clicked.connect(self._on_local_test_button_clicked)
        for view in (self.deploy_table, self.images_table):
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(
                lambda pos, v=view: self._on_view_context_menu(v, pos)
            )
            view.activated.connect(lambda index, v=view: self._on_view_activated(v, index))
            view.selectionModel().selectionChanged.connect(self._on_any_selection_changed)
        self._update_buttons()

        self.builder.built.connect(self._on_built)
        self.runner_section.deployed.connect(self._on_deployed)
        self.runner_section.tested.connect(self.tested)
        self.runner_section.changed.connect(self.refresh)
        self.runner_section.progressed.connect(self.builder.show_progress)
        self.runner_section.status_text.connect(self.status.setText)

        self.builder.reload_versions()
        self.refresh(reconcile=True)  # deployments checked against the daemon at start-up

    # -- public API ---------------------------------------------------------------------------

    def reload_versions(self) -> None:
        self.builder.reload_versions()

    def refresh(self, *, reconcile: bool = False) -> JobBridge:
        return self._refresh_slot.start(
            _refresh, self._deploy, reconcile, name="List images", done=self._on_refreshed
        )

    # -- the panel contract ------------------------------------------------------------------

    def open_item(self, item: Any) -> None:
        """A version goes into the picker; a deployment is selected (its log follows)."""
        if isinstance(item, ModelVersionItem):
            self.builder.pick(item.ref)
        elif isinstance(item, DeploymentItem):
            self.show_logs(item.deployment_id)

    def selected_item(self) -> DeploymentItem | ModelVersionItem | None:
        dep = self.selected_deployment()
        if dep is not None:
            return DeploymentItem(dep.id)
        image = self.selected_image()
        if image is not None and image.model and str(image.version).isdigit():
            return ModelVersionItem(image.model, int(image.version))
        return None

    def save_settings(self, settings: Any) -> None:
        del settings  # nothing of its own to remember yet

    def restore_settings(self, settings: Any) -> None:
        del settings

    def close_jobs(self) -> None:
        """Stop the log follower, the local server and every job (the window closes)."""
        self.runner_section.stop_logs()
        self._stop_local_now()
        self._jobs.close()

    # -- operations (the window's menus and context menus call these) -------------------------

    def docker_state(self) -> tuple[bool | None, str]:
        """(daemon available?, the sentence saying why not): None while still checking."""
        if self._docker:
            return True, ""
        return self._docker, self._docker_reason

    def build_image(self, name: str, version: int) -> JobBridge | None:
        if not self._docker_ready():
            return None
        ref = f"{name}@{version}"
        self.builder.pick(ref)
        return self.builder.build(ref)

    def deploy(self, name: str, version: int) -> JobBridge | None:
        """Run ``name@version`` in a container (built first when it has no image yet)."""
        if not self._docker_ready():
            return None
        ref = f"{name}@{version}"
        self.status.setText(f"Deploying {ref}…")
        bridge = self._jobs.start(
            _deploy, self._deploy, ref, name=f"Deploy {ref}", done=self._on_deploy_done
        )
        bridge.progressed.connect(self.builder.show_progress)
        return bridge

    def test_request(self, deployment_id: int | None = None) -> JobBridge | None:
        """Send the Test request form's rows to a deployment, or to the local server when
        no deployment is named and one is serving."""
        if deployment_id is None and self.local is not None:
            return self.send_local_test()
        if deployment_id is not None:
            self.deploy_table.select_id(int(deployment_id))
        if not self._docker_ready():
            return None
        return self.runner_section.send_test()

    def stop(self, deployment_id: int | None) -> JobBridge | None:
        if deployment_id is None:
            self.stop_local()
            return None
        if not self._docker_ready():
            return None
        return self._jobs.start(
            call,
            self._deploy.stop,
            int(deployment_id),
            name="Stop",
            done=lambda _b, dep: (self.status.setText(f"Deployment {dep.id} stopped."),
                                  self.refresh()),
        )  # fmt: skip

    def roll_back(self, deployment_id: int) -> JobBridge | None:
        if not self._docker_ready():
            return None
        return self._jobs.start(
            _roll_back,
            self._deploy,
            int(deployment_id),
            name="Roll back",
            done=self._on_deploy_done,
        )

    def show_logs(self, deployment_id: int) -> None:
        """Select the deployment: its live log follows in the Live log box."""
        if not self.deploy_table.select_id(int(deployment_id)):
            self.messages.info(f"Deployment {deployment_id} is not in the list yet.")

    def build(self, ref: str | None = None) -> JobBridge | None:
        return self.builder.build(ref)

    def cancel_build(self) -> None:
        self.builder.cancel_build()

    def selected_image(self) -> Any:
        return self.runner_section.selected_image()

    def selected_deployment(self) -> Any:
        return self.runner_section.selected_deployment()

    def run_selected(self) -> JobBridge | None:
        return self.runner_section.run_selected()

    def send_test(self) -> JobBridge | None:
        return self.runner_section.send_test()

    # -- slots --------------------------------------------------------------------------------

    def _on_refreshed(self, bridge: JobBridge, result: dict[str, Any]) -> None:
        self.runner_section.show_lists(result["images"], result["deployments"])
        self._set_docker(result["docker"], result["reason"])
        self.images_listed.emit()

    def _set_docker(self, available: bool, reason: str) -> None:
        self._docker = available
        self._docker_reason = "" if available else f"{reason} {docker_hint()}".strip()
        self.docker_label.setText(self._docker_reason)
        self.docker_label.setVisible(not available)
        if not available:
            self.status.setText("Docker unreachable")
        self._update_buttons()

    def _docker_ready(self) -> bool:
        if self._docker is False:
            self.messages.warning("Docker is not available here.", hint=self._docker_reason)
            return False
        return True

    def _update_buttons(self, *_args: Any) -> None:
        docker = self._docker is not False
        builder, run = self.builder, self.runner_section
        for button in (
            builder.build_button,
            run.run_button,
            run.stop_button,
            run.rollback_button,
            run.send_button,
        ):
            button.setEnabled(docker)
            button.setToolTip("" if docker else self._docker_reason)
        if not docker:
            builder.cancel_button.setEnabled(False)
        serving = self.local is not None
        self.serve_button.setEnabled(not self._local_slot.busy)
        self.local_stop_button.setEnabled(serving or self._local_slot.busy)
        self.local_test_button.setEnabled(serving)

    def _on_deploy_done(self, _bridge: JobBridge, dep: Any) -> None:
        self.status.setText(f"{dep.model}@{dep.version} runs on {dep.url}; smoke test passed.")
        self._on_deployed(dep)

    def _item_of(self, view: Any, index: QModelIndex) -> Any:
        record = view.model().record(index.row()) if index.isValid() else None
        if record is None:
            return None
        if view is self.deploy_table:
            return DeploymentItem(record.id)
        if record.model and str(record.version).isdigit():
            return ModelVersionItem(record.model, int(record.version))
        return None

    def _on_view_context_menu(self, view: Any, pos: QPoint) -> None:
        index = view.indexAt(pos)
        item = self._item_of(view, index)
        if item is not None:
            view.selectRow(index.row())
            self.item_menu_requested.emit(item, view.viewport().mapToGlobal(pos))

    def _on_view_activated(self, view: Any, index: QModelIndex) -> None:
        item = self._item_of(view, index)
        if item is not None:
            self.item_activated.emit(item)

    def _on_any_selection_changed(self, *_args: Any) -> None:
        item = self.selected_item()
        if isinstance(item, DeploymentItem) and self._context is not None:
            self._context.update(deployment_id=item.deployment_id)
        self.selection_changed.emit(item)

    def _on_built(self, image: Any) -> None:
        self.built.emit(image)
        self.refresh()

    def _on_deployed(self, dep: Any) -> None:
        self.deployed.emit(dep)
        self.refresh()

    def _on_job_failed(self, bridge: JobBridge, error: BaseException, tb: str) -> None:
        self.runner_section.stop_logs()
        if isinstance(error, ModelDeskError):
            if isinstance(error, DockerUnavailable):
                self.messages.error(error.message, hint=docker_hint())
            else:
                self.messages.show_error(error)
            lines = getattr(error, "lines", None)
            if lines:
                self.builder.append_log(lines)
            if isinstance(error, DockerUnavailable):
                self._set_docker(False, error.message)
        else:
            from app.ui.widgets.error_dialog import show_unexpected_error

            show_unexpected_error(error, tb, self)

    def closeEvent(self, event: Any) -> None:
        self.close_jobs()
        super().closeEvent(event)


def build_panel(services: Any, runner: Any, context: CurrentContext | None = None) -> QWidget:
    """The window's and ``open_alone``'s entry point (``PanelSpec.module``)."""
    return DeployPanel(
        deploy=services.deployments,
        registry=services.registry,
        runner=runner,
        store_url=services.store.url,
        context=context,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m app.ui.panels.deploy_panel``: this panel alone."""
    from app.ui.panels.standalone import open_alone

    return open_alone("deploy", argv)


if __name__ == "__main__":
    raise SystemExit(main())
