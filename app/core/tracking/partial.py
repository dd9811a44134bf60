"""Which runs carry partial metrics, and how to say why: "pruned after fold 2", "failed".

A pruned trial's run is stored as "cancelled" (a run's status is one of five words) with the
trial's state in the tag ``trial_state`` and the pruner's note ("… after fold k", folds
counted from 1 as the cv.* metric steps are) as its error. People read "cancelled" as "I
stopped it", so the runs table, the run detail and ``modeldesk runs list`` say "pruned after
fold k" as the Tuning trials table does (it counts the trial's intermediate values).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sqlalchemy import select

from app.core.store import Store
from app.core.store.models import RunRow, RunTagRow
from app.core.tracking.query import PARTIAL_STATUSES

_FOLD = re.compile(r"after fold (\d+)")


def pruned_text(status: str, tags: Mapping[str, str], error: str | None) -> str | None:
    """ "pruned after fold 2" for the run of a trial the pruner stopped, else None."""
    if tags.get("trial_state") != "PRUNED":
        return None
    match = _FOLD.search(error or "")
    return f"pruned after fold {int(match[1])}" if match else "pruned"


def partial_states(store: Store, run_ids: Iterable[int]) -> dict[int, str]:
    """For those of ``run_ids`` whose metrics are partial, the status to show: "pruned after
    fold k", "failed" or "cancelled" (one query, whatever the number of runs)."""
    ids = list(dict.fromkeys(run_ids))
    if not ids:
        return {}
    state = (
        select(RunTagRow.run_id, RunTagRow.value).where(RunTagRow.key == "trial_state").subquery()
    )
    query = (
        select(RunRow.id, RunRow.status, RunRow.error, state.c.value)
        .outerjoin(state, state.c.run_id == RunRow.id)
        .where(RunRow.id.in_(ids), RunRow.status.in_(PARTIAL_STATUSES))
    )
    with store.session() as s:
        rows = s.execute(query).all()
    texts = {}
    for run_id, status, error, trial_state in rows:
        tags = {"trial_state": trial_state} if trial_state else {}
        texts[run_id] = pruned_text(status, tags, error) or status
    return texts
