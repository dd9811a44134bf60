"""The Registry panel's two questions: why force a refused promotion, and which types of an
outside model file to trust."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)


class ReasonDialog(QDialog):
    """Shows why the policy refused a move and asks for a written reason to force it."""

    def __init__(self, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Promotion refused by the policy")
        self.message = QLabel(message)
        self.message.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("Why force it? This goes into the audit log.")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.force_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.force_button.setText("Force with this reason")
        self.force_button.setEnabled(False)
        self.reason.textChanged.connect(self._on_reason_changed)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)

    def _on_reason_changed(self) -> None:
        self.force_button.setEnabled(bool(self.reason.toPlainText().strip()))


class TrustDialog(QDialog):
    """Each type skops would construct from an outside file, to be ticked one by one."""

    def __init__(self, path: str, types: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Trust the types in this model file?")
        layout = QVBoxLayout(self)
        text = QLabel(
            f"{path} would construct these types, which are not trusted by default. "
            "Only tick them if you know where the file came from."
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.boxes = [QCheckBox(t) for t in types]
        for box in self.boxes:
            layout.addWidget(box)
        self.name = QLineEdit()
        form = QFormLayout()
        form.addRow("Register as model", self.name)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def trusted(self) -> list[str]:
        return [b.text() for b in self.boxes if b.isChecked()]
