"""The Explore panel driven through pytest-qt: pick a dataset and a target, wait for the job,
read what is shown; stale results dropped, cancel stores nothing, errors in the message bar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from app.core.profiling import ProfileSettings
from app.ui.panels.explore_panel import NO_TARGET, ExplorePanel
from app.ui.widgets.message_bar import Level
from tests.ui.conftest import WAIT_MS, wait_idle


def frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(50, 10, n)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "income": np.round(rng.lognormal(10, 0.6, n), 2),
            "city": rng.choice(["Paris", "Lyon", "Nice"], n),
            "signup": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
            "churn": rng.random(n) < 0.25,
            "y": y,
            "leak": y * 3 + 1,
        }
    )


def add(services, df: pd.DataFrame, name: str):
    table = pa.Table.from_pandas(df, preserve_index=False)
    return services.datasets.add_table(table, name=name, source_kind="test").version


@pytest.fixture
def panel(qtbot, services, runner):
    p = ExplorePanel(profiles=services.profiles, datasets=services.datasets, runner=runner)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    yield p
    p.close_jobs()


def show_and_wait(qtbot, panel) -> None:
    with qtbot.waitSignal(panel.profile_loaded, timeout=WAIT_MS):
        panel.show()


def test_picking_a_dataset_shows_its_profile(qtbot, services, runner, panel, tmp_path) -> None:
    add(services, frame(200, seed=3), "alpha")
    v = add(services, frame(), "customers")
    show_and_wait(qtbot, panel)  # the first dataset of the list is profiled at once
    assert panel.profile.ref == "alpha@1"
    index = panel.dataset_combo.findData(v.id)
    with qtbot.waitSignal(panel.profile_loaded, timeout=WAIT_MS):
        panel.dataset_combo.setCurrentIndex(index)  # the user picks another dataset
    assert panel.selected_version().id == v.id and panel.profile.ref == "customers@1"
    views = panel.views()
    cards = views.overview.cards
    assert cards["Rows"].value.text() == "3,000"
    assert cards["Columns"].value.text() == "7"
    assert cards["Duplicate rows"].value.text() == "0"
    warnings = views.overview.warning_texts()
    assert cards["Warnings"].value.text() == str(len(warnings))
    assert any(t.startswith("id looks like an identifier") for t in warnings)
    assert any("leak" in t and "highly associated" in t for t in warnings)
    assert views.tabs.tabText(0) == f"Overview ({len(warnings)} warnings)"
    assert "3,000 rows × 7 columns" in panel.status.text()
    assert not views.tabs.isTabEnabled(4)  # no target picked yet

    # a warning opens its column
    item = views.overview.warnings.topLevelItem(0)
    views.overview.warnings.itemActivated.emit(item, 0)
    assert views.tabs.currentWidget() is views.columns
    assert views.columns.current() == item.data(0, 256)
    views.columns.select("income")
    assert views.columns.current() == "income"
    stats = {
        views.columns.stats.item(r, 0).text(): views.columns.stats.item(r, 1).text()
        for r in range(views.columns.stats.rowCount())
    }
    assert stats["Present"] == "3,000" and "Skewness" in stats
    assert views.columns.model.rowCount() == 7

    # heatmap values on hover, plots export as PNG and SVG
    views.tabs.setCurrentWidget(views.associations)
    a = panel.profile.document["associations"]
    i, j = a["numeric"].index("y"), a["numeric"].index("leak")
    assert views.associations.cell_text(i, j) == "y × leak\nPearson r: 1.000"
    canvas = views.associations.canvas
    canvas.draw()
    ax = canvas.figure.axes[0]
    x, y = ax.transData.transform((j, i))
    assert canvas.hover_text(x, y) == "y × leak\nPearson r: 1.000"
    png = canvas.export(tmp_path / "heat.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = views.columns.canvas.export(tmp_path / "income.svg")
    assert "<svg" in svg.read_text(encoding="utf-8")
    views.tabs.setCurrentWidget(views.missing)
    assert views.missing.matrix.figure.axes  # drawn when shown

    # export the report as HTML through a job
    with qtbot.waitSignal(panel.messages.changed, timeout=WAIT_MS):
        panel.export(str(tmp_path / "report.html"), "html")
    assert (tmp_path / "report.html").exists()
    assert panel.messages.messages(Level.INFO)[0].startswith("Exported the profile to")


def test_picking_a_target_shows_target_analysis_and_leakage(qtbot, services, panel) -> None:
    add(services, frame(), "customers")
    show_and_wait(qtbot, panel)
    with qtbot.waitSignal(panel.profile_loaded, timeout=WAIT_MS):
        panel.target_combo.setCurrentText("y")
    views = panel.views()
    assert panel.profile.settings.target == "y"
    assert views.tabs.isTabEnabled(4)
    views.tabs.setCurrentWidget(views.target)
    first = views.target.features.item(0, 0).text()
    assert first == "leak"  # ranked by mutual information
    assert views.target.summary.figure.axes and views.target.feature_plot.figure.axes
    assert any(
        "leak alone predicts the target y almost perfectly" in t
        for t in views.overview.warning_texts()
    )
    assert "target y (regression)" in panel.status.text()


def test_a_stale_result_is_dropped(qtbot, services, runner, panel) -> None:
    add(services, frame(), "customers")
    show_and_wait(qtbot, panel)
    panel.target_combo.setCurrentText("y")  # starts a profile job …
    panel.target_combo.setCurrentText(NO_TARGET)  # … replaced at once by the cached one
    wait_idle(qtbot, runner)
    assert panel.profile.settings.target is None
    assert panel.views().overview.cards["Rows"].value.text() == "3,000"
    assert "target" not in panel.status.text()


def test_cancel_stores_nothing(qtbot, services, runner, panel) -> None:
    big = add(services, frame(400_000, seed=1), "big")
    small = add(services, frame(500, seed=2), "small")
    show_and_wait(qtbot, panel)  # the first in the list ("big", sorted by name) or "small"
    panel.show_dataset(big.ref, target="y")
    rows = panel.jobs.rows()
    assert rows and rows[-1].title == "Profiling big@1 (target y)"
    rows[-1].cancel_button.click()
    wait_idle(qtbot, runner)
    assert services.profiles.cached(big, ProfileSettings(target="y")) is None
    assert panel.status.text() == "Profiling cancelled; nothing was stored."
    assert small.ref


def test_errors_go_to_the_message_bar(qtbot, services, runner, panel) -> None:
    add(services, frame(), "customers")
    show_and_wait(qtbot, panel)
    panel.target_combo.setCurrentText("id")
    wait_idle(qtbot, runner)
    errors = panel.messages.messages(Level.ERROR)
    assert errors and "looks like an identifier" in errors[0]
    assert panel.profile.settings.target is None  # the last good profile stays


def test_empty_store_says_what_to_do(qtbot, runner, panel) -> None:
    panel.show()
    wait_idle(qtbot, runner)
    assert panel.stack.currentWidget() is panel.empty
    assert "Data panel" in panel.empty.text()


def test_the_main_window_hosts_the_panel(window) -> None:
    assert isinstance(window.panels["explore"], ExplorePanel)


def test_a_version_without_a_stored_target_opens_on_its_cached_profiles_target(
    qtbot, services, panel
) -> None:
    """Profiled with a target (``modeldesk profile --target churn``) before any role was
    stored: Explore opens on that target, not "(no target)"; a stored target wins."""
    v = add(services, frame(400), "customers")
    assert v.target is None
    services.profiles.profile(v, ProfileSettings(target="churn"))
    show_and_wait(qtbot, panel)
    assert panel.selected_target() == "churn"
    assert panel.profile.document["target"]["column"] == "churn"  # the cached one, no re-run
    assert panel.profile.cached

    services.datasets.set_target(v, "y")  # a stored target wins over the profile's
    with qtbot.waitSignal(panel.profile_loaded, timeout=WAIT_MS):
        panel.reload_datasets()
        qtbot.waitUntil(lambda: not panel._list_slot.busy, timeout=WAIT_MS)
        panel.dataset_combo.currentIndexChanged.emit(panel.dataset_combo.currentIndex())
    assert panel.selected_target() == "y"
