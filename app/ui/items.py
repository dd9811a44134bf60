"""The things a person picks in the window, as small frozen values.

Panels hand these to each other (``open_requested(key, item)``), to the window's context menus
(``item_menu_requested(item, pos)``) and to the actions that act on them (``Action.items``). An
item names its subject by the references the CLI also takes (``name@version``, a run id), so an
item can cross panels without carrying rows from a session that has ended.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetItem:
    """A dataset version; ``target`` is the column the person picked as the target, if any."""

    name: str
    version: int
    target: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class RunItem:
    run_id: int


@dataclass(frozen=True)
class StudyItem:
    name: str


@dataclass(frozen=True)
class TrialItem:
    """A trial of a study; ``run_id`` is the run the trial recorded (None if it has none)."""

    study: str
    number: int
    run_id: int | None = None


@dataclass(frozen=True)
class ModelVersionItem:
    name: str
    version: int

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class DeploymentItem:
    deployment_id: int


Item = DatasetItem | RunItem | StudyItem | TrialItem | ModelVersionItem | DeploymentItem
