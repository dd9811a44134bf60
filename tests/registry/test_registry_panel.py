"""The Registry panel with real services and widgets: move an alias through the policy and
its reason dialog, drop an alias on a version, click a lineage node, import with trust."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.jobs.runner import JobRunner
from app.ui.context import CurrentContext
from app.ui.items import ModelVersionItem

WAIT = 20_000


@pytest.fixture
def runner():
    r = JobRunner()
    yield r
    r.shutdown(timeout=10)


@pytest.fixture
def panel(qtbot, services, runner, good_and_bad_runs):
    from app.ui.panels.registry_panel import build_panel

    good, bad = good_and_bad_runs
    services.registry.register(good.id, "churn")
    services.registry.register(bad.id, "churn")
    p = build_panel(services, runner, CurrentContext())
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: p.versions.model().rowCount() == 2, timeout=WAIT)
    yield p
    p.close_jobs()
    # let jobs still running end before the panel (and their bridges) is deleted: a worker
    # thread emitting on a bridge while the GUI thread deletes it can crash the process
    qtbot.waitUntil(lambda: not runner.live, timeout=WAIT)
    if shiboken6.isValid(p):
        p.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _aliases(services) -> dict[str, int]:
    return services.registry.get_model("churn").aliases


def test_alias_button_moves_then_policy_asks_for_a_reason(qtbot, panel, services) -> None:
    panel.select_version(1)
    qtbot.waitUntil(lambda: bool(panel.lineage.nodes), timeout=WAIT)
    panel.alias_box.setCurrentText("champion")
    qtbot.mouseClick(panel.alias_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _aliases(services) == {"champion": 1}, timeout=WAIT)
    qtbot.waitUntil(lambda: panel.aliases.count() == 1, timeout=WAIT)

    panel.select_version(2)  # the worse one
    qtbot.mouseClick(panel.alias_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.reason_dialog is not None, timeout=WAIT)
    dialog = panel.reason_dialog
    assert "worse" in dialog.message.text()
    assert not dialog.force_button.isEnabled()  # no reason, no force
    assert _aliases(services) == {"champion": 1}
    dialog.reason.setPlainText("Shadow test approved by the review board")
    qtbot.mouseClick(dialog.force_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _aliases(services) == {"champion": 2}, timeout=WAIT)
    entry = services.registry.audit_log("churn@2", action="alias.set")[-1]
    assert entry.details["forced"] and "review board" in entry.details["reason"]


def test_dropping_an_alias_on_a_version_moves_it(qtbot, panel, services) -> None:
    services.registry.set_alias("churn", "challenger", 1)
    panel.refresh()
    qtbot.waitUntil(lambda: panel.aliases.count() == 1, timeout=WAIT)
    from app.ui.panels.registry_panel import ALIAS_MIME

    mime = QMimeData()
    mime.setData(ALIAS_MIME, b"challenger")
    table = panel.versions
    row = table.model().row_of(2)
    pos = QPointF(table.visualRect(table.model().index(row, 0)).center())
    drop = QDropEvent(
        pos,
        Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(
        pos.toPoint(),
        Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(table.viewport(), enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(table.alias_dropped, timeout=WAIT) as dropped:
        QApplication.sendEvent(table.viewport(), drop)
    assert dropped.args == ["challenger", 2]
    qtbot.waitUntil(lambda: _aliases(services) == {"challenger": 2}, timeout=WAIT)


def test_lineage_node_click_asks_to_open_its_panel(qtbot, panel, services) -> None:
    panel.select_version(1)
    # the first row's (churn@2) detail may still arrive first: wait for churn@1's
    qtbot.waitUntil(
        lambda: "Model card: churn@1" in panel.card.toPlainText() and len(panel.lineage.nodes) == 3,
        timeout=WAIT,
    )
    run_node = next(n for n in panel.lineage.nodes.values() if n.node["kind"] == "run")
    with qtbot.waitSignal(panel.open_requested, timeout=WAIT) as blocker:
        run_node._on_click(run_node.node)
    from app.ui.items import RunItem

    assert blocker.args == ["runs", RunItem(services.registry.resolve("churn@1").run_id)]
    assert "Model card: churn@1" in panel.card.toPlainText()
    assert panel.audit.rowCount() >= 1 and panel.signature.rowCount() == 3


def test_compare_archive_and_import_with_trust(qtbot, panel, services, tmp_path) -> None:
    panel.versions.selectAll()
    assert panel.compare_button.isEnabled()
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    assert panel.compare.rowCount() > 5

    panel.select_version(2)
    qtbot.waitUntil(lambda: panel.archive_button.isEnabled(), timeout=WAIT)
    qtbot.mouseClick(panel.archive_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: services.registry.resolve("churn@2").status == "archived", timeout=WAIT)

    out = tmp_path / "churn.skops"
    panel.select_version(1)
    panel._export("skops", str(out))
    qtbot.waitUntil(lambda: panel.last_export is not None, timeout=WAIT)
    panel._choose_import(str(out))
    qtbot.waitUntil(lambda: panel.trust_dialog is not None, timeout=WAIT)
    dialog = panel.trust_dialog
    from app.core.training.model_io import KNOWN_SAFE_TYPES  # not asked about (numpy.dtype)

    needed = set(services.registry.resolve("churn@1").trusted_types) - KNOWN_SAFE_TYPES
    assert [b.text() for b in dialog.boxes] == sorted(needed)
    dialog.name.setText("imported")
    for box in dialog.boxes:
        box.setChecked(True)
    dialog.accept()
    qtbot.waitUntil(
        lambda: [m.name for m in services.registry.list_models()] == ["churn", "imported"],
        timeout=WAIT,
    )


def _is(ref: str):
    return lambda version: version.ref == ref


def test_select_opens_a_version_by_ref_or_id(qtbot, panel, services, good_and_bad_runs) -> None:
    """What the main window does when another panel asks to open a registry node."""
    good, _ = good_and_bad_runs
    services.registry.register(good.id, "fraud")
    panel.search.setText("churn")  # hides 'fraud': select must still find it
    qtbot.waitUntil(lambda: panel.models.count() == 1, timeout=WAIT)

    # a detail still loading from the search may arrive first: wait for the asked one
    with qtbot.waitSignal(panel.version_selected, timeout=WAIT, check_params_cb=_is("fraud@1")):
        panel.open_item(ModelVersionItem("fraud", 1))
    assert panel.current_model() == "fraud" and panel.selected_versions() == [1]
    assert panel.search.text() == "" and panel.models.count() == 2

    churn1 = services.registry.resolve("churn@1")
    with qtbot.waitSignal(panel.version_selected, timeout=WAIT, check_params_cb=_is("churn@1")):
        panel.show_version(churn1.id)  # images and deployments know the version by its id
    assert panel.selected_versions() == [1]

    services.registry.register(good.id, "churn")  # not in the table yet
    with qtbot.waitSignal(panel.version_selected, timeout=WAIT, check_params_cb=_is("churn@3")):
        panel.open_item(ModelVersionItem("churn", 3))
    assert panel.selected_versions() == [3]
    assert panel.versions.model().rowCount() == 3

    panel.open_item(ModelVersionItem("churn", 9))
    qtbot.waitUntil(
        lambda: any("no version 9" in m for m in panel.messages.messages()), timeout=WAIT
    )
    assert panel.selected_versions() == [3]


def test_versions_model_shows_status_aliases_and_metric(qtbot, panel, services) -> None:
    services.registry.set_alias("churn", "champion", 1)
    services.registry.archive("churn@2")
    panel.refresh()
    model = panel.versions.model()
    qtbot.waitUntil(lambda: model.index(1, 2).data() == "champion", timeout=WAIT)
    assert [model.index(r, 0).data() for r in range(2)] == ["2", "1"]
    assert model.index(0, 1).data() == "archived" and model.index(1, 1).data() == "active"
    assert model.index(1, 3).data().startswith("roc_auc 0.")
    assert model.headerData(3, Qt.Orientation.Horizontal) == "Metric"
