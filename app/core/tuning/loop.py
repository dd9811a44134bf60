"""The trial loop every worker runs, and the child-process entry point around it.

Several workers (child processes, each with its own storage connection, on one machine or
several) share one budget without overshooting it: a worker takes the budget lock
(``budget_lock``: a file lock, or an advisory lock on PostgreSQL), counts the trials already
taken, and — if the budget allows, or a trial waits to be retried — lets
``study.optimize(n_trials=1)`` ask for the next trial while still holding the lock; the
objective's first act releases it. So the count and the creation of the trial are one step,
and N workers run exactly the budget.

Before each trial a worker checks the study's stop flag (``TuningService.stop``, from any
process), the deadline and its own cancel token; between folds it checks the cancel token.
Optuna's heartbeat fails the trials of a worker that died (kill -9) once they are silent for
the grace period, and re-queues them; a worker that finds only such trials left waits for
that to happen rather than leaving the budget short.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.core.errors import Cancelled
from app.core.progress import NullProgress, Progress

if TYPE_CHECKING:
    from app.core.store import Store
    from app.core.tuning.objective import Outcome
    from app.core.tuning.request import StudyPlan

log = logging.getLogger(__name__)

STOP_ATTR = "modeldesk_stop"  # study system attr: workers stop before their next trial
STOP_CHECK_SECONDS = 1.0  # the stop flag is read at most this often (one query)
STOPPED_ATTR = "stopped"  # trial user attr: ended by a stop, not counted in the budget
RETRY_ATTR = "failed_trial"  # Optuna's system attr on a trial re-queued after its worker died

Evaluate = Callable[[Any, Callable[[], None]], "Outcome"]


def taken(trials: list[Any]) -> int:
    """Trials that count against the budget: every trial but those a stop interrupted; a
    re-queued copy of a dead worker's trial replaces it rather than adding one."""
    import optuna

    fail = optuna.trial.TrialState.FAIL
    retries = sum(1 for t in trials if RETRY_ATTR in t.system_attrs)
    counted = sum(1 for t in trials if not (t.state == fail and t.user_attrs.get(STOPPED_ATTR)))
    return counted - retries


