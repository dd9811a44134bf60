"""The journey's steps, driven only through the window, shared by the Docker-free journey
(``test_journey.py``) and the journey on the real daemon (``test_journey_docker.py``).

``Journey`` wraps one ``MainWindow`` and counts what a person does in it: a menu entry is one
action, a context-menu entry two (the right-click and the entry), a field filled or a button
pressed one. Reading the store is fine to ASSERT; no step calls the core or the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QPoint
from PySide6.QtWidgets import QComboBox, QMenu

from app.ui.items import DatasetItem, ModelVersionItem, RunItem, StudyItem, TrialItem

from .conftest import WAIT_MS, drop_files

WAIT = max(WAIT_MS, 180_000)
SHIFTED = "worst perimeter"  # the feature the batch moves by four standard deviations


class Journey:
    """The window and a count of what the person did in it."""

    def __init__(self, qtbot: Any, window: Any) -> None:
        self.qtbot, self.window, self.actions = qtbot, window, 0

    def menu(self, action_id: str) -> None:
        """A menu-bar entry, acting on what is selected now."""
        qaction = self.window.qactions[action_id]
        self.window.update_actions()
        assert qaction.isEnabled(), f"{action_id} is disabled: {qaction.toolTip()}"
        self.actions += 1
        qaction.trigger()

    def context(self, item: Any, action_id: str) -> None:
        """An entry of ``item``'s context menu, as a right-click opens it."""
        menu = self.window.show_item_menu(item, QPoint(10, 10))
        assert isinstance(menu, QMenu), f"no context menu for {item}"
        entry = next((a for a in menu.actions() if a.objectName() == action_id), None)
        assert entry is not None, f"{action_id} not in the menu of {item}"
        assert entry.isEnabled(), f"{action_id} is disabled on {item}: {entry.toolTip()}"
        menu.close()
        self.actions += 2  # the right-click and the entry
        entry.trigger()

    def did(self, n: int = 1) -> None:
        """Count clicks and keystrokes in a form (a field filled, a button pressed)."""
        self.actions += n

    def until(self, condition: Any, timeout: int = WAIT) -> None:
        self.qtbot.waitUntil(condition, timeout=timeout)


