"""Run states that are partial, and how to name them; free of SQLAlchemy so that the
list commands' fast read path (``app.core.store.listing``) and the services share one rule.

A pruned trial's run is stored as "cancelled" (a run's status is one of five words) with the
trial's state in the tag ``trial_state`` and the pruner's note ("… after fold k", folds
counted from 1 as the cv.* metric steps are) as its error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Run statuses whose metrics are partial (the work stopped before every fold was scored).
PARTIAL_STATUSES = ("failed", "cancelled")

_FOLD = re.compile(r"after fold (\d+)")


def pruned_text(status: str, tags: Mapping[str, str], error: str | None) -> str | None:
    """ "pruned after fold 2" for the run of a trial the pruner stopped, else None."""
    if tags.get("trial_state") != "PRUNED":
        return None
    match = _FOLD.search(error or "")
    return f"pruned after fold {int(match[1])}" if match else "pruned"


def shown_state(status: str, trial_state: str | None, error: str | None) -> str:
    """What a partial run's status reads as: "pruned after fold k", "failed" or "cancelled"."""
    tags = {"trial_state": trial_state} if trial_state else {}
    return pruned_text(status, tags, error) or status
