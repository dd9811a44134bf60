"""States told apart and readable: a failed run's error line has WCAG contrast ≥ 4.5:1 against
its background in a light and in a dark palette (computed from the label's actual palette
colours, not assumed), and a pruned trial's run says "pruned after fold k", not "cancelled"."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette

from app.core.progress import NullProgress
from app.ui.panels.runs_colors import MIN_CONTRAST, contrast_ratio
from app.ui.panels.runs_detail import RunDetailView, load_detail


def palette(window: str, text: str) -> QPalette:
    pal = QPalette(QColor(window))  # Qt derives the other roles from the window colour
    pal.setColor(QPalette.ColorRole.WindowText, QColor(text))
    pal.setColor(QPalette.ColorRole.Text, QColor(text))
    pal.setColor(QPalette.ColorRole.BrightText, QColor("#ffffff"))
    return pal


PALETTES = {"light": palette("#efefef", "#1a1a1a"), "dark": palette("#2b2b2b", "#e8e8e8")}


def shown_contrast(label) -> float:
    pal = label.palette()
    return contrast_ratio(pal.color(label.foregroundRole()), pal.color(label.backgroundRole()))


@pytest.mark.parametrize("name", list(PALETTES))
def test_a_failed_runs_error_is_readable(qtbot, qapp, services, name) -> None:
    run_id = services.tracking.create_run(name="broken", estimator="logistic")
    services.tracking.finish(run_id, "failed", "ValueError: Input contains NaN in 'price'.")
    detail = load_detail(services.tracking, services.datasets, run_id, progress=NullProgress())
    view = RunDetailView()
    qtbot.addWidget(view)
    view.setPalette(PALETTES[name])  # what a theme change does: the label must follow
    view.set_detail(detail)
    view.show()
    label = view.error_label
    assert label.isVisibleTo(view) and "Input contains NaN" in label.text()
    ratio = shown_contrast(label)
    assert ratio >= MIN_CONTRAST, f"{name}: {ratio:.2f}"
    # the old role failed this very test: white BrightText on the light panel
    pal = label.palette()
    background = pal.color(label.backgroundRole())
    old = contrast_ratio(pal.color(QPalette.ColorRole.BrightText), background)
    if name == "light":
        assert old < MIN_CONTRAST


def test_a_pruned_trials_run_says_pruned_after_fold_k(qtbot, services) -> None:
    run_id = services.tracking.create_run(
        name="trial 3", estimator="knn", tags={"trial_state": "PRUNED"}, trial_number=3
    )
    services.tracking.finish(run_id, "cancelled", "Pruned by the median pruner after fold 2.")
    detail = load_detail(services.tracking, services.datasets, run_id, progress=NullProgress())
    view = RunDetailView()
    qtbot.addWidget(view)
    view.set_detail(detail)
    assert "pruned after fold 2" in view.title.text() and "cancelled" not in view.title.text()
    assert "partial" in view._fields["Status"].text()


def test_the_runs_table_says_pruned_and_marks_partial_metrics(qtbot, services, runner) -> None:
    from app.ui.panels.runs_table_model import RunQuery, RunsTableModel, fetch_page

    tracking = services.tracking
    parent = tracking.create_run(name="study", status="running")
    pruned = tracking.create_run(
        name="trial 1", parent_run_id=parent, tags={"trial_state": "PRUNED"}, trial_number=1
    )
    tracking.log_metrics(pruned, {"cv.roc_auc": 0.9979})
    tracking.finish(pruned, "cancelled", "Pruned by the median pruner after fold 2.")
    stopped = tracking.create_run(name="stopped by the user", parent_run_id=parent)
    tracking.finish(stopped, "cancelled", "Stopped by the user.")
    query = RunQuery(columns=("metrics.cv.roc_auc",))
    page = fetch_page(tracking, query, 0, 50, progress=NullProgress())
    status = {r.id: r.status for r in page.runs}
    assert status[pruned] == "pruned after fold 2" and status[stopped] == "cancelled"

    model = RunsTableModel(tracking=tracking, runner=runner)
    model.update_query(columns=("metrics.cv.roc_auc",))
    qtbot.waitUntil(lambda: model.row_of(pruned) is not None, timeout=20_000)
    row = model.row_of(pruned)
    assert model.index(row, 0).data() == "pruned after fold 2"
    cell = model.index(row, model.columnCount() - 1)
    assert cell.data() == "0.9979 (partial)" and "partial" in cell.data(3)  # 3: tooltip
    model.stop()
