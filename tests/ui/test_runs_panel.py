"""The Runs panel: a windowed runs table sorted and filtered in SQL (100,000 runs), run detail,
comparison, soft delete and restore, keyboard, and training from the New run form."""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QItemSelectionModel, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox, QWidget
from sqlalchemy import func, insert, select

from app.bootstrap import Services, build_services
from app.core.store.models import RunLatestMetricRow, RunParamRow, RunRow
from app.jobs.runner import JobRunner
from app.ui.panels.runs_panel import RunsPanel
from app.ui.panels.runs_rows_model import HIGHLIGHT_ROLE
from app.ui.panels.runs_table_model import FIXED_COLUMNS, RunsTableModel
from tests.ui.conftest import WAIT_MS, wait_idle

BIG = 100_000


# -- helpers ------------------------------------------------------------------------------------


def bulk_runs(services: Services, n: int, *, seed: int = 0) -> None:
    """n finished runs with params p0, p1 and metrics m0, m1, in one transaction (Core)."""
    rnd = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    estimators = ("random_forest", "logistic_regression", "knn", "svm")
    runs, params, metrics = [], [], []
    for i in range(1, n + 1):
        when = start + timedelta(seconds=i)
        runs.append(
            {
                "id": i,
                "name": f"run-{i}",
                "experiment": "Default",
                "target": "y",
                "task": "binary",
                "estimator": estimators[i % 4],
                "status": "failed" if i % 10 == 0 else "finished",
                "seed": i,
                "recipe": {},
                "env": {},
                "note": "",
                "owner": "",
                "started_at": when,
                "ended_at": when + timedelta(seconds=2),
            }
        )
        params.append({"run_id": i, "key": "p0", "value": str(rnd.randint(1, 9))})
        params.append({"run_id": i, "key": "p1", "value": rnd.choice(["gini", "entropy"])})
        metrics.append({"run_id": i, "key": "m0", "value": rnd.random(), "step": 0})
        metrics.append({"run_id": i, "key": "m1", "value": rnd.random(), "step": 0})
    with services.store.engine.begin() as conn:
        conn.execute(insert(RunRow), runs)
        conn.execute(insert(RunParamRow), params)
        conn.execute(insert(RunLatestMetricRow), metrics)


def png_bytes(color: Qt.GlobalColor = Qt.GlobalColor.red) -> bytes:
    image = QImage(60, 40, QImage.Format.Format_RGB32)
    image.fill(color)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def make_run(services: Services, **kw) -> int:
    t = services.tracking
    folds = kw.pop("folds", {"accuracy": [0.8, 0.82, 0.84]})
    status = kw.pop("status", "finished")
    kw.setdefault("estimator", "random_forest")
    kw.setdefault("target", "species")
    kw.setdefault("task", "multiclass")
    run_id = t.create_run(**kw)
    log_like_the_trainer(t, run_id, folds)
    t.finish(run_id, status)
    return run_id


def log_like_the_trainer(t, run_id: int, folds: dict[str, list[float]], test=None) -> None:
    """cv.K per fold at step k, then K (mean) and K_std at step 0, and test.K."""
    for k in range(max(len(v) for v in folds.values())):
        t.log_metrics(run_id, {f"cv.{m}": v[k] for m, v in folds.items() if k < len(v)}, step=k + 1)
    summary = {}
    for m, v in folds.items():
        summary[m] = statistics.fmean(v)
        summary[f"{m}_std"] = statistics.pstdev(v)
    summary.update({f"test.{m}": v for m, v in (test or {}).items()})
    t.log_metrics(run_id, summary, step=0)


def make_panel(qtbot, services: Services, runner: JobRunner, **kw) -> RunsPanel:
    panel = RunsPanel(tracking=services.tracking, datasets=services.datasets, runner=runner, **kw)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    qtbot.waitExposed(panel)
    wait_loaded(qtbot, panel.model)
    return panel


