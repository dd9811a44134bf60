"""The Tuning panel's New study form and its search-space editor.

Dataset, version, target and recipe are pickers filled from the store by a job (never typed):
the defaults are the current context's (the dataset, target and recipe the person picked
last), else the dataset's stored target role. The search space opens in ``SpaceDialog``: a
full-width table with one row per parameter — estimator, parameter, type, low, high, log,
choices, fixed — loaded from ``TuningService.validate`` (the space the study would search) and
edited in place; only the rows changed from the loaded default become ``SpaceEdit``s.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.items import DatasetItem
from app.ui.job_bridge import JobSlot, PanelJobs
from app.ui.panels.runs_pickers import apply_wanted, fill_targets, fill_versions, push_context
from app.ui.panels.runs_recipe_picker import NO_RECIPE, fill_recipes, list_choices

SPACE_COLUMNS = ("Estimator", "Parameter", "Type", "Low", "High", "Log", "Choices", "Fixed")
EST, PARAM, KIND, LOW, HIGH, LOG, CHOICES, FIXED = range(len(SPACE_COLUMNS))

# -- job bodies (worker threads) ------------------------------------------------------------


def load_space(tuning: Any, request: Any, *, progress: Any) -> list[tuple[str, ...]]:
    """The rows of the space the request would search (one per parameter)."""
    plan = tuning.validate(request)
    rows = []
    for est, space in plan.space.items():
        for dim in space.dims:
            choices = ", ".join(map(str, dim.choices)) if dim.kind == "categorical" else ""
            low = "" if dim.low is None else f"{dim.low:g}"
            high = "" if dim.high is None else f"{dim.high:g}"
            rows.append((est, dim.name, dim.kind, low, high, "log" if dim.log else "", choices, ""))
        for param, value in space.fixed.items():
            rows.append((est, param, "fixed", "", "", "", "", str(value)))
    return rows


# -- the search-space editor -----------------------------------------------------------------


class SpaceDialog(QDialog):
    """One row per parameter of the search space, every column readable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("space-dialog")
        self.setWindowTitle("Search space")
        self.resize(820, 460)
        self._loaded: list[tuple[str, ...]] = []
        self.table = QTableWidget(0, len(SPACE_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(SPACE_COLUMNS))
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(CHOICES, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        tips = {
            LOW: "Lowest value tried",
            HIGH: "Highest value tried",
            LOG: "Type 'log' to sample on a log scale",
            CHOICES: "Values to choose from, separated by commas",
            FIXED: "A value to keep fixed instead of searching",
        }
        for col, tip in tips.items():
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        help_text = QLabel(
            "Edit a range (low, high, log), the choices, or give a fixed value. Rows left as "
            "loaded keep the default space."
        )
        help_text.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(help_text)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def set_rows(self, rows: list[tuple[str, ...]]) -> None:
        self._loaded = list(rows)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if c in (EST, PARAM, KIND):
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, c, item)

    def edits(self) -> list[Any]:
        """``SpaceEdit``s for the rows changed from what was loaded (parse errors raise
        ``InvalidInput`` naming the edit)."""
        from app.core.tuning import parse_edit

        edits = []
        for r in range(self.table.rowCount()):
            cells = tuple(
                (self.table.item(r, c).text().strip() if self.table.item(r, c) else "")
                for c in range(len(SPACE_COLUMNS))
            )
            if r < len(self._loaded) and cells == tuple(self._loaded[r]):
                continue
            est, param, _kind, low, high, log, choices, fixed = cells
            key = f"{est}.{param}"
            if fixed:
                edits.append(parse_edit(f"{key}={fixed}", fixed=True))
            elif choices:
                edits.append(parse_edit(f"{key}={','.join(c.strip() for c in choices.split(','))}"))
            elif low or high:
                scale = ":log" if log.lower() in ("log", "yes", "true", "1") else ""
                edits.append(parse_edit(f"{key}={low}:{high}{scale}"))
        return edits


# -- the form ---------------------------------------------------------------------------------


class StudyForm(QWidget):
    """Dataset, target, recipe, estimators, budget, sampler and pruner of a new study."""

    space_loaded = Signal(int)  # rows in the space editor
    start_requested = Signal()

    def __init__(
        self,
        *,
        tuning: Any,
        datasets: Any,
        recipes: Any,
        jobs: PanelJobs,
        context: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tuning, self._datasets, self._recipes = tuning, datasets, recipes
        self._context = context
        self._list_slot, self._space_slot = JobSlot(jobs), JobSlot(jobs)
        self._listed: list[Any] = []
        self._recipe_choices: list[Any] = []
        self._wanted: tuple[str, int | None, str | None] | None = None
        if context is not None and context.dataset:
            self._wanted = (context.dataset, context.version, context.target)

        self.dataset_combo = QComboBox()
        self.dataset_combo.setAccessibleName("Dataset")
        self.version_combo = QComboBox()
        self.version_combo.setAccessibleName("Dataset version")
        self.target_combo = QComboBox()
        self.target_combo.setAccessibleName("Target column")
        self.recipe_combo = QComboBox()
        self.recipe_combo.setAccessibleName("Recipe")
        self.recipe_combo.addItem(NO_RECIPE, None)
        for combo in (self.dataset_combo, self.target_combo, self.recipe_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(12)
        self.estimators_edit = QLineEdit("all", placeholderText="rf,hgb,knn… or all")
        self.metric_edit = QLineEdit(placeholderText="default: the task's")
        self.second_combo = QComboBox()
        for text, data in (("none", None), ("latency", "latency"), ("model size", "model_size")):
            self.second_combo.addItem(text, data)
        self.sampler_combo = QComboBox()
        self.sampler_combo.addItems(["auto", "tpe", "random", "cmaes", "gp", "qmc", "nsga2"])
        self.pruner_combo = QComboBox()
        self.pruner_combo.addItems(["auto", "median", "halving", "hyperband", "none"])
        self.trials_spin = QSpinBox(minimum=0, maximum=100_000, value=30)
        self.trials_spin.setSpecialValueText("no limit")
        self.timeout_spin = QDoubleSpinBox(minimum=0, maximum=7 * 86400, value=0, decimals=0)
        self.timeout_spin.setSpecialValueText("no limit")
        self.timeout_spin.setSuffix(" s")
        self.workers_spin = QSpinBox(minimum=1, maximum=64, value=1)
        self.folds_spin = QSpinBox(minimum=2, maximum=20, value=5)
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.name_edit = QLineEdit(placeholderText="default: dataset-target-estimator-time")
        self.space_dialog = SpaceDialog(self)
        self.space_table = self.space_dialog.table
        self.space_label = QLabel("Default space of the chosen estimators.")
        self.space_label.setWordWrap(True)
        self.load_space_button = QPushButton("Edit search space…")
        self.load_space_button.setToolTip("Load the space these estimators search, and edit it")
        self.start_button = QPushButton("Start study")
        self.start_button.setDefault(True)

        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        data_row = QHBoxLayout()
        data_row.addWidget(self.dataset_combo, 3)
        data_row.addWidget(self.version_combo, 1)
        for label, widget in (
            ("Dataset", data_row),
            ("Target", self.target_combo),
            ("Recipe", self.recipe_combo),
            ("Estimators", self.estimators_edit),
            ("Metric", self.metric_edit),
            ("Second objective", self.second_combo),
            ("Sampler", self.sampler_combo),
            ("Pruner", self.pruner_combo),
            ("Trials", self.trials_spin),
            ("Time budget", self.timeout_spin),
            ("Workers", self.workers_spin),
            ("Folds", self.folds_spin),
            ("Seed", self.seed_spin),
            ("Study name", self.name_edit),
        ):
            form.addRow(label, widget)
        space_row = QHBoxLayout()
        space_row.addWidget(self.space_label, 1)
        space_row.addWidget(self.load_space_button)
        form.addRow(space_row)
        form.addRow(self.start_button)

        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_combo_changed)
        self.version_combo.currentIndexChanged.connect(self._on_version_combo_changed)
        for combo in (self.dataset_combo, self.version_combo, self.target_combo):
            combo.activated.connect(self._push_context)
        self.recipe_combo.activated.connect(self._on_recipe_combo_activated)
        self.start_button.clicked.connect(self.start_requested)
        self.refresh()

    # -- public API --------------------------------------------------------------------------

    def refresh(self) -> None:
        self._list_slot.start(
            list_choices,
            self._datasets,
            self._recipes,
            name="List datasets and recipes",
            done=lambda _b, choices: self._on_choices_listed(choices),
        )

    def select_item(self, item: DatasetItem) -> None:
        self._wanted = (item.name, item.version, item.target)
        if self.dataset_combo.findText(item.name) >= 0:
            self._apply_wanted()
        else:
            self.refresh()

    def dataset_ref(self) -> str:
        version = self.version_combo.currentData()
        return version.ref if version is not None else ""

    def request(self) -> Any:
        """The ``StudyRequest`` the form describes (a bad space edit raises InvalidInput)."""
        from app.core.tuning import StudyRequest

        sampler, pruner = self.sampler_combo.currentText(), self.pruner_combo.currentText()
        return StudyRequest(
            dataset=self.dataset_ref(),
            target=self.target_combo.currentData() or "",
            estimators=self.estimators_edit.text().strip() or "all",
            metric=self.metric_edit.text().strip() or None,
            second_objective=self.second_combo.currentData(),
            space=tuple(self.space_dialog.edits()),
            sampler=None if sampler == "auto" else sampler,
            pruner=None if pruner == "auto" else pruner,
            n_trials=self.trials_spin.value() or None,
            timeout=self.timeout_spin.value() or None,
            workers=self.workers_spin.value(),
            seed=self.seed_spin.value(),
            folds=self.folds_spin.value(),
            name=self.name_edit.text().strip(),
            recipe=self.recipe_combo.currentData(),
        )

    def load_space(self) -> None:
        """Load the space of the chosen estimators into the editor, and open it."""
        from dataclasses import replace

        from app.core.errors import InvalidInput

        if not self.dataset_ref() or not self.target_combo.currentData():
            raise InvalidInput("Pick a dataset and a target before editing the search space.")
        request = replace(self.request(), space=())
        self._space_slot.start(
            load_space,
            self._tuning,
            request,
            name="Load search space",
            done=lambda _b, rows: self._on_space_loaded(rows),
        )

    # -- filling -----------------------------------------------------------------------------

    def _on_choices_listed(self, choices: dict[str, Any]) -> None:
        self._listed = choices["datasets"]
        current = self.dataset_combo.currentText()
        with QSignalBlocker(self.dataset_combo):
            self.dataset_combo.clear()
            for dataset in self._listed:
                self.dataset_combo.addItem(dataset.name)
            index = self.dataset_combo.findText(current)
            self.dataset_combo.setCurrentIndex(index if index >= 0 else 0)
        self._on_dataset_combo_changed()
        self._recipe_choices = choices["recipes"]
        self._fill_recipes()
        self._apply_wanted()

    def _on_dataset_combo_changed(self, *_args: Any) -> None:
        index = self.dataset_combo.currentIndex()
        dataset = self._listed[index] if 0 <= index < len(self._listed) else None
        fill_versions(self.version_combo, dataset)
        self._on_version_combo_changed()

    def _on_version_combo_changed(self, *_args: Any) -> None:
        fill_targets(self.target_combo, self.version_combo.currentData())
        self._fill_recipes()

    def _fill_recipes(self) -> None:
        wanted = getattr(self._context, "recipe", None)
        fill_recipes(self.recipe_combo, self._recipe_choices, self.version_combo.currentData(),
                     wanted)  # fmt: skip

    def _apply_wanted(self) -> None:
        """Select the dataset version and target asked for, once the list has them."""
        self._wanted = apply_wanted(
            self._wanted, self.dataset_combo, self.version_combo, self.target_combo
        )

    def _push_context(self, *_args: Any) -> None:
        push_context(self._context, self.dataset_combo, self.version_combo, self.target_combo)

    def _on_recipe_combo_activated(self, _index: int) -> None:
        if self._context is not None:
            self._context.update(recipe=self.recipe_combo.currentData())

    def _on_space_loaded(self, rows: list[tuple[str, ...]]) -> None:
        self.space_dialog.set_rows(rows)
        estimators = len({r[EST] for r in rows})
        self.space_label.setText(
            f"{len(rows)} parameter(s) over {estimators} estimator(s); edits apply when the "
            "study starts."
        )
        self.space_loaded.emit(len(rows))
        self.space_dialog.show()
