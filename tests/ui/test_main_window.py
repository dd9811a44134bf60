"""The main window: drops, menus, status bar and what survives a restart."""

from __future__ import annotations

import platform
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from app.ui.actions import Menu
from app.ui.panels import PANELS
from app.ui.widgets.message_bar import Level
from tests.ui.conftest import drop_files, drop_urls, wait_idle, write_csv


def _stored(services) -> list[str]:
    return [d.name for d in services.datasets.list(include_deleted=True)]


def test_dropping_a_csv_lists_it_and_shows_its_schema(qtbot, window, services, tmp_path) -> None:
    csv = write_csv(tmp_path / "sales.csv", rows=40)
    entered, dropped = drop_files(window, csv)
    assert entered and dropped
    panel = window.data_panel
    qtbot.waitUntil(lambda: "sales" in panel.dataset_names(), timeout=20_000)
    wait_idle(qtbot, window.runner)
    assert window.current_panel() == "data"
    assert panel.shown_version() is not None and panel.shown_version().name == "sales"
    assert panel.schema_model.column_names() == ["id", "price", "city", "flag"]
    assert panel.schema_model.rowCount() == 4
    assert panel.table_model.rowCount() == 40
    assert _stored(services) == ["sales"]
    assert panel.messages.messages() == []


def test_dropping_two_files_ingests_both(qtbot, window, services, tmp_path) -> None:
    first = write_csv(tmp_path / "first.csv", rows=10)
    second = write_csv(tmp_path / "second.csv", rows=20, seed=3)
    drop_files(window, first, second)
    panel = window.data_panel
    qtbot.waitUntil(lambda: {"first", "second"} <= set(panel.dataset_names()), timeout=20_000)
    wait_idle(qtbot, window.runner)
    assert sorted(_stored(services)) == ["first", "second"]
    rows = {d.name: d.latest.rows for d in services.datasets.list()}
    assert rows == {"first": 10, "second": 20}