def wait_loaded(qtbot, model: RunsTableModel) -> None:
    qtbot.waitUntil(lambda: not model.loading, timeout=WAIT_MS)


def select_rows(panel: RunsPanel, rows: list[int]) -> None:
    sm = panel.table.selectionModel()
    sm.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        sm.select(panel.model.index(row, 0), flags)
    sm.setCurrentIndex(panel.model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)


def column(model: RunsTableModel, key: str) -> int:
    return len(FIXED_COLUMNS) + model.columns().index(key)


# -- 100,000 runs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_services(tmp_path_factory) -> Iterator[Services]:
    folder = tmp_path_factory.mktemp("big")
    services = build_services(f"sqlite:///{folder}/store.db")
    bulk_runs(services, BIG)
    yield services
    services.close()


@pytest.mark.slow
def test_table_sorts_and_filters_100k_runs_in_sql(qtbot, big_services, runner) -> None:
    panel = make_panel(qtbot, big_services, runner)
    model = panel.model
    panel.set_columns(["metrics.m0", "params.p0", "params.p1"])
    wait_loaded(qtbot, model)
    assert model.total == BIG and model.run_at(0).id == BIG  # newest first by default

    m0 = column(model, "metrics.m0")
    with big_services.store.engine.connect() as conn:
        # a failed run's metrics are partial: a metric sort ranks finished runs only
        finished = RunLatestMetricRow.run_id.in_(
            select(RunRow.id).where(RunRow.status == "finished")
        )
        top = conn.execute(
            select(RunLatestMetricRow.run_id, RunLatestMetricRow.value)
            .where(RunLatestMetricRow.key == "m0", finished)
            .order_by(RunLatestMetricRow.value.desc())
            .limit(1)
        ).one()
        low = conn.scalar(
            select(func.min(RunLatestMetricRow.value)).where(
                RunLatestMetricRow.key == "m0", finished
            )
        )
        expected = conn.scalar(
            select(func.count())
            .select_from(RunRow)
            .join(RunLatestMetricRow, RunLatestMetricRow.run_id == RunRow.id)
            .join(RunParamRow, RunParamRow.run_id == RunRow.id)
            .where(
                RunLatestMetricRow.key == "m0",
                RunLatestMetricRow.value > 0.25,
                RunParamRow.key == "p0",
                RunParamRow.value == "3",
                RunRow.status == "finished",
            )
        )

    # Clicking the header sorts in SQL: descending first row is the SQL maximum.
    panel.table.sortByColumn(m0, Qt.SortOrder.DescendingOrder)
    wait_loaded(qtbot, model)
    assert model.query.sort == "metrics.m0" and model.query.descending
    first = model.run_at(0)
    assert (first.id, first.values["metrics.m0"]) == (top.run_id, top.value)
    assert panel.table.horizontalHeader().sortIndicatorSection() == m0

    panel.table.sortByColumn(m0, Qt.SortOrder.AscendingOrder)
    wait_loaded(qtbot, model)
    assert model.run_at(0).values["metrics.m0"] == low

    # Scrolling anywhere fetches only the pages shown; memory stays bounded.
    bound = model.max_pages * model.page_size
    for row in (BIG - 1, 50_000, 12_345, 99_000, 0, 77_777):
        panel.table.scrollTo(model.index(row, m0))
        qtbot.waitUntil(lambda r=row: model.run_at(r) is not None, timeout=WAIT_MS)
        assert model.cached_row_count() <= bound
    last = model.run_at(BIG - 1) or None
    values = [
        model.run_at(r).values["metrics.m0"]
        for r in range(77_700, 77_800)
        if model.run_at(r) is not None
    ]
    assert values == sorted(values)
    assert last is None or last.status == "failed"  # partial values sort after every ranked one
    assert model.cached_row_count() <= bound and model.rowCount() == BIG

    # The filter box filters in SQL: the count equals SQL's.
    panel.filter.setText("metrics.m0 > 0.25 and params.p0 = 3 and status = 'finished'")
    qtbot.keyClick(panel.filter, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: model.total == expected and not model.loading, timeout=WAIT_MS)
    shown = [model.run_at(r) for r in range(min(50, model.total))]
    assert all(r.values["metrics.m0"] > 0.25 and r.values["params.p0"] == "3" for r in shown)
    assert "matching" in panel.count_label.text()

    # Search text (name/estimator/target) is SQL too.
    panel.filter.clear()
    wait_loaded(qtbot, model)
    panel.search.setText("knn")
    qtbot.waitUntil(lambda: model.total == BIG // 4 and not model.loading, timeout=WAIT_MS)
    assert all(model.run_at(r).estimator == "knn" for r in range(20))
    panel.close_jobs()


@pytest.mark.slow
def test_stale_pages_are_dropped(qtbot, big_services, runner) -> None:
    holder = QWidget()  # a Qt parent: a model collected by Python's GC on a worker thread crashes
    qtbot.addWidget(holder)
    model = RunsTableModel(tracking=big_services.tracking, runner=runner, parent=holder)
    model.set_query(model.query.__class__(columns=("metrics.m0",)))
    wait_loaded(qtbot, model)
    shown: list[int] = []
    model.page_loaded.connect(lambda gen, page: shown.append(gen))
    m0 = column(model, "metrics.m0")
    model.sort(m0, Qt.SortOrder.DescendingOrder)  # superseded before it can show
    model.sort(m0, Qt.SortOrder.AscendingOrder)
    newest = model.generation
    wait_loaded(qtbot, model)
    wait_idle(qtbot, runner)
    assert shown == [newest] and not model.query.descending
    first = model.run_at(0).values["metrics.m0"]
    assert first <= model.run_at(1).values["metrics.m0"]


@pytest.mark.slow
def test_bad_filter_shows_the_hint_and_keeps_the_rows(qtbot, big_services, runner) -> None:
    panel = make_panel(qtbot, big_services, runner)
    panel.filter.setText("metrics.m0 >")
    qtbot.keyClick(panel.filter, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(panel.messages.messages()), timeout=WAIT_MS)
    message = panel.messages.messages()[0]
    assert "Incomplete filter clause" in message and "NAME OPERATOR VALUE" in message
    assert panel.model.total == BIG and panel.model.run_at(0) is not None
    panel.close_jobs()


# -- detail, compare, delete ------------------------------------------------------------------


def test_detail_shows_params_metrics_plots_log_and_lineage(qtbot, services, runner) -> None:
    import pyarrow as pa

    table = pa.table({"price": [1.0, 2.5, 3.0, 4.5], "city": ["Paris", "Lyon", "Nice", "Lyon"]})
    version = services.datasets.add_table(table, name="shop", source_kind="file").version
    t = services.tracking
    run_id = t.create_run(
        name="forest",
        estimator="random_forest",
        target="city",
        task="multiclass",
        params={"max_depth": 5, "criterion": "gini"},
        seed=7,
        dataset_version_id=version.id,
        tags={"team": "a"},
    )
    folds = {"accuracy": [0.8, 0.9, 1.0], "f1_macro": [0.5, 0.6, 0.7]}
    log_like_the_trainer(t, run_id, folds, test={"accuracy": 0.95})
    t.log_metrics(run_id, {"train_seconds": 1.5})
    t.log_artifact(run_id, "confusion_matrix.png", png_bytes(), kind="plot")
    t.log_artifact(run_id, "worker.log", b"fold 1 of 3\nfold 2 of 3\nfold 3 of 3\n", kind="log")
    t.finish(run_id)

    panel = make_panel(qtbot, services, runner)
    qtbot.mouseClick(
        panel.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=panel.table.visualRect(panel.model.index(0, 2)).center(),
    )
    qtbot.waitUntil(lambda: panel.detail.detail is not None, timeout=WAIT_MS)
    detail = panel.detail
    assert detail.run_id == run_id
    params = {
        detail.params_model.row_values(i)[0]: detail.params_model.row_values(i)[1]
        for i in range(detail.params_model.rowCount())
    }
    assert params == {"criterion": "gini", "max_depth": "5"}
    metrics = detail.metrics_model
    assert metrics.headers() == ["Metric", "Value", "± Std", "Test", "Fold 1", "Fold 2", "Fold 3"]
    assert [metrics.row_values(i)[0] for i in range(metrics.rowCount())] == [
        "accuracy",
        "f1_macro",
        "train_seconds",
    ]  # cv.*, *_std and test.* fold into their metric's row; extras last
    row = metrics.row_values(metrics.find_row("accuracy"))
    assert row[1:4] == ["0.9", "0.08165", "0.95"] and row[4:7] == ["0.8", "0.9", "1"]
    assert detail.plot_names() == ["confusion_matrix.png"]
    assert "fold 2 of 3" in detail.log_view.toPlainText()
    assert version.ref in detail.lineage_label.text()
    assert detail._fields["Dataset"].text() == version.ref
    assert "scikit-learn" in [
        detail.packages_model.row_values(i)[0] for i in range(detail.packages_model.rowCount())
    ]

    # The note is saved through the tracking service, off the GUI thread.
    detail.note_edit.setPlainText("deeper trees overfit")
    assert detail.save_note_button.isEnabled()
    qtbot.mouseClick(detail.save_note_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: t.get(run_id).note == "deeper trees overfit", timeout=WAIT_MS)
    wait_idle(qtbot, runner)
    panel.close_jobs()


def test_compare_highlights_the_differing_parameter(qtbot, services, runner) -> None:
    a = make_run(
        services,
        name="a",
        params={"max_depth": 3, "criterion": "gini"},
        seed=1,
        folds={"accuracy": [0.80, 0.84, 0.82], "f1_macro": [0.7, 0.8, 0.75]},
    )
    b = make_run(
        services,
        name="b",
        params={"max_depth": 8, "criterion": "gini"},
        seed=1,
        folds={"accuracy": [0.90, 0.92, 0.94], "f1_macro": [0.6, 0.7, 0.65]},
    )
    panel = make_panel(qtbot, services, runner)
    select_rows(panel, [0, 1])
    assert panel.compare_button.isEnabled()
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.compare.data is not None, timeout=WAIT_MS)
    view = panel.compare
    assert panel.tabs.currentWidget() is view
    assert view.differing_parameters() == ["max_depth"]
    model = view.params_model
    depth, crit = model.find_row("max_depth"), model.find_row("criterion")
    assert model.index(depth, 0).data(HIGHLIGHT_ROLE) is True
    assert model.index(crit, 0).data(HIGHLIGHT_ROLE) is False
    assert model.headers()[1:] == [f"#{b} b", f"#{a} a"]
    assert model.row_values(depth)[1:] == ["8", "3"]

    view.only_differences.setChecked(True)
    assert [model.row_values(i)[0] for i in range(model.rowCount())] == ["max_depth"]

    # Metric table with fold spread; the best value of each row is bold.
    assert ("accuracy", f"#{b} b") in view.best_cells()
    assert ("f1_macro", f"#{a} a") in view.best_cells()
    acc = view.metrics_model.row_values(view.metrics_model.find_row("accuracy"))
    assert acc[1].startswith("0.92 ±")
    bars = view.canvas("bars").figure
    assert [ax.get_title() for ax in bars.axes] == ["accuracy", "f1_macro"]
    assert len(bars.axes[0].patches) == 2  # one bar per run
    parallel = view.canvas("parallel").figure
    labels = [t.get_text() for t in parallel.axes[0].get_xticklabels()]
    assert labels == ["max_depth", "accuracy", "f1_macro"]
    assert "curve" in view.curves_note.text() and not view.canvas("curves").isVisible()
    panel.close_jobs()


