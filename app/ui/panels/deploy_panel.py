"""Deploy panel: build a model version into an image, run it, test it, roll it back.

Every Docker call runs as a job on the runner (the panel never opens a Docker client). The
panel is the build section (deploy_build.py: version, Build, log, progress, cancel) above the
run section (deploy_run.py: images, Run, deployments, Stop, Roll back, live log, test
request); it owns what they share: the jobs, the one message bar, and the refresh of both
lists. A daemon that cannot be reached is one message saying how to start it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from app.core.errors import DockerUnavailable, ModelDeskError
from app.ui.job_bridge import JobBridge, PanelJobs
from app.ui.panels.deploy_build import BuildSection
from app.ui.panels.deploy_run import RunSection, group
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.ui.context import CurrentContext


def _refresh(deploy: Any, reconcile: bool, *, progress: Any) -> tuple[list[Any], list[Any]]:
    if reconcile:
        deploy.client()  # an unreachable daemon is said at once, even with nothing running
        deploy.reconcile()
    return deploy.images(), deploy.deployments()


class DeployPanel(QWidget):
    images_listed = Signal()
    built = Signal(object)
    deployed = Signal(object)
    tested = Signal(object)

    def __init__(
        self, *, deploy: Any, registry: Any, runner: Any, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel-deploy")
        self._deploy = deploy
        self._jobs = PanelJobs(self, runner, on_failed=self._on_job_failed)
        self.messages = MessageBar()
        self.builder = BuildSection(
            deploy=deploy, registry=registry, jobs=self._jobs, messages=self.messages
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

        build_box = QVBoxLayout()
        build_box.addWidget(self.builder)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(group("Build", build_box))
        splitter.addWidget(self.runner_section)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messages)
        layout.addWidget(splitter, 1)

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
        return self._jobs.start(
            _refresh, self._deploy, reconcile, name="List images", done=self._on_refreshed
        )

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

    def _on_refreshed(self, bridge: JobBridge, result: tuple[list[Any], list[Any]]) -> None:
        self.runner_section.show_lists(*result)
        self.images_listed.emit()

    def _on_built(self, image: Any) -> None:
        self.built.emit(image)
        self.refresh()

    def _on_deployed(self, dep: Any) -> None:
        self.deployed.emit(dep)
        self.refresh()

    def _on_job_failed(self, bridge: JobBridge, error: BaseException, tb: str) -> None:
        self.runner_section.stop_logs()
        if isinstance(error, ModelDeskError):
            self.messages.show_error(error)
            lines = getattr(error, "lines", None)
            if lines:
                self.builder.append_log(lines)
            if isinstance(error, DockerUnavailable):
                self.status.setText("Docker unreachable")
        else:
            from app.ui.widgets.error_dialog import show_unexpected_error

            show_unexpected_error(error, tb, self)

    def closeEvent(self, event: Any) -> None:
        self.runner_section.stop_logs()
        self._jobs.close()
        super().closeEvent(event)


def build_panel(services: Any, runner: Any, context: CurrentContext | None = None) -> QWidget:
    """The window's and ``open_alone``'s entry point (``PanelSpec.module``)."""
    del context  # not read yet: the panel adopts the current context in the window issue
    return DeployPanel(deploy=services.deployments, registry=services.registry, runner=runner)


def main(argv: list[str] | None = None) -> int:
    """``python -m app.ui.panels.deploy_panel``: this panel alone."""
    from app.ui.panels.standalone import open_alone

    return open_alone("deploy", argv)


if __name__ == "__main__":
    raise SystemExit(main())
