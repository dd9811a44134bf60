"""Regressions of what the journey on the real daemon found, each without Docker.

- Menu entries whose panel operation lives in a mixin (``RunOperations.new_run``,
  ``TrialRegistering.register_trial``, ``LocalServing.serve_locally``…) said "Not available
  yet" until that panel had been shown once.
- Test request… on a deployment replaced the rows the person had typed with the image's input
  example (selecting the deployment re-filled the form) and sent those instead.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from PySide6.QtWidgets import QWidget

from app.core.deploy.entities import Deployment, Image
from app.ui.actions import ACTIONS
from app.ui.commands import ByKind, PanelCall, module_defines
from app.ui.panels import panel_spec


def _panel_calls() -> list[tuple[str, PanelCall]]:
    calls = []
    for action in ACTIONS:
        run = action.run
        if isinstance(run, ByKind):
            calls += [(action.id, call) for call in run.calls.values()]
        elif isinstance(run, PanelCall):
            calls.append((action.id, run))
    return calls


def test_every_panel_operation_is_found_before_its_panel_is_built(window) -> None:
    calls = _panel_calls()
    assert len(calls) > 15
    built = set(window.panels.built())
    missing = [
        (action_id, call.key, call.method)
        for action_id, call in calls
        if call.key not in built and not window.has_operation(call.key, call.method)
    ]
    assert missing == []
    assert not module_defines(panel_spec("runs").module, "no_such_operation")


def test_new_run_is_enabled_in_a_fresh_window_on_a_dataset(window, services) -> None:
    import pyarrow as pa

    from app.ui.items import DatasetItem

    table = pa.table({"x": [1, 2, 3, 4], "y": [0, 1, 0, 1]})
    services.datasets.add_table(table, name="tiny", source_kind="test")
    assert "runs" not in window.panels.built()
    window.context.update(dataset="tiny", version=1, target="y")
    window.update_actions()
    qaction = window.qactions["modeldesk.model.new_run"]
    assert qaction.isEnabled(), qaction.toolTip()
    menu = window.show_item_menu(DatasetItem("tiny", 1, "y"), window.rect().center())
    entry = next(a for a in menu.actions() if a.objectName() == "modeldesk.model.tune")
    assert entry.isEnabled(), entry.toolTip()
    menu.close()


def _image(image_id: int, rows: list[dict]) -> Image:
    return Image(
        id=image_id,
        model_version_id=1,
        tag=f"modeldesk/m:v{image_id}",
        image_id=f"sha256:{image_id}",
        status="built",
        size=1,
        base_image="base",
        labels={"io.modeldesk.model": "m", "io.modeldesk.version": str(image_id)},
        build_seconds=1.0,
        error="",
        created_at=datetime.now(UTC),
        example={"rows": rows},
    )


def _deployment(dep_id: int, image_row_id: int) -> Deployment:
    return Deployment(
        id=dep_id,
        image_row_id=image_row_id,
        model_version_id=1,
        container_id="c",
        container_name="n",
        host="127.0.0.1",
        port=1,
        status="running",
        options={},
        smoke_test={"ok": True},
        created_at=datetime.now(UTC),
        stopped_at=None,
        model="m",
        version=str(image_row_id),
    )


def test_selecting_a_deployment_keeps_the_rows_typed_in_the_test_request(qtbot, runner) -> None:
    from app.ui.job_bridge import PanelJobs
    from app.ui.panels.deploy_run import RunSection
    from app.ui.widgets.message_bar import MessageBar

    owner = QWidget()
    qtbot.addWidget(owner)
    jobs = PanelJobs(owner, runner, on_failed=lambda *_a: None)
    section = RunSection(deploy=None, jobs=jobs, messages=MessageBar(), parent=owner)
    first, second = [{"a": 1}], [{"a": 2}]
    section.show_lists([_image(1, first), _image(2, second)], [_deployment(7, 2)])

    # an untouched form follows the selection: each image offers its input example
    assert section.images_table.select_id(1)
    assert json.loads(section.request_edit.toPlainText()) == first
    assert section.images_table.select_id(2)
    assert json.loads(section.request_edit.toPlainText()) == second

    # rows the person typed stay when a deployment (or another image) is selected
    typed = [{"a": 3}, {"a": 4}]
    section.request_edit.setPlainText(json.dumps(typed))
    assert section.deploy_table.select_id(7)
    assert section.images_table.select_id(1)
    assert json.loads(section.request_edit.toPlainText()) == typed

    # cleared, the form takes the example again
    section.request_edit.clear()
    assert section.images_table.select_id(2)
    assert json.loads(section.request_edit.toPlainText()) == second
    section.stop_logs()
    jobs.close()
