"""The Tuning panel as an optuna-dashboard user expects it: pickers from the store and the
context, a readable search-space editor, a trials model that sorts and filters with pruned
trials told apart (their partial values never ranked), only the plots that apply, a live
canvas that re-renders on resize, and a trial registered from the window."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt

from app.core.tuning.entities import TrialInfo
from app.ui.context import ContextState, CurrentContext
from app.ui.items import ModelVersionItem, StudyItem, TrialItem
from app.ui.panels.tuning_trials import PARTIAL_ROLE, TrialsModel, TrialsProxy

WAIT_MS = 120_000
T0 = datetime(2026, 1, 1, 12, 0, 0)


def trial(number, state, values=None, intermediate=None, seconds=3.0, **params):
    return TrialInfo(
        number=number,
        state=state,
        values=values,
        params=params or {"n_neighbors": 5 + number},
        run_id=100 + number,
        started_at=T0,
        ended_at=T0 + timedelta(seconds=seconds),
        intermediate=intermediate or {},
    )


def test_pruned_trials_are_told_apart_and_never_ranked(qtbot) -> None:
    model = TrialsModel()
    proxy = TrialsProxy()
    proxy.setSourceModel(model)
    model.set_trials(
        [
            trial(0, "COMPLETE", (0.9946,), {0: 0.99, 1: 0.9946}),
            trial(1, "PRUNED", None, {0: 0.9981, 1: 0.9979}),  # a partial mean that looks best
            trial(2, "COMPLETE", (0.9812,), {0: 0.98, 1: 0.9812}),
            trial(3, "FAIL"),
        ],
        ("roc_auc",),
    )
    assert model.columns()[:5] == ["#", "State", "roc_auc", "Duration", "n_neighbors"]
    state = model.index(1, 1)
    assert state.data() == "pruned after fold 2" and "cancelled" not in state.data()
    assert state.data(Qt.ItemDataRole.DecorationRole) is not None  # state first, with an icon
    value = model.index(1, 2)
    assert value.data() == "0.9979 (partial)" and value.data(PARTIAL_ROLE) is True
    assert "not ranked" in value.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole) == "0.9946"  # full on hover

    proxy.sort(2, Qt.SortOrder.DescendingOrder)  # best value first
    order = [proxy.trial(r).number for r in range(proxy.rowCount())]
    assert order[:2] == [0, 2] and set(order[2:]) == {1, 3}
    proxy.sort(2, Qt.SortOrder.AscendingOrder)  # partial and missing last in this order too
    order = [proxy.trial(r).number for r in range(proxy.rowCount())]
    assert order[:2] == [2, 0] and set(order[2:]) == {1, 3}

    proxy.set_state_filter("complete")
    assert sorted(proxy.trial(r).number for r in range(proxy.rowCount())) == [0, 2]
    proxy.set_state_filter("pruned")
    assert [proxy.trial(r).number for r in range(proxy.rowCount())] == [1]
    proxy.set_state_filter("all")
    proxy.setFilterFixedString("failed")
    assert [proxy.trial(r).number for r in range(proxy.rowCount())] == [3]


@pytest.fixture
def ran(tuning, runner):
    """A single-objective study of 4 finished trials, run for real."""
    from app.core.tuning import StudyRequest

    tuning.create(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators="knn",
            n_trials=4,
            folds=2,
            name="one",
            pruner="none",
        )
    )
    tuning.optimize("one", runner=runner)
    return tuning


@pytest.fixture
def panel(qtbot, services, ran, runner):
    from app.ui.panels.tuning_panel import TuningPanel

    widget = TuningPanel(
        tuning=ran,
        runner=runner,
        datasets=services.datasets,
        recipes=lambda: services.recipes,
        training=services.training,
        tracking=services.tracking,
        registry=lambda: services.registry,
        context=CurrentContext(ContextState("bc", 1, "target")),
    )
    qtbot.addWidget(widget)
    widget.resize(1000, 650)
    widget.show()
    yield widget
    widget.close_jobs()


def test_pickers_come_from_the_store_and_the_context(qtbot, panel) -> None:
    form = panel.form
    qtbot.waitUntil(lambda: form.dataset_ref() == "bc@1", timeout=WAIT_MS)
    assert form.dataset_combo.count() == 1 and form.target_combo.currentData() == "target"
    assert form.recipe_combo.currentData() is None  # "(no recipe)" offered first
    form.dataset_combo.activated.emit(0)  # a pick here becomes every panel's default
    assert form._context.target == "target" and form._context.dataset == "bc"
    assert panel.form.request().dataset == "bc@1"


def test_the_space_editor_is_one_readable_row_per_parameter(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: panel.form.dataset_ref() == "bc@1", timeout=WAIT_MS)
    panel.estimators_edit.setText("knn")
    with qtbot.waitSignal(panel.form.space_loaded, timeout=WAIT_MS) as loaded:
        panel.load_space_button.click()
    assert loaded.args[0] == panel.space_table.rowCount() >= 3
    dialog = panel.form.space_dialog
    assert dialog.isVisible() and dialog.width() >= 700
    table = panel.space_table
    header = table.horizontalHeader()
    titles = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert titles == ["Estimator", "Parameter", "Type", "Low", "High", "Log", "Choices", "Fixed"]
    metrics = header.fontMetrics()
    for c, title in enumerate(titles):  # every header readable in full
        assert header.sectionSize(c) >= metrics.horizontalAdvance(title), title
    kinds = {table.item(r, 2).text() for r in range(table.rowCount())}
    assert kinds <= {"int", "float", "categorical", "fixed"}
    assert panel.form.request().space == ()  # nothing edited: the default space


def test_only_applicable_plots_and_the_canvas_follows_resizes(qtbot, panel) -> None:
    panel.open_item(StudyItem("one"))
    qtbot.waitUntil(lambda: panel.plots.kinds() != [], timeout=WAIT_MS)
    kinds = panel.plots.kinds()
    assert "pareto" not in kinds and "history" in kinds and "intermediate" in kinds
    plots = panel.plots
    canvas = plots.canvas

    def fits() -> bool:  # the picture drawn (in a job) at the canvas's size
        pic = plots.picture
        return (
            pic is not None and not plots.busy and canvas.isVisible()
            and pic.image.width() == round(canvas.width() * canvas.devicePixelRatioF())
        )  # fmt: skip

    qtbot.waitUntil(fits, timeout=WAIT_MS)
    before = plots.picture.image.width()
    panel.resize(1400, 900)
    qtbot.waitUntil(lambda: fits() and plots.picture.image.width() > before, timeout=WAIT_MS)
    # choosing another plot draws it on the same canvas; none of the offered ones fails
    with qtbot.waitSignal(panel.plots.rendered, timeout=WAIT_MS) as rendered:
        panel.plots.kind_combo.setCurrentIndex(kinds.index("slice"))
    assert rendered.args == ["slice"]
    for kind in ("parallel", "contour", "importances", "timeline"):  # colorbars, grids, bars
        with qtbot.waitSignal(panel.plots.rendered, timeout=WAIT_MS):
            panel.plots.kind_combo.setCurrentIndex(kinds.index(kind))
    assert not panel.messages.messages()


def test_register_the_best_trial_from_the_window(qtbot, panel, services) -> None:
    panel.open_item(StudyItem("one"))
    qtbot.waitUntil(lambda: panel.trials_model.rowCount() == 4, timeout=WAIT_MS)
    best = services.tuning.summary("one").best_trial
    panel.open_item(TrialItem("one", best))
    qtbot.waitUntil(
        lambda: getattr(panel.selected_trial(), "number", None) == best, timeout=WAIT_MS
    )
    assert panel.selected_item() == TrialItem("one", best, panel.selected_trial().run_id)
    panel.register_trial("one", best)
    qtbot.waitUntil(lambda: panel.register_dialog is not None, timeout=WAIT_MS)
    assert panel.register_dialog.model_name() == "bc"
    assert f"Trial {best} of study one" in panel.register_dialog.summary.text()
    with qtbot.waitSignal(panel.open_requested, timeout=WAIT_MS) as opened:
        panel.register_dialog.accept()
    assert opened.args == ["registry", ModelVersionItem("bc", 1)]
    version = services.registry.resolve("bc@1")
    assert version.run_id is not None
    assert services.registry.load_model("bc@1") is not None
    text = " ".join(panel.messages.messages())
    assert "Registered as bc@1" in text


def test_a_pruned_or_missing_trial_is_refused_with_a_reason(qtbot, panel) -> None:
    panel.register_trial("one", 99)
    qtbot.waitUntil(lambda: bool(panel.messages.messages()), timeout=WAIT_MS)
    assert "has no trial 99" in panel.messages.messages()[0]
