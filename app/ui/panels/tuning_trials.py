"""The trials of a study as a table a user of optuna-dashboard reads at a glance.

One row per trial: number, state first (with an icon; a pruned trial says "pruned after fold
k", not "cancelled"), the objective value(s), duration, then one column per parameter.
``TrialsModel`` reads ``TuningService.trials`` (frozen ``TrialInfo``s); ``TrialsProxy`` sorts
and filters it. A pruned trial's value is the mean of the folds it finished: it is shown as
partial (greyed, "partial" in the text and the tooltip) and is never ranked among the real
values — a sort puts partial and missing values last in both orders, so 0.9979 from two folds
never tops the real best 0.9946.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPoint, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication, QStyle

from app.ui.items import TrialItem

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PARTIAL_ROLE = Qt.ItemDataRole.UserRole + 2  # True when the value is from unfinished folds
STATE_ICONS = {
    "COMPLETE": QStyle.StandardPixmap.SP_DialogApplyButton,
    "PRUNED": QStyle.StandardPixmap.SP_MediaSkipForward,
    "FAIL": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "RUNNING": QStyle.StandardPixmap.SP_BrowserReload,
    "WAITING": QStyle.StandardPixmap.SP_MediaPause,
}
STATE_WORDS = {
    "COMPLETE": "complete",
    "FAIL": "failed",
    "RUNNING": "running",
    "WAITING": "waiting",
}


def state_text(trial: Any) -> str:
    """What the State column says: "pruned after fold 2" for a trial stopped by the pruner."""
    if trial.state == "PRUNED":
        folds = len(trial.intermediate)
        return f"pruned after fold {folds}" if folds else "pruned"
    return STATE_WORDS.get(trial.state, trial.state.lower())


def trial_value(trial: Any, objective: int = 0) -> tuple[float | None, bool]:
    """(value, partial?): a finished trial's objective, or a pruned one's last reported mean."""
    if trial.values is not None and objective < len(trial.values):
        return float(trial.values[objective]), False
    if trial.state == "PRUNED" and trial.intermediate and objective == 0:
        return float(trial.intermediate[max(trial.intermediate)]), True
    return None, False


def format_number(value: float) -> str:
    """Four significant digits on screen (the full value is in the tooltip)."""
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}" if abs(value) >= 1 else f"{value:.4f}"
    return f"{value:.3e}"


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:02.0f} s"


class TrialsModel(QAbstractTableModel):
    """The trials of one study; columns: #, State, the objectives, Duration, parameters."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._trials: list[Any] = []
        self._objectives: list[str] = ["value"]
        self._params: list[str] = []

    # -- filling -----------------------------------------------------------------------------

    def set_trials(self, trials: Sequence[Any], objectives: Sequence[str] = ()) -> None:
        self.beginResetModel()
        self._trials = list(trials)
        self._objectives = list(objectives) or ["value"]
        params: dict[str, None] = {}
        for trial in self._trials:
            params.update(dict.fromkeys(trial.params))
        # the estimator first (AutoML studies), then the others by name
        self._params = sorted(params, key=lambda p: (p != "estimator", p))
        self.endResetModel()

    def trial(self, row: int) -> Any:
        return self._trials[row] if 0 <= row < len(self._trials) else None

    def trials(self) -> list[Any]:
        return list(self._trials)

    def columns(self) -> list[str]:
        return ["#", "State", *self._objectives, "Duration", *self._params]

    # -- Qt ----------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._trials)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3 + len(self._objectives) + len(self._params)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        columns = self.columns()
        if not 0 <= section < len(columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return columns[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            n = len(self._objectives)
            if 2 <= section < 2 + n:
                return f"Objective {columns[section]}; a pruned trial's value is partial"
            return columns[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        trial = self.trial(index.row()) if index.isValid() else None
        if trial is None:
            return None
        col, n = index.column(), len(self._objectives)
        if col == 0:
            return self._cell(role, str(trial.number), trial.number, None)
        if col == 1:
            text = state_text(trial)
            if role == Qt.ItemDataRole.DecorationRole:
                pixmap = STATE_ICONS.get(trial.state)
                return QApplication.style().standardIcon(pixmap) if pixmap is not None else None
            tip = text
            if trial.retried_from is not None:
                tip += f" (a retry of trial {trial.retried_from})"
            return self._cell(role, text, trial.state, tip)
        if col < 2 + n:
            value, partial = trial_value(trial, col - 2)
            if role == PARTIAL_ROLE:
                return partial
            if value is None or math.isnan(value):
                return self._cell(role, "", None, None)
            text = format_number(value) + (" (partial)" if partial else "")
            tip = repr(value) + (
                f" — mean of the {len(trial.intermediate)} fold(s) finished before pruning; "
                "not ranked with complete trials"
                if partial
                else ""
            )
            if role == Qt.ItemDataRole.ForegroundRole and partial:
                return QApplication.palette().brush(QPalette.ColorRole.PlaceholderText)
            if role == Qt.ItemDataRole.FontRole and partial:
                font = QFont()
                font.setItalic(True)
                return font
            return self._cell(role, text, None if partial else value, tip, number=True)
        if col == 2 + n:
            seconds = trial.duration
            return self._cell(role, format_seconds(seconds), seconds, None, number=True)
        name = self._params[col - 3 - n]
        value = trial.params.get(name)
        if isinstance(value, float):
            return self._cell(role, format_number(value), value, repr(value), number=True)
        text = "" if value is None else str(value)
        return self._cell(role, text, value, text or None)

    @staticmethod
    def _cell(role: int, text: str, sort: Any, tip: str | None, *, number: bool = False) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == SORT_ROLE:
            return sort
        if role == Qt.ItemDataRole.ToolTipRole:
            return tip
        if role == Qt.ItemDataRole.TextAlignmentRole and number:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class TrialsProxy(QSortFilterProxyModel):
    """Sorts on the raw values (missing and partial values last, in both orders) and filters
    by state and by text in any cell."""

    FILTERS: ClassVar[dict[str, tuple[str, set[str] | None]]] = {
        "all": ("All trials", None),
        "complete": ("Complete only", {"COMPLETE"}),
        "pruned": ("Pruned", {"PRUNED"}),
        "failed": ("Failed", {"FAIL"}),
        "running": ("Running", {"RUNNING", "WAITING"}),
    }

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._states: set[str] | None = None
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)

    def set_state_filter(self, key: str) -> None:
        self.beginFilterChange()
        self._states = self.FILTERS[key][1]
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def trial(self, row: int) -> Any:
        source = self.mapToSource(self.index(row, 0))
        return self.sourceModel().trial(source.row()) if source.isValid() else None

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        trial = self.sourceModel().trial(row)
        if trial is None:
            return False
        if self._states is not None and trial.state not in self._states:
            return False
        return super().filterAcceptsRow(row, parent)

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        missing_a = a is None or (isinstance(a, float) and math.isnan(a))
        missing_b = b is None or (isinstance(b, float) and math.isnan(b))
        if missing_a or missing_b:
            # last in ascending and in descending order: "greater" when ascending, "less" when
            # descending (Qt reverses the comparison for a descending sort)
            ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
            if missing_a and missing_b:
                return left.row() < right.row()
            return missing_b if ascending else missing_a
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)


class TrialsSlots:
    """The Tuning panel's trials-table slots: the pending selection, the state filter, the
    item a row stands for, activation and the context menu (a mixin of ``TuningPanel``)."""

    def _select_pending_trial(self) -> None:
        number = self._pending_trial
        if number is None:
            return
        for row in range(self.trials_proxy.rowCount()):
            trial = self.trials_proxy.trial(row)
            if trial is not None and trial.number == number:
                self._pending_trial = None
                self.trials.selectRow(row)
                return

    def _on_state_filter_changed(self, _index: int) -> None:
        self.trials_proxy.set_state_filter(self.state_filter.currentData())

    def _trial_item_at(self, index: QModelIndex) -> TrialItem | None:
        trial = self.trials_proxy.trial(index.row()) if index.isValid() else None
        if trial is None or self._study is None:
            return None
        return TrialItem(self._study, trial.number, trial.run_id)

    def _on_trials_activated(self, index: QModelIndex) -> None:
        item = self._trial_item_at(index)
        if item is None:
            return
        if item.run_id is None:
            self.messages.info("This trial has no run yet.")
            return
        self.item_activated.emit(item)

    def _on_trials_context_menu(self, pos: QPoint) -> None:
        index = self.trials.indexAt(pos)
        item = self._trial_item_at(index)
        if item is not None:
            self.trials.selectRow(index.row())
            self.item_menu_requested.emit(item, self.trials.viewport().mapToGlobal(pos))

    def _on_trials_selection_changed(self, *_: Any) -> None:
        self._update_buttons()
        self.selection_changed.emit(self.selected_item())
