"""Pruned trials' partial metrics never top a best-value sort or pass a metric filter.

A real study (k-NN on breast-cancer measurements, median pruner, seed 0) prunes half of its
trials; the mean of the one or two folds a pruned trial finished is above the best finished
trial's value (the bug: 0.997 above 0.989). By default the core's search, ``modeldesk runs
list`` and the Runs panel leave those values out of sorts and metric filters and say
"pruned after fold k"; asked to, they rank them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from app.cli import main
from tests.tuning.conftest import bc_table

SORT = "metrics.roc_auc"


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Iterator:
    import optuna

    from app.bootstrap import build_services
    from app.core.tuning import StudyRequest

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = tmp_path_factory.mktemp("partial")
    url = f"sqlite:///{folder / 'modeldesk.db'}"
    services = build_services(url)
    services.datasets.add_table(bc_table(), name="bc", source_kind="test")
    request = StudyRequest(
        dataset="bc", target="target", estimators=("knn",), n_trials=12, folds=3, seed=0,
        name="knn-partial", pruner="median",
    )  # fmt: skip
    services.tuning.create(request)
    summary = services.tuning.optimize("knn-partial")
    assert summary.counts.get("PRUNED", 0) >= 2, summary.counts
    yield services, url
    services.close()


def trial_runs(services) -> tuple[dict[int, float], dict[int, float]]:
    """(finished, pruned): run id → roc_auc of the study's trial runs."""
    page = services.tracking.search(
        filter="parent_run_id > 0", limit=None, columns=[SORT], include_partial=True
    )
    finished = {r.id: r.values[SORT] for r in page.runs if r.status == "finished"}
    pruned = {r.id: r.values[SORT] for r in page.runs if r.status == "cancelled"}
    return finished, pruned


def test_the_real_pruned_values_would_top_the_sort(study) -> None:
    """The premise: without the exclusion a pruned trial's partial mean ranks first."""
    services, _ = study
    finished, pruned = trial_runs(services)
    assert max(pruned.values()) > max(finished.values())
    page = services.tracking.search(sort=SORT, limit=1, include_partial=True)
    assert page.runs[0].id in pruned


def test_search_ranks_finished_runs_first_and_filters_out_partial_values(study) -> None:
    services, _ = study
    finished, pruned = trial_runs(services)
    page = services.tracking.search(sort=SORT, limit=None, columns=[SORT])
    order = [r.id for r in page.runs]
    ranked = [i for i in order if i in finished]
    assert ranked == sorted(finished, key=lambda i: (-finished[i], -i))
    assert max(order.index(i) for i in finished) < min(order.index(i) for i in pruned)
    assert page.total == len(order)  # the pruned runs are listed, not hidden
    # one page at a time walks the same order (the index path of the paging query)
    paged = [r.id for o in range(0, len(order), 3) for r in
             services.tracking.search(sort=SORT, limit=3, offset=o).runs]  # fmt: skip
    assert paged == order
    ascending = [r.id for r in services.tracking.search(sort=SORT, descending=False).runs]
    assert [i for i in ascending if i in finished] == sorted(
        finished, key=lambda i: (finished[i], -i)
    )
    assert max(ascending.index(i) for i in finished) < min(ascending.index(i) for i in pruned)

    # a metric clause matches no partial value, unless asked to
    floor = min(pruned.values()) - 1e-9
    matched = services.tracking.search(filter=f"{SORT} > {floor}", limit=None).runs
    assert {r.id for r in matched}.isdisjoint(pruned)
    assert {r.id for r in matched} == {i for i, v in finished.items() if v > floor}
    both = services.tracking.search(filter=f"{SORT} > {floor}", limit=None, include_partial=True)
    assert set(pruned) <= {r.id for r in both.runs}
    # a filtered sort (the other paging path) keeps the rule
    page = services.tracking.search(filter="parent_run_id > 0", sort=SORT, limit=4)
    assert [r.id for r in page.runs] == ranked[:4]


def test_partial_states_say_pruned_after_fold_k(study) -> None:
    services, _ = study
    finished, pruned = trial_runs(services)
    states = services.tracking.partial_states([*finished, *pruned])
    assert set(states) == set(pruned)
    for run_id, text in states.items():
        run = services.tracking.get(run_id)
        folds = len(services.tracking.metric_history(run_id, "cv.roc_auc"))
        assert text == f"pruned after fold {folds}", (text, run.error)


def test_cli_runs_list_sorts_partial_values_last_unless_asked(study, capsys) -> None:
    services, url = study
    finished, pruned = trial_runs(services)
    best = max(finished, key=lambda i: (finished[i], i))
    code = main(["runs", "list", "--sort", "roc_auc", "--store", url, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    runs = json.loads(out)["runs"]
    assert runs[0]["id"] == best and runs[0]["partial"] is False
    marked = [r for r in runs if r["id"] in pruned]
    assert marked and all(
        r["partial"] and r["state"].startswith("pruned after fold") for r in marked
    )

    code = main(["runs", "list", "--sort", "roc_auc", "--store", url])
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert code == 0 and lines[1].split()[0] == str(best)
    assert "pruned after fold" in out and "* partial" in out

    code = main(["runs", "list", "--sort", "roc_auc", "--include-partial", "--store", url])
    out, _ = capsys.readouterr()
    first = out.splitlines()[1]
    assert code == 0 and int(first.split()[0]) in pruned and "pruned after fold" in first
    assert "*" in first


def test_runs_panel_sorts_partial_values_last_and_ranks_them_on_request(
    qtbot, study, runner
) -> None:
    from PySide6.QtCore import Qt

    from app.ui.panels.runs_panel import RunsPanel
    from app.ui.panels.runs_table_model import FIXED_COLUMNS

    services, _ = study
    finished, pruned = trial_runs(services)
    panel = RunsPanel(tracking=services.tracking, datasets=services.datasets, runner=runner)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    model = panel.model
    panel.set_columns([SORT])
    qtbot.waitUntil(lambda: not model.loading and model.total > 0, timeout=30_000)
    col = len(FIXED_COLUMNS) + model.columns().index(SORT)
    panel.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(
        lambda: model.query.sort == SORT and not model.loading and model.run_at(0) is not None,
        timeout=30_000,
    )
    assert model.run_at(0).id == max(finished, key=lambda i: (finished[i], i))
    rows = {model.run_at(r).id: r for r in range(model.total)}
    assert max(rows[i] for i in finished) < min(rows[i] for i in pruned)
    row = rows[next(iter(pruned))]
    assert model.index(row, 0).data().startswith("pruned after fold")
    assert model.index(row, col).data().endswith("(partial)")
    assert "left out of metric sorts" in model.index(row, col).data(Qt.ItemDataRole.ToolTipRole)

    panel.include_partial.setChecked(True)
    qtbot.waitUntil(
        lambda: model.query.include_partial and not model.loading
        and model.run_at(0) is not None and model.run_at(0).id in pruned,
        timeout=30_000,
    )  # fmt: skip
    panel.close_jobs()