def test_compare_needs_two_runs(qtbot, services, runner) -> None:
    make_run(services, name="only")
    panel = make_panel(qtbot, services, runner)
    select_rows(panel, [0])
    assert not panel.compare_button.isEnabled()
    panel.compare_selected()
    assert "two or more" in panel.messages.messages()[0]


def test_delete_and_restore_through_the_panel(qtbot, services, runner) -> None:
    ids = [make_run(services, name=f"r{i}") for i in range(3)]
    panel = make_panel(qtbot, services, runner)
    assert panel.model.total == 3
    select_rows(panel, [0])  # the newest: ids[2]
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: panel.model.total == 2 and not panel.model.loading, timeout=WAIT_MS)
    assert services.tracking.get(ids[2]).deleted
    assert "Deleted run" in panel.messages.messages()[0]
    assert ids[2] not in [panel.model.run_at(r).id for r in range(2)]

    panel.show_deleted.setChecked(True)
    qtbot.waitUntil(lambda: panel.model.total == 3 and not panel.model.loading, timeout=WAIT_MS)
    row = panel.model.row_of(ids[2])
    assert panel.model.run_at(row).deleted
    assert panel.model.index(row, 2).data(Qt.ItemDataRole.FontRole).italic()
    select_rows(panel, [row])
    assert panel.restore_button.isEnabled() and not panel.delete_button.isEnabled()
    qtbot.mouseClick(panel.restore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not services.tracking.get(ids[2]).deleted, timeout=WAIT_MS)
    panel.show_deleted.setChecked(False)
    qtbot.waitUntil(lambda: panel.model.total == 3 and not panel.model.loading, timeout=WAIT_MS)
    wait_idle(qtbot, runner)


