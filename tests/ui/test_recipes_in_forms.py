"""New run and New study train with a Prepare recipe picked in the window: the picker offers
"(no recipe)" first and only the recipes whose columns the dataset version has, preselects
the current context's recipe (the one Prepare saved last), and the run it starts records it."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.ui.items import DatasetItem
from app.ui.panels.runs_recipe_picker import NO_RECIPE
from tests.ui.conftest import WAIT_MS, wait_idle, write_csv


def _offered(combo) -> list:
    return [combo.itemData(i) for i in range(combo.count())]


def _dataset_and_recipes(services, tmp_path):
    version = services.datasets.add_file(write_csv(tmp_path / "shop.csv", rows=40)).version
    services.recipes.save("fill", [{"op": "impute", "columns": ["price"], "strategy": "mean"}])
    services.recipes.save("other", [{"op": "impute", "columns": ["petal"], "strategy": "mean"}])
    return version


def test_new_run_offers_fitting_recipes_and_trains_with_the_one_picked(
    qtbot, window, services, tmp_path
) -> None:
    version = _dataset_and_recipes(services, tmp_path)
    window.show_panel("runs")
    runs = window.panels["runs"]
    runs.open_item(DatasetItem(version.name, version.version, "flag"))
    form = runs.train_form
    qtbot.waitUntil(lambda: form.recipe_combo.count() == 2, timeout=WAIT_MS)
    assert _offered(form.recipe_combo) == [None, "fill@1"]  # "other" reads a missing column
    assert form.recipe_combo.currentText() == NO_RECIPE  # none by default
    assert form.request().recipe is None

    # the context's recipe (Prepare saved it last) is preselected
    window.context.update(recipe="fill@1")
    qtbot.waitUntil(lambda: form.recipe_combo.currentData() == "fill@1", timeout=WAIT_MS)
    form.select(version.name, "flag", "logistic")
    form.folds_spin.setValue(3)
    qtbot.waitUntil(lambda: "Task: binary" in form.plan_label.text(), timeout=WAIT_MS)
    assert form.request().recipe == "fill@1"
    qtbot.mouseClick(form.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "finished" in form.status_label.text(), timeout=180_000)
    run_id = max(r.id for r in services.tracking.search(limit=None).runs)
    run = services.tracking.get(run_id)
    assert run.status == "finished"
    assert run.recipe["recipe"]["name"] == "fill" and run.recipe["recipe"]["version"] == 1

    # a pick here becomes the context's, so New study opens on it too
    form.recipe_combo.setCurrentIndex(0)
    form.recipe_combo.activated.emit(0)
    assert window.context.recipe is None
    wait_idle(qtbot, window.runner)


def test_new_study_offers_fitting_recipes_and_uses_the_context_one(
    qtbot, window, services, tmp_path
) -> None:
    version = _dataset_and_recipes(services, tmp_path)
    window.context.update(dataset=version.name, version=version.version, target="flag")
    window.context.update(recipe="fill@1")
    window.show_panel("tuning")
    form = window.panels["tuning"].form
    qtbot.waitUntil(lambda: form.recipe_combo.count() == 2, timeout=WAIT_MS)
    assert _offered(form.recipe_combo) == [None, "fill@1"]
    assert form.recipe_combo.currentData() == "fill@1"
    request = form.request()
    assert request.recipe == "fill@1" and request.dataset == version.ref
    plan = services.tuning.validate(request)
    assert plan.train.recipe["name"] == "fill" and plan.train.recipe["version"] == 1
    wait_idle(qtbot, window.runner)