def test_dropping_bad_files_shows_why_and_stores_nothing(qtbot, window, services, tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    unsupported = tmp_path / "notes.docx"
    unsupported.write_bytes(b"PK\x03\x04 not a table")
    before = _stored(services)
    drop_files(window, empty, unsupported)
    bar = window.data_panel.messages
    qtbot.waitUntil(lambda: len(bar.messages(Level.ERROR)) == 2, timeout=20_000)
    wait_idle(qtbot, window.runner)
    texts = bar.messages(Level.ERROR)
    assert any(t.startswith("empty.csv is empty") for t in texts), texts
    assert any(t.startswith("notes.docx is not a supported data file") for t in texts), texts
    assert any("Supported files: .csv" in t for t in texts), texts  # the hint is shown
    assert all("Traceback" not in t for t in texts)
    assert _stored(services) == before == []
    assert window.data_panel.dataset_names() == []
    files = [p for p in services.artifacts.root.rglob("*") if p.is_file()]
    assert files == []


def test_dropping_a_web_address_is_refused_with_a_reason(qtbot, window, services) -> None:
    drop_urls(window, [QUrl("https://example.com/data.csv")])
    texts = window.data_panel.messages.messages(Level.ERROR)
    assert len(texts) == 1 and "https://example.com/data.csv" in texts[0]
    assert "only local files" in texts[0] and "Download it first" in texts[0]
    wait_idle(qtbot, window.runner)
    assert _stored(services) == []


def test_panel_recent_files_and_geometry_survive_a_restart(qtbot, make_window, tmp_path) -> None:
    csv = write_csv(tmp_path / "kept.csv")
    first = make_window()
    drop_files(first, csv)
    qtbot.waitUntil(lambda: "kept" in first.data_panel.dataset_names(), timeout=20_000)
    wait_idle(qtbot, first.runner)
    first.show_panel("runs")
    first.resize(790, 560)  # panels are built on first show; their minimum size applies
    size = (first.width(), first.height())
    first.close()

    second = make_window()
    assert second.current_panel() == "runs"
    assert second.stack.currentWidget() is second.panels["runs"]
    assert second.switcher.currentItem().text() == "Runs"
    assert (second.width(), second.height()) == size
    assert second.recent_files()[0] == str(csv.resolve())
    wait_idle(qtbot, second.runner)


def test_runs_panel_splitter_survives_a_restart(qtbot, make_window) -> None:
    first = make_window()
    first.show_panel("runs")
    runs = first.panels["runs"]
    runs.splitter.setSizes([100, 500])
    sizes = runs.splitter.sizes()
    first.close()

    second = make_window()
    second.show_panel("runs")
    assert second.panels["runs"].splitter.sizes() == sizes
    wait_idle(qtbot, second.runner)


def test_recent_files_keep_ten_newest_first(qtbot, window, tmp_path) -> None:
    for i in range(12):
        window.recent.add(tmp_path / f"f{i}.csv")
    window.recent.add(tmp_path / "f5.csv")
    recent = window.recent_files()
    assert len(recent) == 10 and recent[0].endswith("f5.csv") and recent[1].endswith("f11.csv")
    assert sum(r.endswith("f5.csv") for r in recent) == 1


def test_open_recent_menu_reingests(qtbot, window, services, tmp_path) -> None:
    csv = write_csv(tmp_path / "again.csv")
    window.open_files([csv])
    qtbot.waitUntil(lambda: "again" in window.data_panel.dataset_names(), timeout=20_000)
    wait_idle(qtbot, window.runner)
    recent_menu = window.menus[Menu.FILE].findChild(QMenu, "modeldesk.file.open_recent")
    recent_menu.aboutToShow.emit()
    entries = [a for a in recent_menu.actions() if a.text() == str(csv.resolve())]
    assert len(entries) == 1
    entries[0].trigger()
    bar = window.data_panel.messages
    qtbot.waitUntil(lambda: any("already stored" in m for m in bar.messages()), timeout=20_000)
    wait_idle(qtbot, window.runner)
    assert len(services.datasets.get("again").versions) == 1


def test_status_bar_shows_store_and_counts_jobs(qtbot, window, services, tmp_path) -> None:
    status = window.status
    assert services.store.url_for_display in status.store_label.text()
    assert str(services.store.db_path) in status.store_label.text()
    counts: list[int] = []
    window.job_count_changed.connect(counts.append)
    drop_files(window, write_csv(tmp_path / "counted.csv"))
    qtbot.waitUntil(lambda: "counted" in window.data_panel.dataset_names(), timeout=20_000)
    wait_idle(qtbot, window.runner)
    qtbot.waitUntil(lambda: status.jobs_label.text() == "No jobs running", timeout=5_000)
    assert 1 in counts and counts[-1] == 0
    assert status.job_count == 0


def test_status_bar_reports_docker_state(qtbot, window) -> None:
    status = window.status
    with qtbot.waitSignal(status.docker_changed, timeout=15_000) as blocker:
        status.check_docker_now()
    state = blocker.args[0]
    text = status.docker_label.text()
    if state.ok:
        assert text.startswith("Docker ")
    else:
        assert text == "Docker unreachable"
        assert "DOCKER_HOST" in status.docker_label.toolTip()


def test_view_menu_has_one_entry_per_panel_with_ctrl_digits(qtbot, window) -> None:
    view = window.menus[Menu.VIEW]
    entries = [a for a in view.actions() if not a.isSeparator() and a.menu() is None]
    assert [a.text() for a in entries] == [p.title for p in PANELS]
    expected = [QKeySequence(f"Ctrl+{i}") for i in range(1, len(PANELS) + 1)]
    assert [a.shortcut() for a in entries] == expected
    ctrl2 = next(a for a in entries if a.shortcut() == QKeySequence("Ctrl+2"))
    ctrl2.trigger()
    assert window.current_panel() == "explore"
    explore = window.stack.currentWidget()
    assert explore is window.panels["explore"] and explore.isVisible()


def test_every_panel_is_built_from_its_spec_module(window) -> None:
    import importlib

    for spec in PANELS:
        panel = window.panels[spec.key]
        module = importlib.import_module(spec.module)
        assert type(panel).__module__.startswith("app.ui.panels.")
        assert callable(module.build_panel) and callable(module.main)
        assert "\n" not in spec.summary and "will hold" not in spec.summary


def test_file_and_edit_menus_from_the_action_list(window) -> None:
    def entries(menu: Menu) -> dict[str, str]:
        return {
            a.text(): a.shortcut().toString()
            for a in window.menus[menu].actions()
            if not a.isSeparator()
        }

    file_menu = entries(Menu.FILE)
    assert file_menu["&Open dataset…"] == "Ctrl+O" and file_menu["&Quit"] == "Ctrl+Q"
    assert "Open &Recent" in file_menu and "&Export dataset…" in file_menu
    edit = entries(Menu.EDIT)
    assert edit["&Rename dataset…"] == "F2" and edit["&Delete dataset"] == "Del"
    assert "Re&store deleted dataset…" in edit
    assert {"Show &store folder", "&Copy store path"} <= set(entries(Menu.TOOLS))
    # nothing selected: commands on a dataset are disabled
    window.update_actions()
    assert not window.qactions["modeldesk.dataset.rename"].isEnabled()
    assert not window.qactions["modeldesk.file.export"].isEnabled()


def test_about_names_python_and_library_versions(qtbot, window) -> None:
    window.qactions["modeldesk.help.about"].trigger()
    box = window.about_box
    assert box is not None and box.isVisible()
    text = box.text()
    assert f"Python: {platform.python_version()}" in text
    for name in ("ModelDesk", "Qt", "PySide6", "pandas", "scikit-learn", "Optuna"):
        assert f"{name}: " in text
    box.close()


def test_copy_store_path(qtbot, window, services) -> None:
    from PySide6.QtGui import QGuiApplication

    window.qactions["modeldesk.tools.copy_store"].trigger()
    assert QGuiApplication.clipboard().text() == str(services.store.db_path)
    assert window.store_folder() == Path(services.store.db_path).parent


def test_a_panel_can_open_another_panel_on_an_item(qtbot, window, services, small_csv) -> None:
    from app.ui.items import DatasetItem

    version = services.datasets.add_file(small_csv).version
    window.open_in_panel("data", DatasetItem(version.name, version.version))
    assert window.current_panel() == "data"
    qtbot.waitUntil(
        lambda: (v := window.data_panel.selected_version()) is not None and v.id == version.id,
        timeout=10_000,
    )
    window.open_in_panel("nowhere", 1)  # an unknown panel is ignored, not an error
    assert window.current_panel() == "data"
