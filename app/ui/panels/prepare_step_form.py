"""The form that adds or edits one recipe step, made from the step's parameter list.

Fields come from ``app.core.recipes.steps.SPECS`` (a combo box for a parameter with
choices, a line edit otherwise: comma-separated lists, JSON mappings). OK runs the same
``validate_step`` the store runs, so a bad expression or a missing column list is shown in
the form, in red, and the dialog stays open; nothing reaches the recipe until it is valid.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ModelDeskError
from app.core.recipes.steps import SPECS, validate_step


class StepDialog(QDialog):
    """A form made from the step's parameters; ``step()`` is the checked result."""

    def __init__(
        self,
        op: str,
        step: dict[str, Any] | None,
        parent: QWidget | None = None,
        *,
        index: int = 0,
    ) -> None:
        super().__init__(parent)
        self._index = index  # the step's position, so that errors say "Step 3 (…)"
        spec = SPECS[op]
        self.setWindowTitle(spec.title)
        self._op = op
        self._fields: dict[str, Any] = {}
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        self.error.setObjectName("step-error")
        form = QFormLayout()
        step = step or {}
        for p in spec.params:
            value = step.get(p.name, p.default)
            if p.choices:
                w = QComboBox()
                w.addItems(list(p.choices))
                if value is not None:
                    w.setCurrentText(str(value))
            else:
                w = QLineEdit()
                if isinstance(value, list):
                    value = ", ".join(str(v) for v in value)
                elif isinstance(value, dict):
                    value = json.dumps(value)
                w.setText("" if value is None else str(value))
                if p.type == "mapping":
                    w.setPlaceholderText('{"old": "new"}')
                elif p.type in ("columns", "floats"):
                    w.setPlaceholderText("comma-separated")
            w.setObjectName(f"step-{p.name}")
            self._fields[p.name] = (p, w)
            form.addRow(p.name.replace("_", " ") + ("*" if p.required else ""), w)
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

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self._op}
        for name, (p, w) in self._fields.items():
            text = w.currentText() if isinstance(w, QComboBox) else w.text().strip()
            if text == "":
                continue
            if p.type == "mapping":
                try:
                    out[name] = json.loads(text)
                except json.JSONDecodeError:
                    out[name] = text  # validate_step names the problem
            elif p.type == "any":
                try:
                    out[name] = json.loads(text)
                except json.JSONDecodeError:
                    out[name] = text
            else:
                out[name] = text
        return out

    def _on_ok(self) -> None:
        try:
            self._result = validate_step(self.values(), self._index)
        except ModelDeskError as exc:
            self.error.setText(exc.message + (f"\n{exc.hint}" if exc.hint else ""))
            return
        self.accept()

    def step(self) -> dict[str, Any] | None:
        return self._result
