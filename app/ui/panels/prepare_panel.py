"""The Prepare panel: a recipe as an editable list of steps with a live preview.

Contract
--------
Services (keyword arguments): ``recipes`` (``RecipeService``), ``datasets``
(``DatasetService``), ``runner`` (``JobRunner``). The panel never opens a session or a file:
listing datasets and recipes, reading the 1,000-row sample, every preview, saving and applying
are jobs on the runner that come back through a ``JobBridge`` on the GUI thread.

The recipe is a ``StepListModel`` shown in a list that reorders by drag and drop (or the
Up/Down buttons); every change (add, edit, move, enable/disable, delete) is a command on a
``QUndoStack``, so Undo/Redo (Ctrl+Z / Ctrl+Shift+Z) walk through them. After each change
the preview of the selected step (the last one when none is selected) is computed again off
the GUI thread on the sample; a result from an older preview job is dropped. "Full data"
computes the same preview on every row. Columns the step changed or added are highlighted.

Keeps the panel contract (``app.ui.panels.contract``): ``open_item(DatasetItem)`` previews
the recipe on that version; it opens on the current context's dataset, and a pick here
updates the context. The listing, the sample and the preview each have a ``JobSlot``.

Signals: ``preview_ready(object)`` (the ``Preview``), ``recipe_saved(object)``
(``RecipeVersion``), ``dataset_made(object)`` (the new ``DatasetVersion``), and the
contract's four.
Messages: ``ModelDeskError``s go to the ``MessageBar``; anything else opens the error dialog.

Parts: ``prepare_steps_list`` (the list model and its undo commands), ``prepare_step_form``
(the step dialog), ``prepare_preview`` (the preview job, table and summary line),
``prepare_editing`` (adding, editing and moving steps; the step form), ``prepare_jobs`` (the
job bodies).

``python -m app.ui.panels.prepare_panel [--store URL]`` opens the panel alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QSettings, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QKeySequence, QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.core.recipes.steps import KINDS, SPECS
from app.ui.items import DatasetItem
from app.ui.job_bridge import JobBridge, JobSlot, PanelJobs
from app.ui.panels.prepare_editing import CHECK_JOB, StepEditing
from app.ui.panels.prepare_jobs import (
    apply_recipe,
    list_sources,
    load_full,
    load_sample,
    save_recipe,
)
from app.ui.panels.prepare_preview import (
    SAMPLE_ROWS,
    PreviewModel,
    compute_preview,
    summary_text,
)
from app.ui.panels.prepare_step_form import StepDialog
from app.ui.panels.prepare_steps_list import (
    MIME,
    StepListModel,
)
from app.ui.widgets.error_dialog import show_unexpected_error
from app.ui.widgets.job_progress import JobProgressList
from app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from app.core.datasets import DatasetService, DatasetVersion
    from app.core.recipes import Preview, RecipeService
    from app.jobs.runner import JobRunner
    from app.ui.context import CurrentContext

NEW_RECIPE = "(new recipe)"
__all__ = ["MIME", "SAMPLE_ROWS", "PreparePanel", "StepDialog", "build_panel", "compute_preview"]


# -- the panel -------------------------------------------------------------------------------


class PreparePanel(StepEditing, QWidget):
    open_requested = Signal(str, object)
    item_menu_requested = Signal(object, QPoint)
    item_activated = Signal(object)
    selection_changed = Signal(object)  # DatasetItem or None
    preview_ready = Signal(object)
    recipe_saved = Signal(object)
    dataset_made = Signal(object)

    def __init__(
        self,
        *,
        recipes: RecipeService,
        datasets: DatasetService,
        runner: JobRunner,
        context: CurrentContext | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel-prepare")
        self._recipes, self._datasets, self._runner = recipes, datasets, runner
        self._context = context
        self._jobs = PanelJobs(self, runner, on_failed=self._on_job_failed)
        self._list_slot = JobSlot(self._jobs)
        self._data_slot = JobSlot(self._jobs)  # the sample, or every row
        self._preview_slot = JobSlot(self._jobs)
        self._pending: str | None = None  # a version opened before the list arrived
        self._versions: list[DatasetVersion] = []
        self._recipe_list: list[Any] = []
        self._sample: Any = None
        self._full: Any = None
        self.preview: Preview | None = None
        self.step_dialog: StepDialog | None = None  # the open step form, if any

        self.messages = MessageBar()
        self.dataset_combo = QComboBox()
        self.dataset_combo.setObjectName("prepare-dataset")
        self.dataset_combo.setAccessibleName("Dataset")
        self.dataset_combo.setMinimumContentsLength(20)
        self.recipe_combo = QComboBox()
        self.recipe_combo.setObjectName("prepare-recipe")
        self.recipe_combo.setAccessibleName("Recipe")
        self.recipe_combo.setMinimumContentsLength(16)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("recipe name")
        self.name_edit.setAccessibleName("Recipe name")
        self.save_button = QPushButton("Save version")
        self.apply_button = QPushButton("Apply to dataset")
        self.apply_button.setToolTip("Store the recipe's output as a new dataset version")
        self.full_button = QPushButton("Preview full data")

        self.undo_stack = QUndoStack(self)
        self.model = StepListModel(self)
        self.list = QListView()
        self.list.setObjectName("prepare-steps")
        self.list.setModel(self.model)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setDragEnabled(True)
        self.list.setAcceptDrops(True)
        self.list.setDropIndicatorShown(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)

        self.add_button = QToolButton()
        self.add_button.setText("Add step")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add_button)
        for kind in KINDS:
            sub = menu.addMenu(kind.capitalize())
            for spec in SPECS.values():
                if spec.kind == kind:
                    sub.addAction(spec.title, lambda op=spec.op: self.add_step_dialog(op))
        self.add_button.setMenu(menu)
        self.edit_button = QPushButton("Edit")
        self.up_button = QPushButton("Up")
        self.down_button = QPushButton("Down")
        self.delete_button = QPushButton("Delete")
        self.undo_action = self.undo_stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)
        self.undo_button = QToolButton()
        self.undo_button.setDefaultAction(self.undo_action)
        self.redo_button = QToolButton()
        self.redo_button.setDefaultAction(self.redo_action)

        self.summary = QLabel("Pick a dataset to preview the recipe on its first rows.")
        self.summary.setWordWrap(True)
        self.summary.setObjectName("prepare-summary")
        self.preview_model = PreviewModel(self)
        self.table = QTableView()
        self.table.setModel(self.preview_model)
        self.jobs = JobProgressList()

        top = QHBoxLayout()
        top.addWidget(QLabel("Dataset:"))
        top.addWidget(self.dataset_combo, 2)
        top.addWidget(QLabel("Recipe:"))
        top.addWidget(self.recipe_combo, 1)
        top.addWidget(self.name_edit, 1)
        top.addWidget(self.save_button)
        top.addWidget(self.apply_button)
        buttons = QHBoxLayout()
        for w in (self.add_button, self.edit_button, self.up_button, self.down_button):
            buttons.addWidget(w)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.redo_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.list, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(self.full_button)
        right_layout.addLayout(head)
        right_layout.addWidget(self.table, 1)
        split = self.splitter = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.messages)
        layout.addLayout(top)
        layout.addWidget(self.jobs)
        layout.addWidget(split, 1)

        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_combo_changed)
        self.recipe_combo.currentIndexChanged.connect(self._on_recipe_combo_changed)
        self.model.move_requested.connect(self.move_step)
        self.model.toggle_requested.connect(self.set_enabled)
        self.model.rowsInserted.connect(self._on_steps_changed)
        self.model.rowsRemoved.connect(self._on_steps_changed)
        self.model.rowsMoved.connect(self._on_steps_changed)
        self.model.dataChanged.connect(self._on_steps_changed)
        self.model.modelReset.connect(self._on_steps_changed)
        self.list.selectionModel().currentChanged.connect(self._on_steps_changed)
        self.list.doubleClicked.connect(lambda index: self.edit_step_dialog(index.row()))
        self.edit_button.clicked.connect(lambda: self.edit_step_dialog(self.current_row()))
        self.up_button.clicked.connect(lambda: self._on_move_clicked(-1))
        self.down_button.clicked.connect(lambda: self._on_move_clicked(+1))
        self.delete_button.clicked.connect(lambda: self.remove_step(self.current_row()))
        self.save_button.clicked.connect(self.save)
        self.apply_button.clicked.connect(self.apply)
        self.full_button.clicked.connect(lambda: self.refresh_preview(full=True))

    # -- public API --------------------------------------------------------------------------

    def steps(self) -> list[dict[str, Any]]:
        return self.model.steps()

    def current_row(self) -> int:
        index = self.list.currentIndex()
        return index.row() if index.isValid() else -1

    def reload(self) -> None:
        self._list_slot.start(
            list_sources,
            self._datasets,
            self._recipes,
            name="List datasets and recipes",
            done=self._on_sources_listed,
        )

    def open_item(self, item: object) -> None:
        """Preview the recipe on a dataset version (a ``DatasetItem``)."""
        if not isinstance(item, DatasetItem):
            return
        if any(v.ref == item.ref for v in self._versions) and not self._list_slot.busy:
            self.select_dataset(item.ref)
        else:
            self._pending = item.ref
            self.reload()

    def selected_item(self) -> DatasetItem | None:
        version = self.selected_version()
        if version is None:
            return None
        return DatasetItem(version.name, version.version, version.target)

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("prepare_panel/splitter", self.splitter.saveState())

    def restore_settings(self, settings: QSettings) -> None:
        state = settings.value("prepare_panel/splitter")
        if state is not None:
            self.splitter.restoreState(state)

    def selected_version(self) -> DatasetVersion | None:
        i = self.dataset_combo.currentIndex()
        return self._versions[i] if 0 <= i < len(self._versions) else None

    def select(self, ref: object) -> None:
        """Pick a dataset version (``name@V`` or a ``DatasetVersion``) for the preview."""
        self.select_dataset(getattr(ref, "ref", str(ref)))

    def select_dataset(self, ref: str) -> None:
        for i, v in enumerate(self._versions):
            if v.ref == ref:
                self.dataset_combo.setCurrentIndex(i)
                return

    def refresh_preview(self, *, full: bool = False) -> JobBridge | None:
        """Preview the selected step (the last when none is) on the sample or on all rows."""
        version = self.selected_version()
        if full and version is not None:
            self._data_slot.start(
                load_full,
                self._datasets,
                version,
                name=f"Read {version.ref}",
                done=self._on_full_loaded,
            )
            return None
        frame = self._full if self._full is not None else self._sample
        if frame is None:
            return None
        steps = self.steps()
        if not steps:
            self.summary.setText(
                f"{len(frame):,} rows × {frame.shape[1]} columns; add a step to see its effect."
            )
            self.preview_model.set_preview(None, set(), set())
            return None
        row = self.current_row()
        upto = row if 0 <= row < len(steps) else len(steps) - 1
        return self._preview_slot.start(
            compute_preview, frame, steps, upto, name="Preview", done=self._on_preview_done
        )

    def save(self) -> None:
        name = self.name_edit.text().strip()
        if not name:
            self.messages.error("Give the recipe a name before saving it.")
            return
        self._jobs.start(
            save_recipe,
            self._recipes,
            name,
            self.steps(),
            name=f"Save {name}",
            done=self._on_saved,
        )

    def apply(self) -> None:
        version = self.selected_version()
        name = self.name_edit.text().strip()
        if version is None or not name:
            self.messages.error("Pick a dataset and save the recipe first.")
            return
        self._jobs.start(
            apply_recipe,
            self._recipes,
            version.ref,
            name,
            None,
            name=f"Apply {name} to {version.ref}",
            done=self._on_applied,
        )

    def close_jobs(self) -> None:
        self._jobs.close()

    # -- Qt events ---------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reload()

    # -- slots -------------------------------------------------------------------------------

    def _on_sources_listed(self, bridge: JobBridge, result: Any) -> None:
        versions, recipes = result
        current = self.selected_version()
        wanted, self._pending = self._pending, None
        if wanted is None and self._context is not None:
            wanted = self._context.dataset_ref  # the current context: what was picked last
        self._versions, self._recipe_list = versions, recipes
        with QSignalBlocker(self.dataset_combo):
            self.dataset_combo.clear()
            self.dataset_combo.addItems([f"{v.ref}  ({v.rows:,} × {v.cols})" for v in versions])
            keep = next((i for i, v in enumerate(versions) if current and v.id == current.id), -1)
            self.dataset_combo.setCurrentIndex(keep)
        pick = next((i for i, v in enumerate(versions) if v.ref == wanted), -1)
        with QSignalBlocker(self.recipe_combo):
            chosen = self.recipe_combo.currentText()
            self.recipe_combo.clear()
            self.recipe_combo.addItem(NEW_RECIPE)
            self.recipe_combo.addItems([r.latest.ref for r in recipes if r.versions])
            self.recipe_combo.setCurrentIndex(max(0, self.recipe_combo.findText(chosen)))
        if pick >= 0 and pick != keep:
            self.dataset_combo.setCurrentIndex(pick)  # loads the sample
        elif keep < 0 and versions:
            self.dataset_combo.setCurrentIndex(0)

    def _on_dataset_combo_changed(self, index: int) -> None:
        version = self.selected_version()
        if version is None:
            return
        self._full = None
        self._data_slot.start(
            load_sample,
            self._recipes,
            version,
            name=f"Sample of {version.ref}",
            done=self._on_sample_loaded,
        )
        item = self.selected_item()
        if item is not None and self._context is not None:
            self._context.update(dataset=item.name, version=item.version, target=item.target)
        self.selection_changed.emit(item)

    def _on_sample_loaded(self, bridge: JobBridge, frame: Any) -> None:
        self._sample = frame
        self.refresh_preview()

    def _on_full_loaded(self, bridge: JobBridge, frame: Any) -> None:
        self._full = frame
        self.refresh_preview()

    def _on_recipe_combo_changed(self, index: int) -> None:
        text = self.recipe_combo.currentText()
        if text == NEW_RECIPE or index <= 0:
            return
        rv = next((r.latest for r in self._recipe_list if r.latest.ref == text), None)
        if rv is None:
            return
        self.name_edit.setText(rv.name)
        self.undo_stack.clear()
        self.model.set_steps(rv.steps)

    def _on_steps_changed(self, *args: Any) -> None:
        self.refresh_preview()

    def _on_preview_done(self, bridge: JobBridge, result: Any) -> None:
        preview, table = result  # the slot dropped any preview a newer one made stale
        self.preview = preview
        self.summary.setText(summary_text(preview, self.steps(), full=self._full is not None))
        self.preview_model.set_preview(table, set(preview.changed), set(preview.added))
        self.messages.clear()
        self.preview_ready.emit(preview)

    def _on_saved(self, bridge: JobBridge, rv: Any) -> None:
        self.messages.info(f"Saved {rv.ref}: New run and New study offer it now.")
        if self._context is not None:  # the recipe just saved is the one to train with
            self._context.update(recipe=rv.ref)
        self.recipe_saved.emit(rv)
        self.reload()

    def _on_applied(self, bridge: JobBridge, version: Any) -> None:
        self.messages.info(f"Stored {version.ref} ({version.rows:,} rows).")
        self.dataset_made.emit(version)
        self.reload()

    # -- jobs --------------------------------------------------------------------------------

    def _on_job_failed(self, bridge: JobBridge, error: Any, tb: str) -> None:
        if bridge.job.name == "Preview" and not self._preview_slot.is_current(bridge):
            return  # a stale preview's failure is not news
        if bridge.job.name == CHECK_JOB:
            return  # the step form shows it, beside the fields to fix
        if isinstance(error, ModelDeskError):
            self.messages.error(error.message, hint=error.hint)
        else:
            show_unexpected_error(error, tb, self)


def build_panel(services: Any, runner: JobRunner, context: CurrentContext | None = None) -> QWidget:
    """The window's and ``open_alone``'s entry point (``PanelSpec.module``)."""
    return PreparePanel(
        recipes=services.recipes, datasets=services.datasets, runner=runner, context=context
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m app.ui.panels.prepare_panel``: this panel alone."""
    from app.ui.panels.standalone import open_alone

    return open_alone("prepare", argv, size=(1100, 700))


if __name__ == "__main__":
    raise SystemExit(main())
