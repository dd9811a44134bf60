"""The dataset → version → target pickers that New run and New study share.

Both forms list the store's datasets in a job and fill three combos from the result; the
version combo holds ``DatasetVersion``s, the target combo column names. The target starts on
the one the person picked (kept across versions), else the column the dataset's roles name as
the target, else the last column. A pick asked for before the list came in (a menu's "New run
on this dataset", the current context) is kept as ``(name, version, target)`` and applied when
the combos have it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox

Wanted = tuple[str, int | None, str | None]


def fill_versions(combo: QComboBox, dataset: Any) -> None:
    """The dataset's versions, newest first, without emitting."""
    with QSignalBlocker(combo):
        combo.clear()
        for version in reversed(dataset.versions if dataset else ()):
            latest = " (latest)" if version is dataset.latest else ""
            combo.addItem(f"v{version.version}{latest}", version)


def fill_targets(combo: QComboBox, version: Any) -> None:
    """The version's columns with their roles, keeping the current pick, without emitting."""
    current = combo.currentData()
    with QSignalBlocker(combo):
        combo.clear()
        stored = None  # the column the dataset's roles name as the target
        for column in version.schema if version else ():
            combo.addItem(f"{column.name}  ({column.role})", column.name)
            if column.role == "target" and stored is None:
                stored = column.name
        index = combo.findData(current)
        if index < 0 and stored is not None:
            index = combo.findData(stored)
        combo.setCurrentIndex(index if index >= 0 else combo.count() - 1)


def apply_wanted(
    wanted: Wanted | None, datasets: QComboBox, versions: QComboBox, targets: QComboBox
) -> Wanted | None:
    """Select ``wanted`` in the combos; what is still wanted (None once applied)."""
    if wanted is None:
        return None
    name, version, target = wanted
    index = datasets.findText(name)
    if index < 0:
        return wanted
    if index != datasets.currentIndex():
        datasets.setCurrentIndex(index)  # fills versions and targets
    if version is not None:
        for row in range(versions.count()):
            if getattr(versions.itemData(row), "version", None) == version:
                if row != versions.currentIndex():
                    versions.setCurrentIndex(row)
                break
    if target and targets.findData(target) >= 0:
        targets.setCurrentIndex(targets.findData(target))
    return None


def push_context(context: Any, datasets: QComboBox, versions: QComboBox, targets: QComboBox):
    """The person picked a dataset, version or target: every panel's default now."""
    version = versions.currentData()
    if context is None or version is None:
        return
    context.update(dataset=datasets.currentText(), version=version.version,
                   target=targets.currentData())  # fmt: skip
