"""The recipe as a Qt list model, and the undoable commands that change it.

Every change the Prepare panel makes to a recipe (add, edit, enable/disable, delete, move
by drag or button) is one of these ``QUndoCommand``s on the panel's ``QUndoStack``, so
Undo/Redo walk through them; the model itself only does what a command asks. Drops do not
move rows themselves: they emit ``move_requested`` so that a drag is undoable too.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QUndoCommand

from app.core.recipes.steps import SPECS, describe
from app.ui.widgets.colors import Tone, color

MIME = "application/x-modeldesk-step-row"


class StepListModel(QAbstractListModel):
    """The steps; checkable (enabled), movable by drag and drop.

    Drops do not move rows themselves: they ask ``move_requested(src, dest)``, which the panel
    turns into an undoable command that calls ``move``.
    """

    move_requested = Signal(int, int)
    toggle_requested = Signal(int, bool)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._steps: list[dict[str, Any]] = []

    def steps(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._steps)

    def step(self, row: int) -> dict[str, Any]:
        return copy.deepcopy(self._steps[row])

    def set_steps(self, steps: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._steps = copy.deepcopy(steps)
        self.endResetModel()

    def insert(self, row: int, step: dict[str, Any]) -> None:
        self.beginInsertRows(QModelIndex(), row, row)
        self._steps.insert(row, copy.deepcopy(step))
        self.endInsertRows()

    def remove(self, row: int) -> dict[str, Any]:
        self.beginRemoveRows(QModelIndex(), row, row)
        step = self._steps.pop(row)
        self.endRemoveRows()
        return step

    def replace(self, row: int, step: dict[str, Any]) -> None:
        self._steps[row] = copy.deepcopy(step)
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def move(self, src: int, dest: int) -> None:
        """Move row ``src`` so that it ends at position ``dest``."""
        if src == dest:
            return
        qt_dest = dest + 1 if dest > src else dest
        self.beginMoveRows(QModelIndex(), src, src, QModelIndex(), qt_dest)
        self._steps.insert(dest, self._steps.pop(src))
        self.endMoveRows()

    # -- Qt model API ------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._steps)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        step = self._steps[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{index.row() + 1}. {describe(step)}"
        if role == Qt.ItemDataRole.CheckStateRole:
            on = step.get("enabled", True)
            return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            spec = SPECS[step["op"]]
            extra = " Runs on training rows only, never at prediction time." * spec.training_only
            learn = " Learns its values from the training rows." * spec.learns
            return f"{spec.title} ({spec.kind}).{extra}{learn}\n{json.dumps(step)}"
        if role == Qt.ItemDataRole.ForegroundRole and not step.get("enabled", True):
            return QBrush(color(Tone.DISABLED_TEXT))
        return None

    def setData(self, index: Any, value: Any, role: int = 0) -> bool:
        if role == Qt.ItemDataRole.CheckStateRole and index.isValid():
            on = Qt.CheckState(value) == Qt.CheckState.Checked
            self.toggle_requested.emit(index.row(), on)
            return True
        return False

    def flags(self, index: Any) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not index.isValid():
            return base | Qt.ItemFlag.ItemIsDropEnabled
        return base | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, indexes: Any) -> QMimeData:
        mime = QMimeData()
        if indexes:
            mime.setData(MIME, str(indexes[0].row()).encode())
        return mime

    def dropMimeData(self, data: Any, action: Any, row: int, column: int, parent: Any) -> bool:
        if not data.hasFormat(MIME):
            return False
        src = int(bytes(data.data(MIME)).decode())
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._steps)
        dest = row - 1 if row > src else row
        dest = max(0, min(dest, len(self._steps) - 1))
        if dest != src:
            self.move_requested.emit(src, dest)
        return False  # the command moved it; Qt must not remove the source row


# -- undoable edits --------------------------------------------------------------------------


class AddStep(QUndoCommand):
    def __init__(self, model: StepListModel, row: int, step: dict[str, Any]) -> None:
        super().__init__(f"Add {SPECS[step['op']].title.lower()}")
        self.model, self.row, self.new = model, row, step

    def redo(self) -> None:
        self.model.insert(self.row, self.new)

    def undo(self) -> None:
        self.model.remove(self.row)


class RemoveStep(QUndoCommand):
    def __init__(self, model: StepListModel, row: int) -> None:
        super().__init__("Delete step")
        self.model, self.row = model, row
        self.old = model.step(row)

    def redo(self) -> None:
        self.model.remove(self.row)

    def undo(self) -> None:
        self.model.insert(self.row, self.old)


class EditStep(QUndoCommand):
    def __init__(self, model: StepListModel, row: int, step: dict[str, Any], text: str) -> None:
        super().__init__(text)
        self.model, self.row, self.new = model, row, step
        self.old = model.step(row)

    def redo(self) -> None:
        self.model.replace(self.row, self.new)

    def undo(self) -> None:
        self.model.replace(self.row, self.old)


class MoveStep(QUndoCommand):
    def __init__(self, model: StepListModel, src: int, dest: int) -> None:
        super().__init__("Move step")
        self.model, self.src, self.dest = model, src, dest

    def redo(self) -> None:
        self.model.move(self.src, self.dest)

    def undo(self) -> None:
        self.model.move(self.dest, self.src)
