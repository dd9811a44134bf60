"""MessageBar: errors with hint and details, no traceback; a queue with a count in one fixed
place over the panel, so messages never move the panel's content; closable."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

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
def panel(qtbot):
    """A panel as the real ones are laid out: the bar first, then the content."""
    parent = QWidget()  # qtbot holds widgets weakly: this frame keeps the parent alive
    qtbot.addWidget(parent)
    layout = QVBoxLayout(parent)
    parent.messages = MessageBar()
    parent.content = QPushButton("content")
    layout.addWidget(parent.messages)
    layout.addWidget(QLabel("toolbar row"))
    layout.addWidget(parent.content, 1)
    parent.resize(700, 420)
    parent.show()
    qtbot.waitExposed(parent)
    yield parent


def test_error_shows_message_hint_and_details_without_traceback(qtbot, panel) -> None:
    bar = panel.messages
    assert not bar.showing()  # nothing on screen while empty
    item = bar.show_error(_error_with_cause(), subject="data.csv")
    assert bar.showing() and item.level is Level.ERROR
    assert item.text == "data.csv is not UTF-8 text."  # the subject is already named
    assert bar.messages() == ["data.csv is not UTF-8 text. Save it as UTF-8."]
    assert item.details_button.isVisible() and not item.details_view.isVisible()
    item.details_button.click()
    assert item.details_view.isVisible()
    qtbot.waitUntil(lambda: bar.overlay.height() >= item.details_view.height())
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


def test_four_messages_do_not_move_the_content(qtbot, panel) -> None:
    bar = panel.messages
    before = panel.content.geometry()
    for i in range(4):
        bar.error(f"Problem {i}", hint="A hint long enough to wrap " * (i + 1))
        qtbot.wait(0)  # let the layout run
        assert panel.content.geometry() == before
    assert bar.showing() and bar.count_label.text() == "1 of 4"
    assert bar.current().text == "Problem 3"
    bar.next_button.click()
    assert bar.current().text == "Problem 2" and bar.count_label.text() == "2 of 4"
    bar.clear()
    assert panel.content.geometry() == before and not bar.showing()
    # the overlay lies along the panel's bottom, inside its margins, as wide as the bar
    bar.info("Back")
    assert bar.overlay.parentWidget() is panel
    margin = panel.layout().contentsMargins().bottom()
    assert bar.overlay.geometry().bottom() == panel.height() - margin - 1
    assert bar.overlay.x() == bar.x() and bar.overlay.width() == bar.width()
    panel.resize(800, 500)  # it follows the panel
    qtbot.waitUntil(lambda: bar.overlay.geometry().bottom() == panel.height() - margin - 1)


def test_close_button_and_bounded_count(panel) -> None:
    bar = panel.messages
    for i in range(MessageBar.MAX_MESSAGES + 3):
        bar.info(f"m{i}")
    assert len(bar.items()) == MessageBar.MAX_MESSAGES
    bar.info("m2")  # the same message again moves to the top, no duplicate
    assert bar.messages()[0] == "m2" and bar.messages().count("m2") == 1
    while bar.items():
        bar.current().close_button.click()
    assert bar.items() == [] and not bar.showing()
