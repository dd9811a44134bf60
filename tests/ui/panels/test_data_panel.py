"""The Data panel alone: selection, stale results, rename/delete/restore, export, sheets."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from app.ui.panels.data_panel import DataPanel
from app.ui.widgets.message_bar import Level
from tests.ui.conftest import wait_idle, write_csv


@pytest.fixture
def panel(qtbot, services, runner):
    p = DataPanel(datasets=services.datasets, runner=runner)
    qtbot.addWidget(p)
    p.resize(1000, 600)
    p.show()
    qtbot.waitExposed(p)
    wait_idle(qtbot, runner)
    yield p
    p.close_jobs()


@pytest.fixture
def two_datasets(services, tmp_path):
    a = services.datasets.add_file(write_csv(tmp_path / "alpha.csv", rows=12)).version
    b = services.datasets.add_file(write_csv(tmp_path / "beta.csv", rows=33, seed=1)).version
    return a, b


def _refreshed(qtbot, panel, runner) -> None:
    panel.refresh()
    wait_idle(qtbot, runner)


def test_empty_store_says_how_to_start(panel) -> None:
    assert panel.dataset_names() == []
    assert panel.empty_label.isVisible() and "Drop a CSV" in panel.empty_label.text()
    assert panel.table_model.rowCount() == 0


def test_selecting_a_version_shows_its_table(qtbot, panel, runner, two_datasets) -> None:
    _, beta = two_datasets
    _refreshed(qtbot, panel, runner)
    assert panel.dataset_names() == ["alpha", "beta"]
    assert not panel.empty_label.isVisible()
    with qtbot.waitSignal(panel.dataset_selected, timeout=5_000) as selected:
        assert panel.select_version(beta.id)
    assert selected.args[0].id == beta.id
    wait_idle(qtbot, runner)
    assert panel.table_model.rowCount() == beta.rows == 33
    assert panel.table_model.columnCount() == beta.cols
    assert panel.table_model.column_names() == [c.name for c in beta.schema]
    assert panel.schema_model.rowCount() == beta.cols
    assert "33 rows × 4 columns" in panel.table_status.text()


def test_a_stale_table_never_replaces_the_newer_selection(
    qtbot, panel, runner, two_datasets
) -> None:
    alpha, beta = two_datasets
    _refreshed(qtbot, panel, runner)
    panel.select_version(alpha.id)
    panel.select_version(beta.id)  # alpha's load is still on its way
    panel.select_version(alpha.id)
    panel.select_version(beta.id)
    wait_idle(qtbot, runner)
    assert panel.shown_version().id == beta.id
    assert panel.table_model.rowCount() == beta.rows


def test_selecting_a_dataset_shows_its_latest_version(
    qtbot, panel, runner, services, tmp_path
) -> None:
    csv = write_csv(tmp_path / "grow.csv", rows=5)
    services.datasets.add_file(csv)
    write_csv(csv, rows=9)
    v2 = services.datasets.add_file(csv).version
    _refreshed(qtbot, panel, runner)
    top = panel.tree.topLevelItem(0)
    assert top.childCount() == 2 and top.child(1).text(0) == "v2"
    panel.tree.setCurrentItem(top)
    wait_idle(qtbot, runner)
    assert panel.shown_version().id == v2.id and panel.table_model.rowCount() == 9


def test_rename_through_the_panel(qtbot, panel, runner, services, two_datasets) -> None:
    alpha, _ = two_datasets
    _refreshed(qtbot, panel, runner)
    panel.select_version(alpha.id)
    panel._ask_new_name = lambda current: "gamma"
    with qtbot.waitSignal(panel.datasets_changed, timeout=10_000):
        panel.rename_selected()
    wait_idle(qtbot, runner)
    assert panel.dataset_names() == ["beta", "gamma"]
    assert services.datasets.get("gamma").latest.id == alpha.id
    assert panel.selected_version().id == alpha.id  # the selection followed the rename
    assert "Renamed 'alpha' to 'gamma'." in panel.messages.messages(Level.INFO)


def test_rename_clash_shows_the_conflict(qtbot, panel, runner, services, two_datasets) -> None:
    alpha, _ = two_datasets
    _refreshed(qtbot, panel, runner)
    panel.select_version(alpha.id)
    panel._ask_new_name = lambda current: "beta"
    panel.rename_selected()
    wait_idle(qtbot, runner)
    errors = panel.messages.messages(Level.ERROR)
    assert len(errors) == 1 and "'beta' already exists" in errors[0]
    assert sorted(d.name for d in services.datasets.list()) == ["alpha", "beta"]


def test_delete_then_restore_through_the_panel(
    qtbot, panel, runner, services, two_datasets
) -> None:
    alpha, _ = two_datasets
    _refreshed(qtbot, panel, runner)
    panel.select_version(alpha.id)
    panel.delete_selected()
    wait_idle(qtbot, runner)
    assert panel.dataset_names() == ["beta"]
    assert [d.name for d in services.datasets.list()] == ["beta"]
    assert any("Deleted 'alpha'." in m for m in panel.messages.messages(Level.INFO))

    offered: list[list[str]] = []
    panel._ask_restore_name = lambda names: offered.append(names) or names[0]
    panel.restore_dataset()
    wait_idle(qtbot, runner)
    assert offered == [["alpha"]]
    assert panel.dataset_names() == ["alpha", "beta"]
    assert [d.name for d in services.datasets.list()] == ["alpha", "beta"]
    assert panel.selected_version().id == alpha.id


def test_show_deleted_lists_deleted_datasets_apart(
    qtbot, panel, runner, services, two_datasets
) -> None:
    services.datasets.delete("alpha")
    panel.show_deleted.setChecked(True)
    wait_idle(qtbot, runner)
    assert panel.dataset_names() == ["alpha", "beta"]
    item = panel.tree.topLevelItem(0)
    assert item.font(0).italic() and item.text(2) == "deleted"
    panel.tree.setCurrentItem(item)
    wait_idle(qtbot, runner)
    panel.restore_dataset()  # the selected deleted dataset, no question asked
    wait_idle(qtbot, runner)
    assert [d.name for d in services.datasets.list()] == ["alpha", "beta"]


def test_restore_with_nothing_deleted_says_so(qtbot, panel, runner, two_datasets) -> None:
    panel.restore_dataset()
    wait_idle(qtbot, runner)
    assert "There are no deleted datasets to restore." in panel.messages.messages(Level.INFO)


def test_export_the_selected_version(qtbot, panel, runner, two_datasets, tmp_path) -> None:
    _, beta = two_datasets
    _refreshed(qtbot, panel, runner)
    panel.select_version(beta.id)
    target = tmp_path / "out" / "beta.parquet"
    target.parent.mkdir()
    panel._ask_export_path = lambda version: str(target)
    panel.export_selected()
    wait_idle(qtbot, runner)
    assert target.stat().st_size > 0
    assert any("Exported beta@1" in m for m in panel.messages.messages(Level.INFO))


def test_workbook_with_several_sheets_asks_which(qtbot, panel, runner, services, tmp_path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Jan"
    first.append(["id", "amount"])
    for i in range(5):
        first.append([i, i * 1.5])
    second = book.create_sheet("Feb")
    second.append(["id", "amount"])
    for i in range(7):
        second.append([i, i * 2.5])
    book.create_sheet("Notes").append(["text"])
    path = tmp_path / "book.xlsx"
    book.save(path)

    asked: list[tuple[str, list[str]]] = []

    def choose(name: str, sheets: list[str]) -> list[str]:
        asked.append((name, sheets))
        return ["Jan", "Feb"]

    panel._ask_sheets = choose
    finished: list = []
    panel.ingest_finished.connect(finished.append)
    panel.ingest_files([path])
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=20_000)
    wait_idle(qtbot, runner)
    assert asked == [("book.xlsx", ["Jan", "Feb", "Notes"])]
    assert sorted(v.rows for v in finished) == [5, 7]
    assert len(services.datasets.list()) == 2


def test_cancel_an_ingest_stores_nothing(qtbot, panel, runner, services, tmp_path) -> None:
    big = _big_csv(tmp_path / "big.csv", megabytes=8)
    panel.ingest_files([big])
    rows = panel.jobs.rows()
    assert len(rows) == 1 and rows[0].cancel_button.isEnabled()
    rows[0].cancel_button.click()
    wait_idle(qtbot, runner)
    assert services.datasets.list(include_deleted=True) == []
    assert any("cancelled" in m for m in panel.messages.messages())
    assert panel.jobs.rows() == [] and not panel.jobs.isVisible()


def test_gui_thread_never_blocks_while_a_big_file_is_ingested(
    qtbot, panel, runner, services, tmp_path
) -> None:
    # This measures the ingest, not the test process. Two things of the test process would
    # stall every thread: imports (they hold the GIL for their whole run), so they are warmed;
    # and a full garbage collection of pytest's big heap (~80 ms, seen), so the heap that
    # exists before the ingest is frozen, as the app freezes its own after start-up.
    import pyarrow.compute
    import pyarrow.csv
    import pyarrow.parquet

    assert pyarrow.compute and pyarrow.csv and pyarrow.parquet
    big = _big_csv(tmp_path / "big.csv", megabytes=40)  # long enough for the probe to tick
    gc.collect()
    gc.freeze()
    try:
        gaps, version = _ingest_probing_gaps(qtbot, panel, runner, big)
    finally:
        gc.unfreeze()
    assert version.rows > 400_000 and len(gaps) > 10
    print(f"max GUI gap {max(gaps) * 1000:.1f} ms over {len(gaps)} ticks")
    assert max(gaps) < 0.200, f"the GUI thread stalled for {max(gaps) * 1000:.0f} ms"


def _ingest_probing_gaps(qtbot, panel, runner, big: Path) -> tuple[list[float], object]:
    """Ingest ``big`` and show its table while a 10 ms timer on the GUI thread ticks."""
    gaps: list[float] = []
    last = [time.perf_counter()]

    def probe() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(probe)
    finished: list = []
    panel.ingest_finished.connect(finished.append)
    timer.start()
    last[0] = time.perf_counter()
    panel.ingest_files([big])
    qtbot.waitUntil(lambda: bool(finished), timeout=120_000)
    version = finished[0]
    qtbot.waitUntil(lambda: panel.table_model.rowCount() == version.rows, timeout=60_000)
    panel.table_view.viewport().grab()  # paint the first screen of the new table
    timer.stop()
    wait_idle(qtbot, runner)
    return gaps, version


def _big_csv(path: Path, *, megabytes: int) -> Path:
    cities = ["Paris", "Lyon", "Nice", "Lille", "Nantes"]
    line = "{i},{a:.4f},{b},{c},{d}\n"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,score,count,city,flag\n")
        i = 0
        while fh.tell() < megabytes * 1_000_000:
            fh.writelines(
                line.format(i=j, a=j * 0.37 % 101, b=j % 977, c=cities[j % 5], d=j % 2 == 0)
                for j in range(i, i + 20_000)
            )
            i += 20_000
    return path


def _broken(*, progress) -> None:
    raise ZeroDivisionError("a bug, not the user's doing")


def test_a_bug_in_a_job_opens_the_error_dialog_not_the_bar(qtbot, panel, runner) -> None:
    from app.ui.widgets.error_dialog import ErrorDialog

    before = set(ErrorDialog._open)
    panel._jobs.start(_broken, name="broken", done=lambda bridge, result: None)
    wait_idle(qtbot, runner)
    opened = set(ErrorDialog._open) - before
    assert len(opened) == 1
    dialog = opened.pop()
    assert "ZeroDivisionError" in dialog.details.toPlainText()
    assert panel.messages.messages() == []
    dialog.close()


def test_the_panel_opens_alone(tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "MODELDESK_EXIT_AFTER_PAINT": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    store = f"sqlite:///{tmp_path / 'alone.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "app.ui.panels.data_panel", "--store", store],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "alone.db").exists()
