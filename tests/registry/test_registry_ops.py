"""The Registry panel's operations as the window's menus call them, on a real panel: set an
alias through its dialog, promote (the policy decides, a refusal asks for a reason), show the
card, export and import a model file; the contract's item signals name versions."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.ui.items import ModelVersionItem

from .test_registry_panel import WAIT, _aliases, panel, runner  # noqa: F401 - fixtures


def test_set_alias_and_promote_from_the_menus(qtbot, panel, services) -> None:  # noqa: F811
    panel.set_alias("churn", 2)
    dialog = panel.alias_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue("challenger")
    dialog.accept()
    qtbot.waitUntil(lambda: _aliases(services) == {"challenger": 2}, timeout=WAIT)

    panel.promote("churn", 1)  # the better one: the policy lets it through
    qtbot.waitUntil(lambda: _aliases(services).get("champion") == 1, timeout=WAIT)
    panel.promote("churn", 2)  # the worse one: refused, a reason is asked for
    qtbot.waitUntil(lambda: panel.reason_dialog is not None, timeout=WAIT)
    assert "worse" in panel.reason_dialog.message.text()
    assert _aliases(services)["champion"] == 1


def test_card_export_and_import(qtbot, panel, services, tmp_path) -> None:  # noqa: F811
    panel.show_card("churn", 1)
    qtbot.waitUntil(lambda: panel.selected_item() == ModelVersionItem("churn", 1), timeout=WAIT)
    page = panel.detail.currentWidget()
    assert page is panel.card or page.isAncestorOf(panel.card)
    qtbot.waitUntil(lambda: "Model card: churn@1" in panel.card.toPlainText(), timeout=WAIT)

    path = tmp_path / "churn-1.skops"
    panel.export_model("churn", 1, str(path))
    qtbot.waitUntil(lambda: panel.last_export is not None, timeout=WAIT)
    assert path.stat().st_size > 0

    panel.import_model(str(path))
    qtbot.waitUntil(lambda: panel.trust_dialog is not None, timeout=WAIT)
    panel.trust_dialog.name.setText("churn_imported")
    for box in panel.trust_dialog.boxes:  # the person trusts the types skops lists
        box.setChecked(True)
    panel.trust_dialog.accept()
    qtbot.waitUntil(
        lambda: [m.name for m in services.registry.list_models()].count("churn_imported") == 1,
        timeout=WAIT,
    )


def test_item_signals_name_versions(qtbot, panel) -> None:  # noqa: F811
    panel.select_version(2)
    qtbot.waitUntil(lambda: panel.selected_item() == ModelVersionItem("churn", 2), timeout=WAIT)
    row = panel.versions.model().row_of(1)
    pos = panel.versions.visualRect(panel.versions.model().index(row, 0)).center()
    with qtbot.waitSignal(panel.item_menu_requested, timeout=WAIT) as menu:
        panel.versions.customContextMenuRequested.emit(pos)
    assert menu.args[0] == ModelVersionItem("churn", 1)
    with qtbot.waitSignal(panel.item_activated, timeout=WAIT) as activated:
        panel.versions.activated.emit(panel.versions.model().index(row, 0))
    assert activated.args == [ModelVersionItem("churn", 1)]
