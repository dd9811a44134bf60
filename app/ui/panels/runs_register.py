"""Registering a run's model from the window: the dialog and the job bodies behind it.

``RegisterDialog`` asks for the model name (the run's dataset name by default, as a person
naming a breast-cancer classifier "breast_cancer" would) and a description. The work runs on
the runner: ``register_defaults`` reads the run and its dataset's name, ``register_run`` calls
``RegistryService.register`` (the same call as ``modeldesk models register``). The Tuning panel
reuses both for a trial's run.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.ui.items import ModelVersionItem

# -- job bodies (worker threads) -------------------------------------------------------------


def model_name_for(dataset_name: str | None, run_id: int) -> str:
    """A valid model name from a dataset name ("Breast cancer.csv" → "Breast_cancer.csv")."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset_name or "").strip("_.-")
    return name or f"run_{run_id}"


def register_defaults(tracking: Any, datasets: Any, run_id: int, *, progress: Any) -> dict:
    """What the dialog proposes for ``run_id``: the model name, a one-line summary."""
    progress.check_cancelled()
    run = tracking.get(run_id)
    dataset = None
    if run.dataset_version_id is not None and datasets is not None:
        try:
            dataset = datasets.version_by_id(run.dataset_version_id)
        except Exception:
            dataset = None
    name = getattr(dataset, "name", None)
    summary = f"Run {run.id} · {run.estimator or '—'} · {run.status}"
    if dataset is not None:
        summary += f" · {dataset.ref} → {run.target or '—'}"
    return {"run_id": run.id, "name": model_name_for(name, run.id), "summary": summary}


def register_run(registry: Any, run_id: int, name: str, description: str, *, progress: Any):
    """``RegistryService.register`` as a job; returns the item the Registry opens on."""
    progress.check_cancelled()
    version = registry.register(run_id, name, description=description)
    return ModelVersionItem(version.model_name, version.version)


# -- the dialog ------------------------------------------------------------------------------


class RegisterDialog(QDialog):
    """Model name and description for registering one run (or trial)."""

    def __init__(
        self, summary: str, name: str, parent: QWidget | None = None, *, title: str = ""
    ) -> None:
        super().__init__(parent)
        self.setObjectName("register-dialog")
        self.setWindowTitle(title or "Register model")
        self.summary = QLabel(summary)
        self.summary.setWordWrap(True)
        self.name = QLineEdit(name)
        self.name.setAccessibleName("Model name")
        self.name.setToolTip(
            "Registered model name: letters, digits, '_', '-' and '.'. An existing name gets "
            "the next version."
        )
        self.description = QPlainTextEdit()
        self.description.setAccessibleName("Description")
        self.description.setPlaceholderText("What this model is for (optional; in the card)")
        self.description.setMaximumHeight(90)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Register")
        form = QFormLayout()
        form.addRow("Model name:", self.name)
        form.addRow("Description:", self.description)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.name.textChanged.connect(self._on_name_text_changed)

    def model_name(self) -> str:
        return self.name.text().strip()

    def description_text(self) -> str:
        return self.description.toPlainText().strip()

    def _on_name_text_changed(self, text: str) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(text.strip()))


def ask_to_register(
    parent: QWidget, defaults: dict[str, Any], register: Any, *, title: str = ""
) -> RegisterDialog:
    """Open the dialog on ``defaults`` (from ``register_defaults``); on OK call
    ``register(run_id, name, description)``. Non-blocking (``open``)."""
    dialog = RegisterDialog(defaults["summary"], defaults["name"], parent, title=title)
    run_id = defaults["run_id"]
    dialog.accepted.connect(
        lambda: register(run_id, dialog.model_name(), dialog.description_text())
    )
    dialog.open()
    return dialog
