"""A first launch that teaches: an empty store shows the start page (open a file, try a
sample, the journey in five steps); Help ▸ Getting started opens it again."""

from __future__ import annotations

from app import resources
from app.ui.start_page import JOURNEY, StartPage
from tests.ui.conftest import WAIT_MS, wait_idle, write_csv


def test_an_empty_store_shows_the_start_page_and_a_sample_starts_the_journey(
    qtbot, window, services
) -> None:
    qtbot.waitUntil(lambda: window.start_page is not None, timeout=WAIT_MS)
    page = window.start_page
    assert isinstance(page, StartPage) and window.stack.currentWidget() is page
    assert page.isVisible() and page.open_button.isVisible()
    assert set(page.sample_buttons) == set(resources.samples()) >= {"iris.csv"}
    assert len(page.step_labels) == len(JOURNEY) == 5

    page.sample_buttons["iris.csv"].click()
    qtbot.waitUntil(lambda: "iris" in window.data_panel.dataset_names(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.data_panel, timeout=WAIT_MS)
    wait_idle(qtbot, window.runner)
    assert [d.latest.rows for d in services.datasets.list()] == [150]


def test_getting_started_opens_the_same_page(qtbot, make_window, services, tmp_path) -> None:
    services.datasets.add_file(write_csv(tmp_path / "sales.csv"))
    window = make_window()
    qtbot.waitUntil(lambda: "sales" in window.data_panel.dataset_names(), timeout=WAIT_MS)
    assert window.start_page is None  # a store with data opens on the panels
    window.qactions["modeldesk.help.start"].trigger()
    assert window.stack.currentWidget() is window.start_page
    window.qactions["modeldesk.view.runs"].trigger()  # any panel leaves it
    assert window.stack.currentWidget() is window.panels["runs"]
    window.qactions["modeldesk.help.start"].trigger()
    window.qactions["modeldesk.view.runs"].trigger()  # even the panel that was current
    assert window.stack.currentWidget() is window.panels["runs"]
    wait_idle(qtbot, window.runner)
