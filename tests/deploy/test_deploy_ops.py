"""The Deploy panel's operations against the real daemon, as the window's menus call them:
deploy a version (its image exists already: no rebuild), show its logs, test request, deploy
the next version and roll back to the first, stop; docker_state says the daemon answers."""

from __future__ import annotations

import pytest

from app.ui.context import CurrentContext
from app.ui.items import DeploymentItem

pytestmark = pytest.mark.docker
LONG = 180_000


def test_deploy_logs_test_roll_back_and_stop(deploy_env, built, qtbot) -> None:
    from app.jobs.runner import JobRunner
    from app.ui.panels.deploy_panel import build_panel

    services, deploy, versions = deploy_env
    runner = JobRunner()
    try:
        panel = build_panel(services, runner, CurrentContext())
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitUntil(lambda: panel.docker_state()[0] is True, timeout=LONG)
        assert panel.builder.build_button.isEnabled() and not panel.docker_label.isVisible()

        with qtbot.waitSignal(panel.deployed, timeout=LONG) as first:
            assert panel.deploy(versions[0].model_name, versions[0].version) is not None
        dep = first.args[0]
        assert dep.status == "running" and dep.version == str(versions[0].version)
        qtbot.waitUntil(lambda: panel.deploy_table.select_id(dep.id), timeout=LONG)
        panel.show_logs(dep.id)
        assert panel.selected_item() == DeploymentItem(dep.id)
        qtbot.waitUntil(lambda: "tenure" in panel.request_edit.toPlainText(), timeout=LONG)
        with qtbot.waitSignal(panel.tested, timeout=LONG) as answered:
            panel.test_request(dep.id)
        assert answered.args[0].status == 200

        with qtbot.waitSignal(panel.deployed, timeout=LONG) as second:
            panel.deploy(versions[1].model_name, versions[1].version)  # built, then run
        newer = second.args[0]
        with qtbot.waitSignal(panel.deployed, timeout=LONG) as back:
            panel.roll_back(newer.id)
        assert back.args[0].version == str(versions[0].version)
        for active in deploy.deployments(active_only=True):
            panel.stop(active.id)
        qtbot.waitUntil(lambda: not deploy.deployments(active_only=True), timeout=LONG)
        panel.close_jobs()
    finally:
        runner.shutdown(timeout=30)
