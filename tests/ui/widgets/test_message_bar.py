"""MessageBar: errors with hint and details, no traceback; several at once; closable."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.core.errors import InvalidInput
from app.ui.widgets.message_bar import Level, MessageBar


def _error_with_cause() -> InvalidInput:
    try:
        try:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        except UnicodeDecodeError as exc:
            raise InvalidInput("data.csv is not UTF-8 text.", hint="Save it as UTF-8.") from exc
    except InvalidInput as err:
        return err


@pytest.fixture
def bar(qtbot):
    parent = QWidget()  # qtbot holds widgets weakly: this frame keeps the parent alive
    qtbot.addWidget(parent)
    message_bar = MessageBar(parent)
    QVBoxLayout(parent).addWidget(message_bar)
    parent.show()
    yield message_bar


def test_error_shows_message_hint_and_details_without_traceback(bar) -> None:
    assert not bar.isVisible()  # hidden while empty
    item = bar.show_error(_error_with_cause(), subject="data.csv")
    assert bar.isVisible() and item.level is Level.ERROR
    assert item.text == "data.csv is not UTF-8 text."  # the subject is already named
    assert bar.messages() == ["data.csv is not UTF-8 text. Save it as UTF-8."]
    assert item.details_button.isVisibleTo(bar) and not item.details_view.isVisibleTo(bar)
    item.details_button.click()
    assert item.details_view.isVisibleTo(bar)
    assert "UnicodeDecodeError" in item.details_view.toPlainText()
    assert "Traceback" not in item.details_view.toPlainText()


def test_subject_prefixed_when_missing_and_newest_first(qtbot) -> None:
    bar = MessageBar()
    qtbot.addWidget(bar)
    bar.show_error(InvalidInput("The file has no rows."), subject="a.csv")
    bar.warning("Second")
    bar.info("Third")
    assert bar.messages() == ["Third", "Second", "a.csv: The file has no rows."]
    assert bar.messages(Level.ERROR) == ["a.csv: The file has no rows."]


def test_close_button_and_bounded_count(bar) -> None:
    for i in range(MessageBar.MAX_MESSAGES + 3):
        bar.info(f"m{i}")
    assert len(bar.items()) == MessageBar.MAX_MESSAGES
    bar.info("m2")  # the same message again moves to the top, no duplicate
    assert bar.messages()[0] == "m2" and bar.messages().count("m2") == 1
    for item in bar.items():
        item.close_button.click()
    assert bar.items() == [] and not bar.isVisible()
