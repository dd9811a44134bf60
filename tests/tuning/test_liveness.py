"""A study's parent run stays alive while the study runs, however long it takes."""

from __future__ import annotations

import time

from app.core.tuning import StudyRequest


class _Watch:
    """Progress that samples the parent run's heartbeat as the study goes."""

    cancelled = False

    def __init__(self, services, parent: int) -> None:
        self.services, self.parent = services, parent
        self.beats: set = set()
        self.failed_by_checker: list[int] = []

    def update(self, fraction=None, status=None) -> None:
        from sqlalchemy import select

        from app.core.store.models import RunRow
        from app.core.tracking import TrackingService

        with self.services.store.session() as s:
            self.beats.add(s.scalar(select(RunRow.heartbeat_at).where(RunRow.id == self.parent)))
        strict = TrackingService(
            self.services.store, self.services.artifacts, heartbeat_timeout=0.1
        )
        self.failed_by_checker += strict.fail_stale()

    def check_cancelled(self) -> None:
        return None


def test_parent_run_beats_while_the_study_runs(services, tuning):
    summary = tuning.create(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators=("rf",),
            n_trials=6,
            folds=3,
            sampler="random",
            pruner="none",
            name="long",
        )
    )
    watch = _Watch(services, summary.parent_run_id)
    started = time.monotonic()
    ended = tuning.optimize("long", progress=watch)
    took = time.monotonic() - started
    assert ended.status == "finished"
    assert watch.failed_by_checker == []  # never taken for dead while it ran
    # beats between the start and the end stamps: the 1 s heartbeat moved while trials ran
    assert took < 4 or len(watch.beats) >= 3, (took, watch.beats)