def test_keyboard_find_and_enter(qtbot, services, runner) -> None:
    run_id = make_run(services, name="keyed", params={"C": 1.0})
    panel = make_panel(qtbot, services, runner)
    panel.tabs.setCurrentWidget(panel.compare)
    select_rows(panel, [0])
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert panel.tabs.currentWidget() is panel.detail
    qtbot.waitUntil(lambda: panel.detail.detail is not None, timeout=WAIT_MS)
    assert panel.detail.run_id == run_id
    qtbot.keyClick(panel.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert panel.search.hasFocus()
    wait_idle(qtbot, runner)


def test_column_chooser_adds_param_and_metric_columns(qtbot, services, runner) -> None:
    make_run(
        services, name="c", params={"max_depth": 4}, folds={"accuracy": [0.9], "log_loss": [0.3]}
    )
    panel = make_panel(qtbot, services, runner)
    qtbot.waitUntil(lambda: "log_loss" in panel._keys[1], timeout=WAIT_MS)
    wait_loaded(qtbot, panel.model)
    assert panel.model.columns() == ("metrics.accuracy", "metrics.log_loss")  # default: metrics
    panel.columns_menu.aboutToShow.emit()
    offered = [a.text() for a in panel.columns_menu.actions() if a.isCheckable()]
    assert "accuracy_std" in offered and "cv.accuracy" not in offered  # not the fold series
    action = next(a for a in panel.columns_menu.actions() if a.text() == "max_depth")
    action.setChecked(True)
    qtbot.waitUntil(lambda: "params.max_depth" in panel.model.columns(), timeout=WAIT_MS)
    col = column(panel.model, "params.max_depth")
    assert panel.model.headerData(col, Qt.Orientation.Horizontal) == "max_depth"
    assert panel.model.index(0, col).data() == "4"
    wait_idle(qtbot, runner)


# -- training from the form ------------------------------------------------------------------


def flowers(services: Services, n: int = 80) -> None:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    table = pa.table({
        "x1": x1, "x2": x2, "colour": rng.choice(["red", "blue"], n),
        "species": np.where(x1 + 0.5 * x2 > 0, "virginica", "setosa"),
    })  # fmt: skip
    services.datasets.add_table(table, name="flowers", source_kind="file")


@pytest.mark.slow
def test_training_from_the_form_ends_with_a_finished_run(qtbot, services, runner, tmp_path):
    flowers(services)
    panel = make_panel(qtbot, services, runner, training=services.training)
    form = panel.train_form
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    assert panel.tabs.currentWidget() is form
    qtbot.waitUntil(lambda: form.dataset_combo.count() == 1, timeout=WAIT_MS)
    form.select("flowers", "species", "logistic")
    qtbot.waitUntil(lambda: "Task: binary" in form.plan_label.text(), timeout=WAIT_MS)
    shown = [form.estimator_combo.itemData(i) for i in range(form.estimator_combo.count())]
    assert "logistic" in shown and "ridge" not in shown  # filtered by the inferred task
    assert form.estimator_combo.currentData() == "logistic"
    assert isinstance(form.field("C"), QDoubleSpinBox) and isinstance(
        form.field("max_iter"), QSpinBox
    )
    assert isinstance(form.field("class_weight"), QComboBox)
    form.field("C").setValue(0.5)
    form.folds_spin.setValue(3)
    form.seed_spin.setValue(7)
    qtbot.mouseClick(form.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.total == 1, timeout=WAIT_MS)  # queued: shown at once
    qtbot.waitUntil(lambda: "finished" in form.status_label.text(), timeout=180_000)
    qtbot.waitUntil(
        lambda: panel.model.run_at(0) is not None and panel.model.run_at(0).status == "finished",
        timeout=WAIT_MS,
    )
    run = services.tracking.get(panel.model.run_at(0).id)
    assert run.estimator == "logistic" and run.seed == 7 and run.params["C"] == "0.5"
    assert len(services.tracking.metric_history(run.id, "cv.accuracy")) == 3

    # The detail shows its folds, plots and worker log.
    select_rows(panel, [0])
    qtbot.waitUntil(
        lambda: panel.detail.run_id == run.id and panel.detail.detail is not None,
        timeout=WAIT_MS,
    )
    assert panel.detail.metrics_model.headers()[-1] == "Fold 3"
    assert "roc_curve.png" in panel.detail.plot_names()
    assert "Fold 3 of 3" in panel.detail.log_view.toPlainText()

    # Export code writes a standalone script; Reproduce trains the recipe again.
    assert panel.export_button.isEnabled() and panel.reproduce_button.isEnabled()
    script = tmp_path / "run.py"
    with qtbot.waitSignal(panel.launcher.exported, timeout=WAIT_MS):
        panel.export_selected(str(script))
    assert str(script) in panel.messages.messages()[0]
    assert "sklearn" in script.read_text()
    qtbot.mouseClick(panel.reproduce_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.total == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not panel.launcher.running and not panel.jobs.rows(), timeout=180_000)
    again = services.tracking.get(max(r.id for r in [panel.model.run_at(0), panel.model.run_at(1)]))
    assert again.status == "finished" and again.metrics["accuracy"] == run.metrics["accuracy"]
    wait_idle(qtbot, runner)


def test_a_bad_request_shows_why_and_creates_no_run(qtbot, services, runner) -> None:
    flowers(services)
    panel = make_panel(qtbot, services, runner, training=services.training)
    form = panel.train_form
    qtbot.waitUntil(lambda: form.dataset_combo.count() == 1, timeout=WAIT_MS)
    form.select("flowers", "x1")
    form.task_combo.setCurrentIndex(form.task_combo.findData("binary"))
    qtbot.waitUntil(lambda: "not two" in form.plan_label.text(), timeout=WAIT_MS)
    form.train()
    qtbot.waitUntil(lambda: bool(panel.messages.messages()), timeout=WAIT_MS)
    assert "classes, not two" in panel.messages.messages()[0]
    wait_idle(qtbot, runner)
    assert services.tracking.search().total == 0 and form.train_button.isEnabled()


def test_runs_panel_is_in_the_main_window(window) -> None:
    panel = window.panels["runs"]
    assert isinstance(panel, RunsPanel)
    window.show_panel("runs")
    assert window.stack.currentWidget() is panel
