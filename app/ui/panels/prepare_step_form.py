"""The form that adds or edits one recipe step, made from the step's parameter list.

Fields come from ``app.core.recipes.steps.SPECS``: a checklist of the dataset's columns (with
their roles) for a step's columns, a combo box of them for a single column or a parameter with
choices, a line edit otherwise (lists as comma-separated text, mappings as JSON). Each field
says what it means. OK runs the same ``validate_step`` the store runs, then, when the panel
gives a ``check``, runs the step on the preview sample in a job: a step that cannot apply to
the data (a column of text to clip, a formula naming no column) is refused there, with the
error naming this step's number, and the dialog stays open; nothing reaches the recipe until
it is valid.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.core.recipes.steps import SPECS, Param, validate_step

if TYPE_CHECKING:
    from app.ui.job_bridge import JobBridge

#: What a parameter means, by name (then by type): shown under its field and as its tooltip.
PARAM_HELP: dict[str, str] = {
    "columns": "The columns this step works on: tick them.",
    "column": "The column this step reads.",
    "to": "The type to convert to.",
    "format": "For dates: a strftime pattern such as %Y-%m-%d; empty to guess.",
    "expression": "A formula over columns, e.g. income / (age + 1) or where(age > 60, 1, 0).",
    "keep": "Which of the duplicate rows stays.",
    "rows": "How many rows to keep (leave empty to use the fraction).",
    "fraction": "The share of rows to keep, between 0 and 1.",
    "seed": "The random seed, so the same rows come out each time.",
    "strategy": "How a missing value is filled, learnt on the training rows only.",
    "value": "The fill value for the 'constant' strategy.",
    "by": "Fill within groups of this column (for 'group_median').",
    "method": "How the limits or bins are chosen.",
    "k": "How many inter-quartile ranges beyond the quartiles count as outliers.",
    "low": "The lower quantile kept (for 'quantile').",
    "high": "The upper quantile kept (for 'quantile').",
    "mapping": 'Old value to new value, as JSON: {"N/A": null, "yes": 1}.',
    "min_share": "Categories rarer than this share become the 'other' category.",
    "min_count": "Or: categories seen fewer times than this.",
    "other": "The name of the category the rare ones become.",
    "trim": "Remove spaces at both ends.",
    "case": "Change the letter case.",
    "pattern": "A regular expression to replace.",
    "replacement": "What the pattern is replaced with.",
    "name": "The name of the new column.",
    "bins": "How many bins.",
    "edges": "The bin edges, comma-separated (for 'edges').",
    "parts": "Which parts to add, comma-separated: year, month, day, weekday, hour.",
    "start": "The column with the start date.",
    "end": "The column with the end date.",
    "unit": "The unit of the duration.",
    "words": "Also count the words.",
    "max_categories": "At most this many indicator columns; the rest become 'other'.",
    "drop_original": "Remove the column it was made from.",
    "target": "The target column the encoding learns from (default: the recipe's target).",
    "cv": "Folds used to cross-fit the encoding, so a row never sees its own target.",
    "smoothing": "How strongly rare categories are pulled towards the overall mean.",
}
TYPE_HELP: dict[str, str] = {
    "int": "A whole number.",
    "float": "A number.",
    "bool": "true or false.",
    "floats": "Numbers, comma-separated.",
    "any": "A value (JSON: a number, a string in quotes, null).",
}

#: (column name, role) as the dataset's schema has them: what the checklists offer.
Columns = Sequence[tuple[str, str]]
#: Starts the check of a complete step on the preview sample; returns its job's bridge.
Check = Callable[[dict[str, Any]], "JobBridge"]


def param_help(param: Param) -> str:
    return param.label or PARAM_HELP.get(param.name) or TYPE_HELP.get(param.type, "")


class ColumnChecklist(QListWidget):
    """The dataset's columns with their roles, each with a check box."""

    def __init__(self, columns: Columns, checked: Sequence[str] = (), parent: Any = None) -> None:
        super().__init__(parent)
        self.setUniformItemSizes(True)
        known = {name for name, _ in columns}
        # columns the step names that the sample lacks stay listed: unticking them is a choice
        rows = list(columns) + [
            (name, "not in the sample") for name in checked if name not in known
        ]
        for name, role in rows:
            item = QListWidgetItem(f"{name}    ({role})" if role else name)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(f"{name}: {role}" if role else name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked
            )
            self.addItem(item)
        self.setMinimumHeight(min(8, max(3, len(rows))) * (self.fontMetrics().height() + 6))

    def checked(self) -> list[str]:
        return [
            self.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.count())
            if self.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, names: Sequence[str]) -> None:
        for i in range(self.count()):
            item = self.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


