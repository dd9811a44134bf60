"""Which runs carry partial metrics, and how to say why: "pruned after fold 2", "failed".

A pruned trial's run is stored as "cancelled" (a run's status is one of five words) with the
trial's state in the tag ``trial_state`` and the pruner's note ("… after fold k", folds
counted from 1 as the cv.* metric steps are) as its error. People read "cancelled" as "I
stopped it", so the runs table, the run detail and ``modeldesk runs list`` say "pruned after
fold k" as the Tuning trials table does (it counts the trial's intermediate values).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.core.store import Store
from app.core.store.models import RunRow, RunTagRow
from app.core.store.run_states import PARTIAL_STATUSES, pruned_text, shown_state

__all__ = ["partial_states", "pruned_text"]


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
    return {run_id: shown_state(status, ts, error) for run_id, status, error, ts in rows}
