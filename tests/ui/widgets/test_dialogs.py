"""The sheet chooser and the error dialog for bugs."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from app.ui.widgets.error_dialog import ErrorDialog, show_unexpected_error
from app.ui.widgets.sheet_dialog import SheetDialog


def test_sheet_dialog_all_checked_then_none_disables_ingest(qtbot) -> None:
    dialog = SheetDialog("book.xlsx", ["Jan", "Feb", "Notes"])
    qtbot.addWidget(dialog)
    assert dialog.chosen() == ["Jan", "Feb", "Notes"]
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog._set_all(Qt.CheckState.Unchecked)
    assert dialog.chosen() == [] and not ok.isEnabled()
    dialog.list.item(1).setCheckState(Qt.CheckState.Checked)
    assert dialog.chosen() == ["Feb"] and ok.isEnabled()


def test_unexpected_error_is_logged_and_shown_with_traceback(qtbot, caplog) -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        error = exc
    with caplog.at_level(logging.ERROR, logger="modeldesk.ui"):
        dialog = show_unexpected_error(error)
    qtbot.addWidget(dialog)
    assert isinstance(dialog, ErrorDialog) and dialog.isVisible()
    assert "KeyError" in dialog.details.toPlainText()
    assert "Traceback" in dialog.details.toPlainText()
    assert any("Unexpected error: KeyError" in r.getMessage() for r in caplog.records)
    dialog.close()
