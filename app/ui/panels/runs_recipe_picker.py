"""The recipe picker New run and New study share: "(no recipe)" first, then the recipes
that fit the chosen dataset version.

A recipe fits a version when every column it reads (``RecipeVersion.needs``) is one of the
version's columns: one that reads a column the data lacks would only fail when the run
starts. The recipes are listed in the same job as the datasets (``list_choices``); the combo
is filled again, without emitting, whenever the version changes. The recipe preselected is
the one the person picked here, else the current context's (Prepare saves or opens one),
else none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QComboBox

NO_RECIPE = "(no recipe)"


@dataclass(frozen=True)
class RecipeChoice:
    ref: str  # "name@version"
    needs: tuple[str, ...]  # the columns it reads
    description: str = ""


def list_choices(datasets: Any, recipes: Any, *, progress: Any) -> dict[str, Any]:
    """Job body: the datasets with versions, and every recipe version newest first."""
    progress.check_cancelled()
    listed = [d for d in datasets.list() if d.versions]
    if callable(recipes):  # a getter: the recipe service is built on first use
        recipes = recipes()
    choices: list[RecipeChoice] = []
    for recipe in recipes.list() if recipes is not None else ():
        for version in reversed(recipe.versions):
            choices.append(RecipeChoice(version.ref, tuple(version.needs), version.description))
    return {"datasets": listed, "recipes": choices}


def fitting(choices: list[RecipeChoice], version: Any) -> list[RecipeChoice]:
    """The recipes whose every input column the dataset version has."""
    if version is None:
        return []
    columns = {c.name for c in version.schema}
    return [c for c in choices if set(c.needs) <= columns]


def fill_recipes(
    combo: QComboBox, choices: list[RecipeChoice], version: Any, wanted: str | None
) -> None:
    """ "(no recipe)" and the recipes fitting ``version``; ``wanted`` (a ref, or a bare name
    for its newest version) selected when it fits, else the current pick, else none."""
    current = combo.currentData()
    with QSignalBlocker(combo):
        combo.clear()
        combo.addItem(NO_RECIPE, None)
        combo.setItemData(0, "Train on the dataset's columns as they are",
                          Qt.ItemDataRole.ToolTipRole)  # fmt: skip
        for choice in fitting(choices, version):
            combo.addItem(choice.ref, choice.ref)
            reads = ", ".join(choice.needs) or "no column"
            tip = f"{choice.description + ' · ' if choice.description else ''}reads {reads}"
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        index = -1
        for pick in (wanted, current):
            if pick:
                index = combo.findData(pick)
                if index < 0 and "@" not in pick:  # a bare name: its newest version
                    index = next((i for i in range(1, combo.count())
                                  if combo.itemData(i).split("@")[0] == pick), -1)  # fmt: skip
            if index >= 0:
                break
        combo.setCurrentIndex(max(index, 0))
