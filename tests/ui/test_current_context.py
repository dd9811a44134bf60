"""One current context: the dataset version picked in Data, with the target stored with it,
is where Explore and Prepare open; roles edited in the Schema tab are stored with the version
and become the default target of profile, train and tune."""

from __future__ import annotations

import pyarrow as pa
import pytest
from PySide6.QtWidgets import QComboBox

from app.ui.items import DatasetItem
from app.ui.widgets.schema_model import ROLE_COLUMN
from tests.ui.conftest import WAIT_MS, wait_idle, write_csv


@pytest.fixture
def breast_cancer(services, tmp_path):
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    table = pa.Table.from_pandas(frame, preserve_index=False)
    services.datasets.add_file(write_csv(tmp_path / "alpha.csv", rows=30))  # first by name
    version = services.datasets.add_table(table, name="breast_cancer", source_kind="test").version
    return services.datasets.set_target(version, "target")


def _select_in_data(qtbot, window, version) -> None:
    panel = window.data_panel
    window.show_panel("data")
    panel.refresh(select_version_id=version.id)
    qtbot.waitUntil(
        lambda: (i := panel.selected_item()) is not None and i.ref == version.ref,
        timeout=WAIT_MS,
    )


def test_explore_and_prepare_open_on_the_data_selection_with_its_target(
    qtbot, window, breast_cancer
) -> None:
    _select_in_data(qtbot, window, breast_cancer)
    assert window.context.dataset_ref == "breast_cancer@1"
    assert window.context.target == "target"  # stored with the dataset

    window.show_panel("explore")  # through the switcher, not a command
    explore = window.panels["explore"]
    qtbot.waitUntil(lambda: explore.profile is not None, timeout=60_000)
    assert explore.selected_version().ref == "breast_cancer@1"
    assert explore.selected_target() == "target"  # not "(no target)"
    assert explore.profile.document["target"]["column"] == "target"
    assert explore.selected_item() == DatasetItem("breast_cancer", 1, "target")

    window.show_panel("prepare")
    prepare = window.panels["prepare"]
    qtbot.waitUntil(
        lambda: (v := prepare.selected_version()) is not None and v.ref == "breast_cancer@1",
        timeout=WAIT_MS,
    )
    assert prepare.selected_item().target == "target"
    wait_idle(qtbot, window.runner)


def test_a_pick_in_explore_is_the_context_for_the_others(qtbot, window, breast_cancer) -> None:
    window.show_panel("explore")
    explore = window.panels["explore"]
    qtbot.waitUntil(lambda: len(explore._versions) == 2, timeout=WAIT_MS)
    explore.open_item(DatasetItem("alpha", 1))
    qtbot.waitUntil(lambda: window.context.dataset_ref == "alpha@1", timeout=WAIT_MS)
    window.show_panel("prepare")
    prepare = window.panels["prepare"]
    qtbot.waitUntil(
        lambda: (v := prepare.selected_version()) is not None and v.ref == "alpha@1",
        timeout=WAIT_MS,
    )
    wait_idle(qtbot, window.runner)


def test_a_role_edited_in_the_schema_is_stored(qtbot, window, services, tmp_path) -> None:
    version = services.datasets.add_file(write_csv(tmp_path / "sales.csv", rows=40)).version
    _select_in_data(qtbot, window, version)
    panel = window.data_panel
    window.qactions["modeldesk.data.roles"].trigger()  # Data ▸ Set target and roles…
    assert panel.tabs.currentWidget() is panel.schema_view

    # the real editor: the Role cell's combo box, as a double-click opens it
    row = panel.schema_model.column_names().index("price")
    index = panel.schema_model.index(row, ROLE_COLUMN)
    panel.schema_view.setCurrentIndex(index)
    panel.schema_view.edit(index)
    combo = panel.schema_view.findChild(QComboBox, "role-editor")
    assert combo is not None and [combo.itemText(i) for i in range(combo.count())] == [
        "feature", "target", "identifier", "ignored",
    ]  # fmt: skip
    combo.setCurrentText("target")
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: services.datasets.resolve("sales@1").target == "price", timeout=WAIT_MS)
    panel.set_role("city", "ignored")
    qtbot.waitUntil(
        lambda: services.datasets.resolve("sales@1").usages.get("city") == "ignored",
        timeout=WAIT_MS,
    )
    qtbot.waitUntil(lambda: window.context.target == "price", timeout=WAIT_MS)
    assert services.datasets.resolve("sales@1").usages == {"price": "target", "city": "ignored"}
    assert panel.selected_item() == DatasetItem("sales", 1, "price")

    panel.set_role("flag", "target")  # one target: price goes back to feature
    qtbot.waitUntil(lambda: services.datasets.resolve("sales@1").target == "flag", timeout=WAIT_MS)
    assert "price" not in services.datasets.resolve("sales@1").usages
    wait_idle(qtbot, window.runner)


def test_a_refused_role_is_put_back(qtbot, window, services, tmp_path) -> None:
    version = services.datasets.add_file(write_csv(tmp_path / "sales.csv", rows=40)).version
    _select_in_data(qtbot, window, version)
    panel = window.data_panel
    services.datasets.delete("sales")  # the store refuses: the dataset went meanwhile
    panel.set_role("price", "target")
    wait_idle(qtbot, window.runner)
    qtbot.waitUntil(lambda: panel.messages.messages() != [], timeout=WAIT_MS)
    assert panel.schema_model.role("price") == "feature"