class StepDialog(QDialog):
    """A form made from the step's parameters; ``step()`` is the checked result."""

    def __init__(
        self,
        op: str,
        step: dict[str, Any] | None,
        parent: QWidget | None = None,
        *,
        index: int = 0,
        columns: Columns = (),
        check: Check | None = None,
    ) -> None:
        super().__init__(parent)
        self._index = index  # the step's position, so that errors say "Step 3 (…)"
        self._check = check
        self._checking: JobBridge | None = None
        spec = SPECS[op]
        self.setWindowTitle(spec.title)
        self._op = op
        self._fields: dict[str, Any] = {}
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setForegroundRole(QPalette.ColorRole.WindowText)
        self.error.setObjectName("step-error")
        self._paint_error()
        form = QFormLayout()
        step = step or {}
        names = [name for name, _ in columns]
        for p in spec.params:
            value = step.get(p.name, p.default)
            widget = self._field(p, value, columns, names)
            widget.setObjectName(f"step-{p.name}")
            self._fields[p.name] = (p, widget)
            label = p.name.replace("_", " ") + ("*" if p.required else "")
            explained = param_help(p)
            if explained:
                widget.setToolTip(explained)
                holder = QWidget()
                column = QVBoxLayout(holder)
                column.setContentsMargins(0, 0, 0, 0)
                column.setSpacing(2)
                column.addWidget(widget)
                note = QLabel(explained)
                note.setWordWrap(True)
                note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
                note.setObjectName(f"help-{p.name}")
                column.addWidget(note)
                form.addRow(label, holder)
            else:
                form.addRow(label, widget)
        self.buttons = buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._on_ok)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._result: dict[str, Any] | None = None

    def _field(self, p: Param, value: Any, columns: Columns, names: list[str]) -> QWidget:
        if p.name == "columns" and p.type == "columns" and columns:
            checked = [str(v) for v in value] if isinstance(value, list) else []
            return ColumnChecklist(columns, checked)
        if p.choices or (p.type == "column" and names):
            combo = QComboBox()
            if p.type == "column":
                combo.setEditable(True)  # a column a later step makes is typed in
                if not p.required:
                    combo.addItem("")
                combo.addItems(names)
            else:
                combo.addItems(list(p.choices))
            if value is not None:
                combo.setCurrentText(str(value))
            elif p.type == "column" and not p.required:
                combo.setCurrentIndex(0)
            return combo
        line = QLineEdit()
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = json.dumps(value)
        line.setText("" if value is None else str(value))
        if p.type == "mapping":
            line.setPlaceholderText('{"old": "new"}')
        elif p.type in ("columns", "floats"):
            line.setPlaceholderText("comma-separated")
        return line

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self._op}
        for name, (p, w) in self._fields.items():
            if isinstance(w, ColumnChecklist):
                picked = w.checked()
                if picked:
                    out[name] = picked
                continue
            text = w.currentText() if isinstance(w, QComboBox) else w.text().strip()
            if text == "":
                continue
            if p.type in ("mapping", "any"):
                try:
                    out[name] = json.loads(text)
                except json.JSONDecodeError:
                    out[name] = text  # validate_step names the problem
            else:
                out[name] = text
        return out

    def field(self, name: str) -> QWidget:
        """The widget of parameter ``name`` (tests and the panel fill forms through it)."""
        return self._fields[name][1]

    def checking(self) -> bool:
        return self._checking is not None and not self._checking.done

    def _on_ok(self) -> None:
        try:
            step = validate_step(self.values(), self._index)
        except ModelDeskError as exc:
            self._show_error(exc)
            return
        if self._check is None:
            self._result = step
            self.accept()
            return
        self.error.setText("Checking the step on the preview sample…")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        bridge = self._check(step)
        self._checking = bridge
        bridge.succeeded.connect(lambda _preview, b=bridge, s=step: self._on_checked(b, s))
        bridge.failed.connect(lambda error, _tb, b=bridge: self._on_check_failed(b, error))
        bridge.cancelled.connect(lambda b=bridge: self._on_check_failed(b, None))

    def _on_checked(self, bridge: JobBridge, step: dict[str, Any]) -> None:
        if bridge is not self._checking:
            return
        self._checking = None
        self._result = step
        self.accept()

    def _on_check_failed(self, bridge: JobBridge, error: Any) -> None:
        if bridge is not self._checking:
            return
        self._checking = None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        if error is None:
            self.error.setText("The check was cancelled; press OK to check again.")
        elif isinstance(error, ModelDeskError):
            self._show_error(error)
        else:
            self.error.setText(f"Step {self._index + 1}: {error}")

    def _show_error(self, exc: ModelDeskError) -> None:
        self.error.setText(exc.message + (f"\n{exc.hint}" if exc.hint else ""))

    def _paint_error(self) -> None:
        """The error in a red chosen by the window's lightness: readable on light and dark."""
        palette = self.error.palette()
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        red = QColor(255, 138, 128) if dark else QColor(176, 0, 32)
        palette.setColor(QPalette.ColorRole.WindowText, red)
        self.error.setPalette(palette)

    def step(self) -> dict[str, Any] | None:
        return self._result
