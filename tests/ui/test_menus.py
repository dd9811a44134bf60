"""The menu bar carries the journey: every menu and entry of the issue exists, an entry that
cannot act now is disabled with a tooltip saying why, and triggering one with a selection
calls into the right panel (real window, real panels, real store)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction

from app.core.docker_status import DockerStatus
from app.ui.actions import ACTIONS, NOT_AVAILABLE, Menu, docker_help
from app.ui.items import DatasetItem, TrialItem
from tests.ui.conftest import WAIT_MS, wait_idle, write_csv

EXPECTED = {
    Menu.FILE: ["Open dataset", "Open Recent", "Samples", "Export dataset", "Quit"],
    Menu.EDIT: ["Rename dataset", "Delete dataset", "Restore deleted dataset"],
    Menu.VIEW: ["Data", "Explore", "Prepare", "Runs", "Tuning", "Registry", "Deploy", "Monitor",
                "Theme"],
    Menu.DATA: ["Explore", "Prepare", "Set target and roles"],
    Menu.MODEL: ["New run", "Tune", "Compare runs", "Reproduce run", "Export code",
                 "Open its study", "Open its run", "Register", "Set alias", "Promote",
                 "Model card", "Export model", "Import model"],
    Menu.DEPLOY: ["Build image", "Deploy", "Serve locally without Docker", "Test request",
                  "Logs", "Roll back", "Stop"],
    Menu.MONITOR: ["Check drift", "Monitor", "Drop a batch", "Retrain"],
    Menu.TOOLS: ["Show store folder", "Copy store path", "Check Docker now"],
    Menu.HELP: ["Getting started", "Keyboard shortcuts", "About ModelDesk"],
}  # fmt: skip


def _titles(menu) -> list[str]:
    return [
        a.text().replace("&", "").removesuffix("…") for a in menu.actions() if not a.isSeparator()
    ]


def test_every_menu_of_the_journey_with_its_entries(window) -> None:
    bar_titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert bar_titles == [m.title.replace("&", "") for m in Menu]
    for menu, entries in EXPECTED.items():
        assert _titles(window.menus[menu]) == entries, menu
    theme = next(a.menu() for a in window.menus[Menu.VIEW].actions() if a.menu() is not None)
    assert _titles(theme) == ["System", "Light", "Dark"]
    samples = window.findChild(type(window.menus[Menu.FILE]), "modeldesk.file.samples")
    samples.aboutToShow.emit()
    assert {"iris.csv", "apartments.xlsx"} <= set(_titles(samples))


def test_every_entry_has_a_shortcut_or_a_toolbar_twin_where_expected(window) -> None:
    toolbar = {a.objectName() for a in window.toolbar.actions()}
    assert {
        "modeldesk.file.open", "modeldesk.data.explore", "modeldesk.model.new_run",
        "modeldesk.model.tune", "modeldesk.model.register", "modeldesk.deploy.deploy",
        "modeldesk.monitor.check_drift",
    } <= toolbar  # fmt: skip
    for action in ACTIONS:
        if action.menu in (Menu.DATA, Menu.MODEL, Menu.DEPLOY) and action.items:
            assert action.shortcut or action.toolbar or action.id in {
                "modeldesk.model.open_study", "modeldesk.model.open_run",
                "modeldesk.model.export",
            }, action.id  # fmt: skip
    keys = [a.shortcut for a in ACTIONS if a.shortcut]
    assert len(keys) == len(set(keys)), "two entries share a shortcut"


def test_disabled_entries_say_why(window) -> None:
    window.update_actions()
    q = window.qactions
    for entry, reason in [
        ("modeldesk.data.explore", "No dataset selected"),
        ("modeldesk.data.roles", "No dataset selected"),
        ("modeldesk.file.export", "No dataset selected"),
        ("modeldesk.model.reproduce", "No run selected"),
        ("modeldesk.model.set_alias", "No model version selected"),
        ("modeldesk.deploy.logs", "No deployment selected"),
    ]:
        assert not q[entry].isEnabled(), entry
        assert q[entry].toolTip().startswith(reason), (entry, q[entry].toolTip())
    assert q["modeldesk.file.open"].isEnabled()
    # every disabled entry carries a reason, never an empty or generic tooltip
    for qaction in q.values():
        if not qaction.isEnabled():
            assert len(qaction.toolTip()) > 12, qaction.objectName()


def test_no_docker_daemon_disables_docker_entries_with_how_to_install(window) -> None:
    window.status._on_docker_posted(DockerStatus(False, "Docker unreachable: no socket"))
    window.context.update(model="bc", model_version=1)
    window.update_actions()
    build = window.qactions["modeldesk.deploy.build"]
    serve = window.qactions["modeldesk.deploy.serve_locally"]
    if build.toolTip() != NOT_AVAILABLE:  # the Deploy panel has build_image
        assert not build.isEnabled()
        assert build.toolTip() == docker_help()
    assert "docker.io" in docker_help("linux") and "systemctl start docker" in docker_help("linux")
    assert "Docker Desktop" in docker_help("darwin") and "Docker Desktop" in docker_help("win32")
    for text in (docker_help("linux"), docker_help("darwin"), docker_help("win32")):
        assert "ci/" not in text and ".sh" not in text and "Serve locally" in text
    assert serve.toolTip() != docker_help()  # serving locally needs no daemon


def _spy(panel, method: str) -> list[tuple]:
    calls: list[tuple] = []
    setattr(panel, method, lambda *args: calls.append(args))
    return calls


@pytest.mark.parametrize(
    ("entry", "key", "method", "context", "expected"),
    [
        ("modeldesk.model.new_run", "runs", "new_run", {"dataset": "bc", "version": 1,
         "target": "y"}, (DatasetItem("bc", 1, "y"),)),
        ("modeldesk.model.tune", "tuning", "new_study", {"dataset": "bc", "version": 1},
         (DatasetItem("bc", 1, None),)),
        ("modeldesk.model.reproduce", "runs", "reproduce_run", {"run_id": 7}, (7,)),
        ("modeldesk.model.export_code", "runs", "export_code", {"run_id": 7}, (7,)),
        ("modeldesk.model.compare", "runs", "compare_runs", {"run_id": 7}, ([7],)),
        ("modeldesk.model.register", "runs", "register_run", {"run_id": 7}, (7,)),
        ("modeldesk.model.set_alias", "registry", "set_alias", {"model": "bc",
         "model_version": 2}, ("bc", 2)),
        ("modeldesk.model.promote", "registry", "promote", {"model": "bc", "model_version": 2},
         ("bc", 2)),
        ("modeldesk.model.card", "registry", "show_card", {"model": "bc", "model_version": 2},
         ("bc", 2)),
        ("modeldesk.model.import", "registry", "import_model", {}, ()),
        ("modeldesk.deploy.build", "deploy", "build_image", {"model": "bc", "model_version": 2},
         ("bc", 2)),
        ("modeldesk.deploy.serve_locally", "deploy", "serve_locally", {"model": "bc",
         "model_version": 2}, ("bc", 2)),
        ("modeldesk.deploy.test", "deploy", "test_request", {"deployment_id": 3}, (3,)),
        ("modeldesk.deploy.logs", "deploy", "show_logs", {"deployment_id": 3}, (3,)),
        ("modeldesk.deploy.roll_back", "deploy", "roll_back", {"deployment_id": 3}, (3,)),
        ("modeldesk.deploy.stop", "deploy", "stop", {"deployment_id": 3}, (3,)),
        ("modeldesk.monitor.check_drift", "monitor", "check_drift", {"model": "bc",
         "model_version": 2}, ("bc", 2)),
        ("modeldesk.monitor.retrain", "monitor", "retrain", {"model": "bc",
         "model_version": 2}, ("bc", 2)),
        ("modeldesk.monitor.drop_batch", "monitor", "drop_batch", {}, ()),
    ],
)  # fmt: skip
def test_an_entry_calls_the_panel_operation_of_the_seam(
    window, entry, key, method, context, expected
) -> None:
    """The real panel is built and shown; its operation (h8's side of the seam) is spied on."""
    panel = window.panels[key]
    calls = _spy(panel, method)
    window.status._on_docker_posted(DockerStatus(True, "Docker 28"))
    window.context.update(**context)
    window.update_actions()
    qaction: QAction = window.qactions[entry]
    assert qaction.isEnabled(), qaction.toolTip()
    qaction.trigger()
    assert calls == [expected]
    assert window.current_panel() == key


def test_compare_takes_every_run_selected_in_the_runs_panel(window) -> None:
    runs = window.panels["runs"]
    calls = _spy(runs, "compare_runs")
    runs.selected_run_ids = lambda: [3, 9]
    window.context.update(run_id=9)
    window.update_actions()
    window.qactions["modeldesk.model.compare"].trigger()
    assert calls == [([3, 9],)]


def test_register_on_a_trial_calls_the_tuning_panel(window) -> None:
    calls = _spy(window.panels["tuning"], "register_trial")
    action = next(a for a in ACTIONS if a.id == "modeldesk.model.register")
    assert window.run_action(action, TrialItem("s1", 4, 12))
    assert calls == [("s1", 4)] and window.current_panel() == "tuning"


def test_an_operation_a_panel_lacks_is_not_available_yet(window) -> None:
    window.context.update(run_id=5)
    window.has_operation = lambda key, method: method != "reproduce_run"
    window.update_actions()
    reproduce = window.qactions["modeldesk.model.reproduce"]
    assert not reproduce.isEnabled() and reproduce.toolTip() == NOT_AVAILABLE
    reproduce.trigger()  # a shortcut on a disabled entry: nothing happens, no crash
    assert window.status.currentMessage() in ("", NOT_AVAILABLE)


def test_data_entries_act_on_the_selected_dataset(qtbot, window, services, tmp_path) -> None:
    services.datasets.add_file(write_csv(tmp_path / "alpha.csv", rows=30))
    sales = services.datasets.add_file(write_csv(tmp_path / "sales.csv", rows=40)).version
    window.data_panel.refresh(select_version_id=sales.id)
    qtbot.waitUntil(lambda: window.data_panel.selected_item() is not None, timeout=WAIT_MS)
    window.update_actions()
    assert window.qactions["modeldesk.data.explore"].isEnabled()
    assert window.context.dataset_ref == "sales@1"

    window.qactions["modeldesk.data.roles"].trigger()
    assert window.data_panel.tabs.currentWidget() is window.data_panel.schema_view

    window.qactions["modeldesk.data.explore"].trigger()
    explore = window.panels["explore"]
    assert window.current_panel() == "explore"
    qtbot.waitUntil(lambda: explore.profile is not None, timeout=WAIT_MS)
    assert explore.profile.ref == "sales@1"

    window.show_panel("data")
    window.qactions["modeldesk.data.prepare"].trigger()
    prepare = window.panels["prepare"]
    qtbot.waitUntil(
        lambda: (v := prepare.selected_version()) is not None and v.ref == "sales@1",
        timeout=WAIT_MS,
    )
    wait_idle(qtbot, window.runner)


def test_a_sample_from_the_file_menu_is_ingested(qtbot, window, services) -> None:
    samples = window.findChild(type(window.menus[Menu.FILE]), "modeldesk.file.samples")
    samples.aboutToShow.emit()
    iris = next(a for a in samples.actions() if a.text() == "iris.csv")
    iris.trigger()
    qtbot.waitUntil(lambda: "iris" in window.data_panel.dataset_names(), timeout=WAIT_MS)
    wait_idle(qtbot, window.runner)
    assert [d.name for d in services.datasets.list()] == ["iris"]


def test_keyboard_shortcuts_lists_every_entry_with_a_shortcut(qtbot, window) -> None:
    window.qactions["modeldesk.help.shortcuts"].trigger()
    dialog = window.shortcuts_dialog
    assert dialog is not None and dialog.isVisible()
    rows = dialog.rows()
    assert len(rows) == sum(1 for a in ACTIONS if a.shortcut)
    assert ("Data", "Explore", "Ctrl+E") in rows
    assert ("Model", "New run", "Ctrl+R") in rows
    assert ("Help", "Keyboard shortcuts", "Ctrl+/") in rows
    dialog.close()


def test_open_its_study_finds_the_runs_study_off_the_gui_thread(qtbot, window, services) -> None:
    from app.ui.items import RunItem, StudyItem

    run_id = services.tracking.create_run(name="trial 0", study_name="bc-study", status="queued")
    lone = services.tracking.create_run(name="alone", status="queued")
    tuning = window.panels["tuning"]
    opened = _spy(tuning, "open_item")
    action = next(a for a in ACTIONS if a.id == "modeldesk.model.open_study")
    assert window.run_action(action, RunItem(run_id))
    qtbot.waitUntil(lambda: opened == [(StudyItem("bc-study"),)], timeout=WAIT_MS)
    assert window.current_panel() == "tuning"
    window.show_panel("runs")
    assert window.run_action(action, RunItem(lone))
    qtbot.waitUntil(
        lambda: "belongs to no study" in window.status.currentMessage(), timeout=WAIT_MS
    )
    assert window.current_panel() == "runs" and len(opened) == 1
