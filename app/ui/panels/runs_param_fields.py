"""The typed editor of one estimator parameter, made from its ``ParamSpec`` (New run).

An int is a spin box within the spec's range, a float a spin box that shows 0.001 and 1e-09
as such, a bool a check box, a choice a combo; each starts on the spec's default and carries
its help as tooltip.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QSpinBox,
    QWidget,
)

from app.core.training.catalog import ParamSpec

INT_LIMIT = 2**31 - 1


class FloatSpinBox(QDoubleSpinBox):
    """A float field that shows 0.001 and 1e-09 as such (no fixed count of decimals)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(15)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        from PySide6.QtGui import QValidator

        stripped = text.strip()
        if stripped in ("", "-", ".", "-.", "e", "1e", "1e-") or stripped.endswith(("e", "e-")):
            return QValidator.State.Intermediate, text, pos
        try:
            float(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        return QValidator.State.Acceptable, text, pos


def make_field(spec: ParamSpec) -> QWidget:
    """The typed editor of one parameter, set to its default."""
    if spec.kind == "int":
        widget: QWidget = QSpinBox()
        widget.setRange(int(spec.low) if spec.low is not None else -INT_LIMIT,
                        int(spec.high) if spec.high is not None else INT_LIMIT)  # fmt: skip
    elif spec.kind == "float":
        widget = FloatSpinBox()
        widget.setRange(spec.low if spec.low is not None else -1e15,
                        spec.high if spec.high is not None else 1e15)  # fmt: skip
    elif spec.kind == "bool":
        widget = QCheckBox()
    else:
        widget = QComboBox()
        for choice in spec.choices:
            widget.addItem(str(choice), choice)
    widget.setObjectName(f"param-{spec.name}")
    widget.setToolTip(spec.help)
    set_field_value(widget, spec, spec.default)
    return widget


def field_value(widget: QWidget, spec: ParamSpec) -> Any:
    if spec.kind in ("int", "float"):
        return widget.value()
    if spec.kind == "bool":
        return widget.isChecked()
    return widget.currentData()


def set_field_value(widget: QWidget, spec: ParamSpec, value: Any) -> None:
    if spec.kind in ("int", "float"):
        widget.setValue(value)
    elif spec.kind == "bool":
        widget.setChecked(bool(value))
    else:
        index = widget.findData(value)
        widget.setCurrentIndex(max(index, 0))
