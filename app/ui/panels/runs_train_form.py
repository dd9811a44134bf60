"""The New run form: dataset version, target, estimator, a typed parameter form generated from
the estimator's ``ParamSpec``s, validation and seed; Train starts the run in the background.

Picking a dataset and target starts a *check* job (``TrainingService.validate`` with the
default estimator) on the runner: it reads the target column, infers the task and lists what
preprocessing will drop, so the form can show the task, filter the estimators by it and warn
before anything is created. Results of an older check are dropped (a ``JobSlot``).

Defaults come from the window's ``CurrentContext``: the dataset, version and target the person
picked last (else the dataset's stored target role, else its last column); a pick made here
(``activated``: the person's, not the form's own filling) updates the context. The recipe
picker offers the recipes that fit the chosen version (``runs_recipe_picker``), the context's
preselected; the run then trains on the recipe's output (raw rows in). Train hands a
``TrainRequest`` to the ``TrainingLauncher``; the run appears in the table at once (queued),
its progress and Cancel are under the table and here.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.core.training.catalog import DEFAULT_ESTIMATOR, ESTIMATORS, ParamSpec, for_task
from app.core.training.request import TrainRequest
from app.ui.items import DatasetItem
from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs, call
from app.ui.panels.runs_param_fields import INT_LIMIT, field_value, make_field, set_field_value
from app.ui.panels.runs_pickers import apply_wanted, fill_targets, fill_versions, push_context
from app.ui.panels.runs_recipe_picker import fill_recipes, list_choices

if TYPE_CHECKING:
    from app.core.datasets import Dataset, DatasetService
    from app.jobs.runner import JobRunner
    from app.ui.context import CurrentContext
    from app.ui.panels.runs_training import TrainingLauncher

TASKS = (("Infer from the target", None), ("Binary", "binary"), ("Multiclass", "multiclass"),
         ("Regression", "regression"))  # fmt: skip
VALIDATIONS = (("Automatic (stratified for classes)", "auto"), ("K-fold", "kfold"),
               ("Stratified K-fold", "stratified"), ("Repeated K-fold", "repeated"),
               ("Time-series split", "timeseries"))  # fmt: skip
CHECK_DELAY_MS = 300


class TrainForm(QWidget):
    def __init__(
        self,
        *,
        datasets: DatasetService,
        launcher: TrainingLauncher,
        runner: JobRunner,
        context: CurrentContext | None = None,
        recipes: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("train-form")
        self._datasets, self._launcher, self._runner = datasets, launcher, runner
        self._recipes = recipes  # the service, or a getter (built on first use), or None
        self._recipe_choices: list[Any] = []
        self._context = context
        self._list: list[Dataset] = []
        self._listed_at = 0.0
        self._jobs = PanelJobs(self, runner)
        self._list_slot, self._check_slot = JobSlot(self._jobs), JobSlot(self._jobs)
        self._stopped = False
        #: (dataset, version, target) asked for (an item, the context) and not applied yet
        self._wanted: tuple[str, int | None, str | None] | None = None
        if context is not None and context.dataset:
            self._wanted = (context.dataset, context.version, context.target)
        self._task: str | None = None  # inferred by the last check
        self._fields: dict[str, tuple[ParamSpec, QWidget]] = {}

        self.dataset_combo = QComboBox()
        self.dataset_combo.setAccessibleName("Dataset")
        self.version_combo = QComboBox()
        self.target_combo = QComboBox()
        self.target_combo.setAccessibleName("Target column")
        self.recipe_combo = QComboBox()
        self.recipe_combo.setAccessibleName("Recipe")
        self.recipe_combo.setToolTip("A Prepare recipe run first in the model's pipeline")
        self.task_combo = QComboBox()
        for title, task in TASKS:
            self.task_combo.addItem(title, task)
        self.plan_label = QLabel("Pick a dataset and the column to predict.")
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        data_box = QGroupBox("Data")
        data = QFormLayout(data_box)
        data.addRow("Dataset:", self.dataset_combo)
        data.addRow("Version:", self.version_combo)
        data.addRow("Target:", self.target_combo)
        data.addRow("Recipe:", self.recipe_combo)
        data.addRow("Task:", self.task_combo)
        data.addRow(self.plan_label)

        self.estimator_combo = QComboBox()
        self.estimator_combo.setAccessibleName("Estimator")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.params_host = QWidget()
        self.params_form = QFormLayout(self.params_host)
        self.params_form.setContentsMargins(0, 0, 0, 0)
        params_area = QScrollArea()
        params_area.setWidgetResizable(True)
        params_area.setFrameShape(QScrollArea.Shape.NoFrame)
        params_area.setWidget(self.params_host)
        params_area.viewport().setAutoFillBackground(False)
        self.params_host.setAutoFillBackground(False)
        self.defaults_button = QPushButton("Defaults")
        self.defaults_button.setToolTip("Set every parameter back to its default")
        model_box = QGroupBox("Model")
        model = QVBoxLayout(model_box)
        top = QHBoxLayout()
        top.addWidget(self.estimator_combo, 1)
        top.addWidget(self.defaults_button)
        model.addLayout(top)
        model.addWidget(self.description)
        model.addWidget(params_area, 1)

        self.validation_combo = QComboBox()
        for title, value in VALIDATIONS:
            self.validation_combo.addItem(title, value)
        self.folds_spin = QSpinBox()
        self.folds_spin.setRange(2, 50)
        self.folds_spin.setValue(5)
        self.test_size_spin = QDoubleSpinBox()
        self.test_size_spin.setRange(0.0, 0.8)
        self.test_size_spin.setSingleStep(0.05)
        self.test_size_spin.setValue(0.2)
        self.test_size_spin.setToolTip("Share of rows held out for the test score (0 = none)")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, INT_LIMIT)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("optional")
        self.train_button = QPushButton("Train")
        self.train_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        run_box = QGroupBox("Validation")
        run = QFormLayout(run_box)
        run.addRow("Scheme:", self.validation_combo)
        run.addRow("CV folds:", self.folds_spin)
        run.addRow("Test share:", self.test_size_spin)
        run.addRow("Seed:", self.seed_spin)
        run.addRow("Run name:", self.name_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.cancel_button)
        run.addRow(buttons)
        run.addRow(self.status_label)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(data_box, 3)
        layout.addWidget(model_box, 4)
        layout.addWidget(run_box, 3)

        self._check_timer = QTimer(self, singleShot=True, interval=CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self._on_check_timer_timeout)
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_combo_changed)
        self.version_combo.currentIndexChanged.connect(self._on_version_combo_changed)
        self.target_combo.currentIndexChanged.connect(self._check_timer.start)
        self.dataset_combo.activated.connect(self._push_context)
        self.version_combo.activated.connect(self._push_context)
        self.target_combo.activated.connect(self._push_context)
        self.recipe_combo.activated.connect(self._on_recipe_combo_activated)
        self.recipe_combo.currentIndexChanged.connect(self._check_timer.start)
        self._unsubscribe = (
            context.subscribe(self._on_context_changed) if context is not None else None
        )
        self.task_combo.currentIndexChanged.connect(self._on_task_combo_changed)
        self.estimator_combo.currentIndexChanged.connect(self._on_estimator_combo_changed)
        self.defaults_button.clicked.connect(self.reset_parameters)
        self.train_button.clicked.connect(self.train)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        launcher.busy_changed.connect(self._on_launcher_busy_changed)
        launcher.started.connect(self._on_launcher_started)
        launcher.ended.connect(self._on_launcher_ended)
        launcher.failed.connect(self._on_launcher_failed)

        for combo in (self.dataset_combo, self.version_combo, self.target_combo, self.recipe_combo,
                      self.task_combo, self.estimator_combo, self.validation_combo):  # fmt: skip
            # shrink with the window (the full text is in the popup), never force it wider
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(10)
        self._fill_estimators(None)
        self.refresh_datasets()

    # -- public API --------------------------------------------------------------------------

    def refresh_datasets(self) -> None:
        if self._stopped:
            return
        self._listed_at = time.monotonic()
        self._list_slot.start(
            list_choices,
            self._datasets,
            self._recipes,
            name="List datasets and recipes",
            done=lambda _b, choices: self._on_datasets_listed(choices),
        )

    def select_item(self, item: DatasetItem) -> None:
        """Pick ``item``'s dataset version and target (a menu's New run on a dataset)."""
        self._wanted = (item.name, item.version, item.target)
        if self.dataset_combo.findText(item.name) >= 0:
            self._apply_wanted()
        else:  # a dataset added since the list was read
            self.refresh_datasets()

    def request(self) -> TrainRequest:
        """The request the form describes now."""
        name = self.estimator_combo.currentData() or DEFAULT_ESTIMATOR
        params = {key: field_value(w, spec) for key, (spec, w) in self._fields.items()}
        return TrainRequest(
            dataset=self._dataset_ref(),
            target=self.target_combo.currentData() or "",
            estimator=name,
            params=params,
            task=self.task_combo.currentData(),
            validation=self.validation_combo.currentData(),
            folds=self.folds_spin.value(),
            test_size=round(self.test_size_spin.value(), 4),
            seed=self.seed_spin.value(),
            name=self.name_edit.text().strip(),
            recipe=self.recipe_combo.currentData(),
        )

    def train(self) -> None:
        if not self._dataset_ref() or self.target_combo.currentData() is None:
            self.status_label.setText("Pick a dataset and a target first.")
            return
        self._push_context()
        self._launcher.train(self.request())

    def select(self, dataset: str, target: str | None = None, estimator: str | None = None):
        """Pick a dataset (its latest version), a target and an estimator (tests, links)."""
        index = self.dataset_combo.findText(dataset)
        if index >= 0:
            self.dataset_combo.setCurrentIndex(index)
        if target is not None:
            self.target_combo.setCurrentIndex(self.target_combo.findData(target))
        if estimator is not None:
            self.estimator_combo.setCurrentIndex(self.estimator_combo.findData(estimator))

    def stop(self) -> None:
        """No more checks (the panel is closing)."""
        self._stopped = True
        self._check_timer.stop()
        self._jobs.close()
        self._listed_at = float("inf")
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def reset_parameters(self) -> None:
        for spec, widget in self._fields.values():
            set_field_value(widget, spec, spec.default)

    def field(self, name: str) -> QWidget:
        return self._fields[name][1]

    # -- filling -----------------------------------------------------------------------------

    def _dataset_ref(self) -> str:
        version = self.version_combo.currentData()
        return version.ref if version is not None else ""

    def _fill_estimators(self, task: str | None) -> None:
        current = self.estimator_combo.currentData() or DEFAULT_ESTIMATOR
        specs = for_task(task) if task else list(ESTIMATORS.values())
        with QSignalBlocker(self.estimator_combo):
            self.estimator_combo.clear()
            for spec in specs:
                self.estimator_combo.addItem(spec.title, spec.name)
                self.estimator_combo.setItemData(
                    self.estimator_combo.count() - 1, spec.description, Qt.ItemDataRole.ToolTipRole
                )
            index = self.estimator_combo.findData(current)
            if index < 0:
                index = max(self.estimator_combo.findData(DEFAULT_ESTIMATOR), 0)
            self.estimator_combo.setCurrentIndex(index)
        self._on_estimator_combo_changed()

    def _build_params(self, name: str) -> None:
        old = {key: field_value(w, spec) for key, (spec, w) in self._fields.items()}
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self._fields.clear()
        spec = ESTIMATORS.get(name)
        if spec is None:
            return
        self.description.setText(spec.description)
        for param in spec.params:
            widget = make_field(param)
            if param.name in old:  # keep what the user typed when switching estimators
                with contextlib.suppress(TypeError, ValueError):
                    set_field_value(widget, param, old[param.name])
            label = QLabel(param.name)
            label.setToolTip(param.help)
            self.params_form.addRow(label, widget)
            self._fields[param.name] = (param, widget)
        if not spec.params:
            self.params_form.addRow(QLabel("This estimator has no parameters."))

    # -- slots -------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if time.monotonic() - self._listed_at > 2.0:
            self.refresh_datasets()

    def _on_datasets_listed(self, choices: dict[str, Any]) -> None:
        datasets: list[Dataset] = choices["datasets"]
        self._recipe_choices = choices["recipes"]
        self._list = [d for d in datasets if d.versions]
        current = self.dataset_combo.currentText()
        with QSignalBlocker(self.dataset_combo):
            self.dataset_combo.clear()
            for dataset in self._list:
                self.dataset_combo.addItem(dataset.name)
            index = self.dataset_combo.findText(current)
            self.dataset_combo.setCurrentIndex(index if index >= 0 else 0)
        if not self._list:
            self.plan_label.setText("No dataset yet: drop a file on the Data panel first.")
        if self.dataset_combo.currentText() != current or self.version_combo.count() == 0:
            self._on_dataset_combo_changed()
        else:
            self._fill_recipes()
        self._apply_wanted()

    def _apply_wanted(self) -> None:
        """Select the dataset version and target asked for, once the list has them."""
        self._wanted = apply_wanted(
            self._wanted, self.dataset_combo, self.version_combo, self.target_combo
        )

    def _push_context(self, *_args: Any) -> None:
        push_context(self._context, self.dataset_combo, self.version_combo, self.target_combo)

    def _on_context_changed(self, context: Any, changed: frozenset[str]) -> None:
        if "recipe" in changed and context.recipe != self.recipe_combo.currentData():
            self._fill_recipes()
        if not changed & {"dataset", "version", "target"} or not context.dataset:
            return
        version = self.version_combo.currentData()
        here = (self.dataset_combo.currentText(), getattr(version, "version", None))
        if here == (context.dataset, context.version) and (
            not context.target or self.target_combo.currentData() == context.target
        ):
            return
        self._wanted = (context.dataset, context.version, context.target)
        self._apply_wanted()

    def _on_dataset_combo_changed(self, *_args: Any) -> None:
        index = self.dataset_combo.currentIndex()
        dataset = self._list[index] if 0 <= index < len(self._list) else None
        fill_versions(self.version_combo, dataset)
        self._on_version_combo_changed()

    def _on_version_combo_changed(self, *_args: Any) -> None:
        fill_targets(self.target_combo, self.version_combo.currentData())
        self._fill_recipes()
        self._check_timer.start()

    def _fill_recipes(self) -> None:
        wanted = getattr(self._context, "recipe", None)
        fill_recipes(self.recipe_combo, self._recipe_choices, self.version_combo.currentData(),
                     wanted)  # fmt: skip

    def _on_recipe_combo_activated(self, _index: int) -> None:
        if self._context is not None:
            self._context.update(recipe=self.recipe_combo.currentData())

    def _on_task_combo_changed(self, *_args: Any) -> None:
        self._fill_estimators(self.task_combo.currentData() or self._task)
        self._check_timer.start()

    def _on_estimator_combo_changed(self, *_args: Any) -> None:
        self._build_params(self.estimator_combo.currentData() or "")

    def _on_check_timer_timeout(self) -> None:
        target = self.target_combo.currentData()
        if not self._dataset_ref() or target is None:
            return
        request = TrainRequest(dataset=self._dataset_ref(), target=target, estimator="dummy",
                               task=self.task_combo.currentData(),
                               folds=self.folds_spin.value(), test_size=0.0,
                               recipe=self.recipe_combo.currentData())  # fmt: skip
        bridge = self._check_slot.start(
            call,
            self._launcher.training.validate,
            request,
            name="Check training request",
            done=self._on_check_done,
        )
        self.plan_label.setText("Checking the target…")
        bridge.failed.connect(lambda error, _tb, b=bridge: self._on_check_failed(b, error))

    def _on_check_done(self, _bridge: JobBridge, plan: Any) -> None:
        self._task = plan.task
        classes = f", {len(plan.classes)} classes" if plan.classes else ""
        lines = [f"Task: {plan.task}{classes} · {len(plan.features)} features."]
        lines += list(plan.notes)
        self.plan_label.setText("\n".join(lines))
        if self.task_combo.currentData() is None:
            self._fill_estimators(plan.task)

    def _on_check_failed(self, bridge: JobBridge, error: BaseException) -> None:
        if not self._check_slot.is_current(bridge):
            return
        text = error.message if isinstance(error, ModelDeskError) else str(error)
        hint = f" {error.hint}" if isinstance(error, ModelDeskError) and error.hint else ""
        self.plan_label.setText(f"⚠ {text}{hint}")

    def _on_cancel_button_clicked(self) -> None:
        self._launcher.cancel()
        self.status_label.setText("Cancelling…")

    def _on_launcher_busy_changed(self, busy: bool) -> None:
        self.train_button.setEnabled(not busy)
        if busy:
            self.status_label.setText("Checking the request and starting the worker…")

    def _on_launcher_started(self, run_id: int, _bridge: Any) -> None:
        self.cancel_button.setEnabled(True)
        self.status_label.setText(f"Run {run_id} is training; its progress is under the table.")

    def _on_launcher_ended(self, run_id: int, state: str) -> None:
        self.cancel_button.setEnabled(bool(self._launcher.running))
        verb = {"succeeded": "finished", "failed": "failed", "cancelled": "was cancelled"}
        self.status_label.setText(f"Run {run_id} {verb.get(state, state)}.")

    def _on_launcher_failed(self, error: BaseException, _tb: str) -> None:
        text = error.message if isinstance(error, ModelDeskError) else str(error)
        self.status_label.setText(f"⚠ {text}")
