"""The one current context of the window: what the person picked last.

The dataset version and target picked in one panel are the defaults of every other one
(Explore, Prepare, New run, New study, Monitor), and the model version picked in the Registry
is the default of Deploy and Monitor. Panels read it when they fill a picker and ``update`` it
when the person picks something; listeners hear which fields changed.

It is plain Python, no Qt, so that it can be tested and reasoned about without a window: a
listener is any callable taking the context and the set of changed field names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

Listener = Callable[["CurrentContext", frozenset[str]], None]


@dataclass(frozen=True)
class ContextState:
    """A snapshot of the context (what ``CurrentContext.state`` returns)."""

    dataset: str | None = None  # dataset name
    version: int | None = None  # dataset version number
    target: str | None = None
    recipe: str | None = None  # recipe reference ``name@version``
    model: str | None = None  # registered model name
    model_version: int | None = None
    run_id: int | None = None
    study: str | None = None
    deployment_id: int | None = None

    @property
    def dataset_ref(self) -> str | None:
        if self.dataset is None or self.version is None:
            return None
        return f"{self.dataset}@{self.version}"

    @property
    def model_ref(self) -> str | None:
        if self.model is None or self.model_version is None:
            return None
        return f"{self.model}@{self.model_version}"


FIELDS = frozenset(f.name for f in fields(ContextState))


class CurrentContext:
    """Holds a ``ContextState`` and tells listeners what changed."""

    def __init__(self, state: ContextState | None = None) -> None:
        self._state = state or ContextState()
        self._listeners: list[Listener] = []
        self._notifying = False

    @property
    def state(self) -> ContextState:
        return self._state

    def __getattr__(self, name: str) -> object:
        # context.dataset_ref, context.target …: read through to the snapshot
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._state, name)

    def update(self, **changes: object) -> frozenset[str]:
        """Set fields; listeners hear the names whose value really changed (none: no call).

        Picking another dataset clears a target that belonged to the previous one unless a
        target is given in the same call, so a stale target never reaches another panel.
        """
        unknown = set(changes) - FIELDS
        if unknown:
            raise TypeError(f"unknown context fields: {', '.join(sorted(unknown))}")
        if "dataset" in changes and changes["dataset"] != self._state.dataset:
            changes.setdefault("target", None)
            changes.setdefault("recipe", None)
        new = replace(self._state, **changes)  # type: ignore[arg-type]
        changed = frozenset(
            name for name in changes if getattr(new, name) != getattr(self._state, name)
        )
        if not changed:
            return changed
        self._state = new
        if self._notifying:  # a listener updating the context: its change is in the state
            return changed
        self._notifying = True
        try:
            for listener in list(self._listeners):
                listener(self, changed)
        finally:
            self._notifying = False
        return changed

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(context, changed)`` on every change; returns the unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe
