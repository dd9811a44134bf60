"""The Prepare preview: a sample before and after one step, and which columns it touched.

Editing step k of a long recipe should not re-run steps 1…k-1 each time: ``PrefixCache``
keeps the sample after every prefix (keyed by the sample and the prefix's SHA-256), so a
preview costs about one step. ``preview_steps`` is the panel's job body.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.recipes import runtime
from app.core.recipes.entities import steps_sha256, user_error

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Preview:
    """The sample before and after the chosen step, and what the step changed."""

    before: pd.DataFrame
    after: pd.DataFrame
    changed: tuple[str, ...]  # columns whose values differ
    added: tuple[str, ...]
    removed: tuple[str, ...]
    summary: dict[str, dict[str, int]]  # before/after → rows, columns, missing
    seconds: float
    upto: int


def _summary(frame: pd.DataFrame) -> dict[str, int]:
    return {
        "rows": len(frame),
        "columns": frame.shape[1],
        "missing": int(frame.isna().to_numpy().sum()),
    }


def compare(before: pd.DataFrame, after: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """(changed, added, removed) columns between two frames of the same rows."""
    added = [c for c in after.columns if c not in before.columns]
    removed = [c for c in before.columns if c not in after.columns]
    changed = []
    if not before.index.equals(after.index) and after.index.isin(before.index).all():
        before = before.loc[after.index]  # a row step: compare the rows it kept
    same_rows = len(before) == len(after) and before.index.equals(after.index)
    for c in after.columns:
        if c in added:
            continue
        if not same_rows:
            changed.append(c)
            continue
        a, b = before[c], after[c]
        if a.dtype != b.dtype or not a.equals(b):
            changed.append(c)
    return changed, added, removed


class PrefixCache:
    """Results of the first k steps on a sample, so editing step k re-runs from step k only.

    Keyed by the sample's identity and the SHA-256 of the prefix's steps; a row step
    (which runs first, on the raw rows) makes its prefix be computed again from the start.
    """

    def __init__(self, size: int = 48) -> None:
        import threading
        from collections import OrderedDict

        self._size = size
        self._items: OrderedDict[tuple[int, int, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, frame: Any, prefix: list[dict[str, Any]]) -> Any:
        key = (id(frame), len(frame), steps_sha256(prefix))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, frame: Any, prefix: list[dict[str, Any]], result: Any) -> None:
        key = (id(frame), len(frame), steps_sha256(prefix))
        with self._lock:
            self._items[key] = (frame, result)  # keeps the sample alive: its id stays unique
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def prefix(self, frame: Any, steps: list[dict[str, Any]], k: int) -> Any:
        """The frame after ``steps[:k]``, from the longest cached prefix."""
        start, current = 0, frame
        for j in range(k, 0, -1):
            hit = self.get(frame, steps[:j])
            if hit is not None:
                start, current = j, hit[1]
                break
        for j in range(start, k):
            step = steps[j]
            if step.get("enabled", True) and step["op"] in runtime.ROW_OPS:
                current = runtime.apply_recipe(frame, steps[: j + 1])
            else:
                current = runtime.apply_recipe(current, [step], first=j)
            self.put(frame, steps[: j + 1], current)
        return current


_PREVIEWS = PrefixCache()


def preview_steps(
    frame: pd.DataFrame,
    steps: list[dict[str, Any]],
    upto: int | None = None,
    *,
    cache: PrefixCache | None = _PREVIEWS,
) -> Preview:
    """Run ``steps[:upto]`` then step ``upto`` on the sample (the panel's job body)."""
    t0 = time.perf_counter()
    steps = list(steps)
    upto = len(steps) - 1 if upto is None else upto
    try:
        if cache is None:
            before = runtime.apply_recipe(frame, steps[:upto]) if upto > 0 else frame
            after = runtime.apply_recipe(frame, steps[: upto + 1]) if steps else before
        else:
            before = cache.prefix(frame, steps, upto)
            after = cache.prefix(frame, steps, upto + 1) if steps else before
    except runtime.RecipeError as exc:
        raise user_error(exc) from None
    changed, added, removed = compare(before, after)
    return Preview(
        before=before,
        after=after,
        changed=tuple(changed),
        added=tuple(added),
        removed=tuple(removed),
        summary={"before": _summary(before), "after": _summary(after)},
        seconds=time.perf_counter() - t0,
        upto=upto,
    )