def breast_cancer_files(folder: Path) -> tuple[Path, Path]:
    """breast-cancer as a CSV, and a batch of it with one important feature shifted."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame = frame[["target", *frame.columns[:-1]]]  # the target is not the last column
    data = folder / "breast_cancer.csv"
    frame.to_csv(data, index=False)
    batch = frame.drop(columns=["target"]).sample(n=300, random_state=1).copy()
    batch[SHIFTED] = batch[SHIFTED] + 4 * frame[SHIFTED].std()
    shifted = folder / "shifted.csv"
    batch.to_csv(shifted, index=False)
    return data, shifted


def through_the_model(j: Journey, csv: Path, model: str = "breast_cancer") -> ModelVersionItem:
    """Every step up to a registered champion named ``model`` (the register dialog proposes
    the dataset's name; another name is typed in); returns the champion's item."""
    window, qtbot = j.window, j.qtbot
    data_panel = window.data_panel

    # 1. drop the file on the window (a real drop event)
    j.did()
    assert drop_files(window, csv) == (True, True)
    j.until(lambda: (i := data_panel.selected_item()) is not None and i.name == "breast_cancer")

    # 2. Data ▸ Set target and roles…: the Role cell's combo in the schema
    j.menu("modeldesk.data.roles")
    row = data_panel.schema_model.column_names().index("target")
    from app.ui.widgets.schema_model import ROLE_COLUMN

    index = data_panel.schema_model.index(row, ROLE_COLUMN)
    data_panel.schema_view.setCurrentIndex(index)
    data_panel.schema_view.edit(index)
    combo = data_panel.schema_view.findChild(QComboBox, "role-editor")
    combo.setCurrentText("target")
    combo.activated.emit(combo.currentIndex())
    j.did(2)
    j.until(lambda: window.context.target == "target")
    dataset = DatasetItem("breast_cancer", 1, "target")

    # 3. Explore it (context menu of the dataset)
    j.context(dataset, "modeldesk.data.explore")
    explore = window.panels["explore"]
    j.until(lambda: explore.profile is not None)
    assert explore.selected_target() == "target"

    # 4. train two estimators from Model ▸ New run… (the form starts on the context)
    runs = window.panels["runs"]
    run_ids = []
    for estimator in ("logistic", "random_forest"):
        j.menu("modeldesk.model.new_run")
        form = runs.train_form
        j.until(lambda f=form: f.request().dataset == "breast_cancer@1")
        assert form.target_combo.currentData() == "target"
        form.estimator_combo.setCurrentIndex(form.estimator_combo.findData(estimator))
        form.folds_spin.setValue(3)
        j.did(3)
        with qtbot.waitSignal(runs.launcher.ended, timeout=WAIT) as ended:
            form.train_button.click()
        run_id, state = ended.args
        assert state == "succeeded"
        run_ids.append(run_id)

    # 5. compare them: select both rows (a click, a Ctrl+click), Model ▸ Compare runs
    j.until(lambda: runs.model.rowCount() >= 2 and runs.model.run_at(1) is not None)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in range(runs.model.rowCount()):
        if runs.model.run_at(row).id in run_ids:
            runs.table.selectionModel().select(runs.model.index(row, 0), flags)
    j.did(2)
    assert sorted(runs.selected_run_ids()) == sorted(run_ids)
    j.context(RunItem(run_ids[0]), "modeldesk.model.compare")
    j.until(lambda: runs.compare.data is not None)
    assert runs.tabs.currentWidget() is runs.compare

    # 6. tune 6 trials from Model ▸ Tune…
    j.context(dataset, "modeldesk.model.tune")
    tuning = window.panels["tuning"]
    j.until(lambda: tuning.form.dataset_ref() == "breast_cancer@1")
    tuning.estimators_edit.setText("logistic")
    tuning.trials_spin.setValue(6)
    tuning.folds_spin.setValue(3)
    j.did(4)
    tuning.start_from_form()
    services = window.services
    j.until(lambda: isinstance(tuning.selected_item(), StudyItem | TrialItem))
    picked = tuning.selected_item()
    name = picked.name if isinstance(picked, StudyItem) else picked.study
    j.until(lambda: services.tuning.summary(name).status == "finished" and not tuning.running)
    study = services.tuning.summary(name)
    j.until(lambda: tuning.trials_model.rowCount() == 6)

    # 7. register the best trial (its model was saved when the study ended)
    best = study.best_trial
    tuning.open_item(TrialItem(study.name, best))
    j.did()
    j.until(lambda: getattr(tuning.selected_trial(), "number", None) == best)
    j.context(tuning.selected_item(), "modeldesk.model.register")
    j.until(lambda: tuning.register_dialog is not None)
    assert tuning.register_dialog.model_name() == "breast_cancer"
    if model != "breast_cancer":
        tuning.register_dialog.name.setText(model)
        j.did()
    with qtbot.waitSignal(tuning.open_requested, timeout=WAIT) as registered:
        tuning.register_dialog.accept()
        j.did()
    version = registered.args[1]
    assert version == ModelVersionItem(model, 1)
    assert services.registry.resolve(f"{model}@1").run_id is not None

    # 8. make it the champion (Model ▸ Set alias… in the version's context menu)
    registry = window.panels["registry"]
    j.context(version, "modeldesk.model.set_alias")
    j.until(lambda: registry.alias_dialog is not None and registry.alias_dialog.isVisible())
    registry.alias_dialog.setTextValue("champion")
    registry.alias_dialog.accept()
    j.did(2)
    j.until(lambda: champion(services, model) == 1)
    return version


def champion(services: Any, model: str = "breast_cancer") -> int | None:
    """The version number ``model``'s champion alias points at (None: none yet)."""
    from app.core.errors import NotFound

    try:
        return services.registry.resolve(f"{model}@champion").version
    except NotFound:  # the alias job has not written it yet
        return None


def answer_of_the_model(
    services: Any, csv: Path, model: str = "breast_cancer"
) -> tuple[list[int], list[dict[str, Any]]]:
    """What the champion answers in-process on two rows of ``csv``, and those rows (JSON)."""
    import pandas as pd

    rows = pd.read_csv(csv).drop(columns=["target"]).head(2)
    loaded = services.registry.load_model(f"{model}@champion")
    return [int(v) for v in loaded.predict(rows)], json.loads(rows.to_json(orient="records"))


def monitor_and_retrain(
    j: Journey, version: ModelVersionItem, shifted: Path, *, promote: bool = False
) -> Any:
    """Check drift on a dropped shifted batch (the alert names the shifted feature), then
    retrain from the version's context menu; ``promote`` ticks "promote if better" first.
    Returns the ``RetrainResult``."""
    window, qtbot = j.window, j.qtbot
    monitor = window.panels["monitor"]
    # check drift from the version's context menu, then drop the shifted batch on Monitor
    j.context(version, "modeldesk.monitor.check_drift")  # opens Monitor on the version
    j.until(lambda: monitor.selected_model() == version.ref)
    with qtbot.waitSignal(monitor.report_shown, timeout=WAIT) as shown:
        j.did()
        assert drop_files(monitor, shifted) == (True, True)
    report = shown.args[0]
    assert report.status == "alert"
    alerted = [f.name for f in report.features if f.status == "alert"]
    assert SHIFTED in alerted

    # retrain on the dataset (promote if better, when asked)
    if promote and not monitor.promote_check.isChecked():
        monitor.promote_check.click()
        j.did()
    with qtbot.waitSignal(monitor.retrained, timeout=WAIT) as retrained:
        j.context(version, "modeldesk.monitor.retrain")
    result = retrained.args[0]
    assert result is not None
    return result


def predictions(answer: Any) -> list:
    """The predictions in a test request's answer, whatever its shape (MLflow's or OIP)."""
    body = getattr(answer, "body", answer)
    if isinstance(body, str):
        body = json.loads(body)
    if isinstance(body, dict):
        for key in ("predictions", "outputs"):
            if key in body:
                value = body[key]
                if key == "outputs":
                    value = value[0]["data"]
                return value
    return list(body)