class TrialLoop:
    def __init__(
        self,
        study: Any,
        plan: StudyPlan,
        store: Store,
        parent_run_id: int | None,
        evaluate: Evaluate,
        *,
        budget: int | None,
        deadline: float | None,
        progress: Progress | None = None,
        on_trial: Callable[[], None] | None = None,
        write_runs: bool = True,
    ) -> None:
        from app.core.tuning.budget_lock import budget_lock

        self.study, self.plan, self.store = study, plan, store
        self.parent_run_id, self.evaluate = parent_run_id, evaluate
        self.budget, self.deadline = budget, deadline
        self.progress = progress or NullProgress()
        self.on_trial = on_trial
        self.write_runs = write_runs
        self._lock = budget_lock(store, plan.name)
        self._held = False
        self.ran = 0
        self.stopped = False
        self._flag_read = 0.0

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> int:
        """Run trials until the budget, the deadline or a stop; returns how many ran here."""
        try:
            return self._run()
        finally:
            close = getattr(self._lock, "close", None)
            if close is not None:
                close()

    def _run(self) -> int:
        import optuna

        storage, study_id = self.study._storage, self.study._study_id
        while True:
            if self._should_stop(storage, study_id):
                break
            self._acquire()
            try:
                if self.budget is None or self._count(study_id) < self.budget:
                    self._one_trial()  # fewer trials than the budget exist: no need to look
                    continue
                trials = self.study.get_trials(deepcopy=False)
                states = {t.state for t in trials}
                waiting = optuna.trial.TrialState.WAITING in states
                if waiting or taken(trials) < self.budget:
                    self._one_trial()
                    continue
            finally:
                self._release()
            if optuna.trial.TrialState.RUNNING not in states:
                break  # budget spent and nothing left in flight
            self._wait_for_running()
        return self.ran

    def _one_trial(self) -> None:
        """Ask (under the lock, released by the objective), run and tell one trial."""
        self.study.optimize(self._objective, n_trials=1, catch=(Exception,), gc_after_trial=False)
        self.ran += 1
        if self.on_trial is not None:
            self.on_trial()

    def _count(self, study_id: int) -> int:
        """All trials of the study, counted in SQL (reading them all costs far more)."""
        from sqlalchemy import text

        with self.store.session() as s:
            query = text("SELECT COUNT(*) FROM trials WHERE study_id = :sid")
            return int(s.execute(query, {"sid": study_id}).scalar() or 0)

    def _should_stop(self, storage: Any, study_id: int) -> bool:
        if getattr(self.progress, "cancelled", False):
            self.stopped = True
        elif self.deadline is not None and self.ran and time.time() >= self.deadline:
            return True  # like Optuna's timeout: checked after a trial, so one always runs
        elif time.monotonic() - self._flag_read >= STOP_CHECK_SECONDS:
            self._flag_read = time.monotonic()
            self.stopped = bool(storage.get_study_system_attrs(study_id).get(STOP_ATTR))
        return self.stopped

    def _wait_for_running(self) -> None:
        """Trials of other workers are in flight: let them end, or let the heartbeat fail them."""
        import warnings

        import optuna

        time.sleep(0.5)
        self._beat_for_trials_never_beaten()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(self.study)

    def _beat_for_trials_never_beaten(self) -> None:
        """Give a first heartbeat to running trials that never had one, once they are older
        than the grace period.

        Optuna records a trial's first heartbeat just after asking for it, and never calls a
        trial without any heartbeat stale; a worker killed in between would leave its trial
        running for ever and this wait without end. A live worker beats within milliseconds
        of asking, so a trial older than the grace period without a beat belongs to a dead
        one: one beat on its behalf lets Optuna fail and re-queue it one grace period later.
        """
        from sqlalchemy import DateTime, bindparam, text

        storage = self.study._storage  # Optuna's cache in front of the RDB storage
        rdb = getattr(storage, "_backend", storage)
        interval = getattr(rdb, "heartbeat_interval", None)
        if not interval:
            return
        grace = rdb.grace_period or 2 * interval
        query = text(
            "SELECT t.trial_id FROM trials t"
            " LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id"
            " WHERE t.study_id = :sid AND t.state = 'RUNNING' AND h.trial_id IS NULL"
            " AND t.datetime_start < :cutoff"
        ).bindparams(bindparam("cutoff", type_=DateTime()))
        cutoff = datetime.now() - timedelta(seconds=grace)  # Optuna's clock: local, naive
        with self.store.session() as s:
            silent = list(s.scalars(query, {"sid": self.study._study_id, "cutoff": cutoff}))
        for trial_id in silent:
            log.warning("Trial id %s never beat: its worker died as it started.", trial_id)
            storage.record_heartbeat(trial_id)

    def _acquire(self) -> None:
        self._lock.acquire()
        self._held = True

    def _release(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()

    # -- one trial ---------------------------------------------------------------------------

    def _check(self) -> None:
        self.progress.check_cancelled()

    def _objective(self, trial: Any) -> Any:
        import optuna

        self._release()  # the trial exists now: the next worker may count and ask
        started = time.time()
        try:
            outcome = self.evaluate(trial, self._check)
        except (Cancelled, KeyboardInterrupt):
            trial.set_user_attr(STOPPED_ATTR, True)
            self._record(trial, None, started, "cancelled", "Stopped by the user.")
            raise
        except Exception as exc:
            self._record(trial, None, started, "failed", f"{type(exc).__name__}: {exc}")
            raise
        if outcome.pruned_at is not None:
            note = f"Pruned by the {self.plan.pruner} pruner after fold {outcome.pruned_at}."
            self._record(trial, outcome, started, "cancelled", note, state="PRUNED")
            raise optuna.TrialPruned(note)
        self._record(trial, outcome, started, "finished", None, state="COMPLETE")
        return outcome.values[0] if len(outcome.values) == 1 else tuple(outcome.values)

    def _record(
        self,
        trial: Any,
        outcome: Outcome | None,
        started: float,
        status: str,
        error: str | None,
        *,
        state: str = "FAIL",
    ) -> None:
        if not self.write_runs:
            return
        from app.core.tuning.runs import write_trial_run

        params = outcome.params if outcome else {}
        estimator = outcome.estimator if outcome else trial.params.get("estimator", "")
        if not estimator and len(self.plan.estimators) == 1:
            estimator = self.plan.estimators[0]
        try:
            write_trial_run(
                self.store,
                self.plan,
                parent_run_id=self.parent_run_id,
                number=trial.number,
                estimator=estimator,
                params=params,
                status=status,
                error=error,
                started=started,
                points=outcome.points if outcome else [],
                tags={"trial_state": state},
                optuna_trial_id=trial._trial_id,
            )
        except Exception:  # the trial's verdict stands even if its run could not be written
            log.exception("the run of trial %s was not written", trial.number)


# -- the worker process -----------------------------------------------------------------------


def run_worker(
    store_url: str,
    study_name: str,
    *,
    budget: int | None,
    deadline: float | None,
    worker: int = 0,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    log_level: int | None = None,
    progress: Progress,
) -> dict[str, Any]:
    """Child-process entry point (``app.core.tuning.loop:run_worker``).

    (``grace`` would clash with ``JobRunner.submit_process``'s own argument, hence the names.)
    ``log_level`` is the parent's Optuna verbosity: progress goes through the parent, and a
    failed trial's traceback reaches stderr only when the parent lets Optuna say it.
    """
    import optuna

    from app.core.artifacts import ArtifactStore
    from app.core.datasets import DatasetService
    from app.core.store import Store

    optuna.logging.set_verbosity(optuna.logging.WARNING if log_level is None else log_level)
    store = Store(store_url)
    try:
        datasets = DatasetService(store, ArtifactStore(store))
        loop = open_loop(
            store,
            datasets,
            study_name,
            budget=budget,
            deadline=deadline,
            worker=worker,
            heartbeat=heartbeat_interval,
            grace=grace_period,
            progress=progress,
        )
        with _thread_limit(loop.plan):
            ran = loop.run()
        return {"worker": worker, "trials": ran, "stopped": loop.stopped}
    finally:
        store.dispose()


def open_loop(
    store: Store,
    datasets: Any,
    study_name: str,
    *,
    budget: int | None,
    deadline: float | None,
    worker: int = 0,
    heartbeat: int | None = None,
    grace: int | None = None,
    progress: Progress | None = None,
    on_trial: Callable[[], None] | None = None,
    evaluate: Evaluate | None = None,
) -> TrialLoop:
    """The study, its plan and the objective, ready to run in this process."""
    from app.core.tuning import engine
    from app.core.tuning.objective import CrossValidation
    from app.core.tuning.store import load_plan

    storage = engine.open_storage(
        store.url,
        heartbeat=heartbeat or engine.HEARTBEAT_INTERVAL,
        grace=grace,
        pool=store.shared_pool,
    )
    study, plan, parent = load_plan(store, storage, study_name, worker=worker)
    return TrialLoop(
        study,
        plan,
        store,
        parent,
        evaluate or CrossValidation(plan, datasets),
        budget=budget,
        deadline=deadline,
        progress=progress,
        on_trial=on_trial,
    )


def _thread_limit(plan: StudyPlan) -> Any:
    """One native thread per worker: the workers themselves use the cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        return nullcontext()
    return threadpool_limits(limits=1)
