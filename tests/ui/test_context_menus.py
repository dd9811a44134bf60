"""Every item offers its next step: a real right-click on a dataset row opens a menu of the
dataset's actions (from the same list as the menu bar), and a double-click runs the first."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from app.ui.actions import CONTEXT_MENUS, context_actions, default_action
from app.ui.items import (
    DatasetItem,
    DeploymentItem,
    ModelVersionItem,
    RunItem,
    StudyItem,
    TrialItem,
)
from tests.ui.conftest import WAIT_MS, wait_idle, write_csv


def _version_row_center(tree, name: str) -> QPoint:
    top = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
               if tree.topLevelItem(i).text(0) == name)  # fmt: skip
    return tree.visualItemRect(top.child(0)).center()


def _ready(qtbot, window, services, tmp_path):
    services.datasets.add_file(write_csv(tmp_path / "alpha.csv", rows=20))
    services.datasets.add_file(write_csv(tmp_path / "sales.csv", rows=40))
    panel = window.data_panel
    panel.refresh()
    qtbot.waitUntil(lambda: {"alpha", "sales"} <= set(panel.dataset_names()), timeout=WAIT_MS)
    return panel


def test_right_click_on_a_dataset_opens_its_next_steps(qtbot, window, services, tmp_path) -> None:
    panel = _ready(qtbot, window, services, tmp_path)
    viewport = panel.tree.viewport()
    pos = _version_row_center(panel.tree, "sales")
    # through the window system, as a real click: Qt makes the context-menu event from it
    handle = window.windowHandle()
    at = viewport.mapTo(window, pos)
    with qtbot.waitSignal(panel.item_menu_requested, timeout=WAIT_MS) as request:
        QTest.mouseClick(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), at)
        QTest.mousePress(handle, Qt.MouseButton.RightButton, Qt.KeyboardModifier(0), at)
        QTest.mouseRelease(handle, Qt.MouseButton.RightButton, Qt.KeyboardModifier(0), at)
    item = request.args[0]
    assert item == DatasetItem("sales", 1, None)
    menu = window.item_menu
    assert isinstance(menu, QMenu) and menu.isVisible()
    titles = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert titles == [a.title for a in context_actions(item) if a is not None]
    assert titles[:4] == ["&Explore", "&Prepare…", "&New run…", "&Tune…"]
    assert "Set &target and roles…" in titles
    assert menu.defaultAction().text() == "&Explore"
    for entry in menu.actions():
        if not entry.isSeparator() and not entry.isEnabled():
            assert entry.toolTip(), entry.text()  # a disabled step says why

    roles = next(a for a in menu.actions() if a.objectName() == "modeldesk.data.roles")
    menu.close()
    roles.trigger()
    assert window.current_panel() == "data"
    assert panel.tabs.currentWidget() is panel.schema_view
    wait_idle(qtbot, window.runner)


def test_double_click_runs_the_default_step(qtbot, window, services, tmp_path) -> None:
    panel = _ready(qtbot, window, services, tmp_path)
    viewport = panel.tree.viewport()
    pos = _version_row_center(panel.tree, "sales")
    handle, at = window.windowHandle(), viewport.mapTo(window, pos)
    with qtbot.waitSignal(panel.item_activated, timeout=WAIT_MS):
        QTest.mouseClick(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), at)
        QTest.mouseDClick(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), at)
    assert window.current_panel() == "explore"  # a dataset's default: explore it
    explore = window.panels["explore"]
    qtbot.waitUntil(lambda: explore.profile is not None, timeout=WAIT_MS)
    assert explore.profile.ref == "sales@1"
    wait_idle(qtbot, window.runner)

    window.show_panel("data")  # Enter on the selected row does the same
    with qtbot.waitSignal(panel.item_activated, timeout=WAIT_MS):
        QTest.keyClick(panel.tree, Qt.Key.Key_Return)
    assert window.current_panel() == "explore"
    wait_idle(qtbot, window.runner)


def test_every_kind_has_its_next_steps_in_the_order_of_the_issue() -> None:
    def ids(item):
        return [a.id.rsplit(".", 1)[1] for a in context_actions(item) if a is not None]

    assert ids(DatasetItem("d", 1))[:5] == ["explore", "prepare", "new_run", "tune", "roles"]
    assert ids(RunItem(1)) == ["register", "compare", "reproduce", "export_code", "open_study"]
    assert ids(TrialItem("s", 1, 2)) == ["open_run", "register"]
    assert ids(ModelVersionItem("m", 1))[:6] == [
        "set_alias", "card", "build", "deploy", "serve_locally", "check_drift",
    ]  # fmt: skip
    assert ids(DeploymentItem(1)) == ["logs", "test", "open", "roll_back", "stop"]
    assert set(CONTEXT_MENUS) == {
        DatasetItem, RunItem, TrialItem, StudyItem, ModelVersionItem, DeploymentItem,
    }  # fmt: skip
    assert default_action(TrialItem("s", 1, 2)).id == "modeldesk.model.open_run"


def test_another_panels_item_menu_is_built_by_the_window(qtbot, window) -> None:
    """A panel's item_menu_requested (here a model version) gets the version's steps; a step
    the panel cannot do yet is disabled with the reason."""
    menu = window.show_item_menu(ModelVersionItem("bc", 2), QPoint(10, 10))
    assert menu is not None
    titles = [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]
    assert titles[:3] == ["Set alias…", "Model card", "Build image…"]
    menu.close()
    QApplication.processEvents()
