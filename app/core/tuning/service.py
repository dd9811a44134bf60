"""``TuningService``: create, run, stop, resume, read and export Optuna studies.

    validate(request)                 → StudyPlan, or InvalidInput naming the bad entry
    create(request)                   → StudySummary: the Optuna study, its user attrs, the
                                        parent run, trial 0 = the catalog defaults when they fit
    optimize(name, workers=N, …)      → StudySummary when the budget, the time or a stop ends
                                        it (N > 1: child processes on a JobRunner)
    start(name, runner, …)            → Job: ``optimize`` on a runner thread (the panel)
    stop(name)                        → the workers stop before their next trial (any process)
    list() / summary(name) / trials(name) / trials_frame(name) / export_csv(name, path)
                                      (the reading half, ``reading.StudyReader``)
    plot(name, kind, fmt)             → PNG/SVG bytes of one of Optuna's matplotlib plots
    train_best(name, runner=None)     → the best trial trained again as a full run (model saved)
    save_best(name)                   → the best trial's run (each Pareto-optimal one's) with
                                        its model; ``optimize`` does it when a study ends
    register_best(name, model)        → those runs registered as versions of ``model``

A study resumes by calling ``optimize`` again: trials a dead worker left running are failed by
Optuna's heartbeat and re-queued; the budget counts the trials already taken. While a study
runs, its parent run beats a heartbeat, so no other process takes it for dead; a study whose
every trial failed ends failed with the first trial's error.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from app.core.errors import Cancelled, Conflict, InvalidInput, NotFound
from app.core.progress import NullProgress, Progress
from app.core.tuning import engine
from app.core.tuning.entities import StudySummary
from app.core.tuning.loop import STOP_ATTR
from app.core.tuning.reading import Reporter, StudyReader
from app.core.tuning.request import StudyPlan, StudyRequest, validate_study
from app.core.tuning.runs import ERROR_ATTR, RECIPE_KIND_STUDY, set_parent_state
from app.core.tuning.store import load_study, read_plan

if TYPE_CHECKING:
    from app.core.datasets import DatasetService
    from app.core.registry import ModelVersion, RegistryService
    from app.core.store import Store
    from app.core.tracking import TrackingService
    from app.core.training.service import TrainingService
    from app.jobs.runner import Job, JobRunner

log = logging.getLogger(__name__)

WORKER = "app.core.tuning.loop:run_worker"
POLL_SECONDS = 0.5


class TuningService(StudyReader):
    def __init__(
        self,
        store: Store,
        datasets: DatasetService,
        tracking: TrackingService,
        training: TrainingService,
        *,
        heartbeat: int = engine.HEARTBEAT_INTERVAL,
        grace: int | None = None,
        runner: JobRunner | None = None,
        registry: RegistryService | None = None,
    ) -> None:
        self.store = store
        self.datasets = datasets
        self.tracking = tracking
        self.training = training
        self.heartbeat = heartbeat
        self.grace = grace
        #: where worker processes run when ``optimize`` is not handed a runner of its own
        self.runner = runner
        self.registry = registry
        self._storage: Any = None
        self._storage_lock = threading.Lock()

    @property
    def storage_url(self) -> str:
        """What ``optuna.load_study(storage=…)`` and optuna-dashboard take."""
        return self.store.url

    @property
    def storage(self) -> Any:
        """Optuna's storage, opened once per service (the panel's jobs share it)."""
        with self._storage_lock:
            if self._storage is None:
                self._storage = engine.open_storage(
                    self.store.url,
                    heartbeat=self.heartbeat,
                    grace=self.grace,
                    pool=self.store.shared_pool,
                )
        return self._storage

    # -- creating ------------------------------------------------------------------------------

    def validate(self, request: StudyRequest) -> StudyPlan:
        return validate_study(request, self.training)

    def create(self, request: StudyRequest | StudyPlan) -> StudySummary:
        """Check the request, then create the study and its parent run; nothing half-way."""
        import optuna

        from app.core.tuning.space import defaults_for_enqueue

        plan = request if isinstance(request, StudyPlan) else self.validate(request)
        if plan.name in self._names():
            raise Conflict(
                f"A study named '{plan.name}' already exists.",
                hint="Resume it with --study NAME and no new settings, or choose another name.",
            )
        study = optuna.create_study(
            storage=self.storage, study_name=plan.name, directions=plan.directions
        )
        try:
            req = plan.train.request
            parent = self.tracking.create_run(
                name=f"study {plan.name}",
                experiment=req.experiment,
                dataset_version_id=plan.train.dataset_version_id,
                target=req.target,
                task=plan.train.task,
                estimator=plan.estimators[0] if len(plan.estimators) == 1 else "automl",
                params={"sampler": plan.sampler, "pruner": plan.pruner, "metric": plan.metric},
                tags={"dataset": req.dataset, "study": plan.name, "kind": "study", **req.tags},
                seed=plan.seed,
                recipe={"kind": RECIPE_KIND_STUDY, "version": 1, "plan": plan.to_dict()},
                study_name=plan.name,
                status="queued",
            )
            for key, value in plan.user_attrs(parent).items():
                study.set_user_attr(key, value)
            baseline = defaults_for_enqueue(plan.space)
            if baseline is not None:
                study.enqueue_trial(baseline, user_attrs={"baseline": "catalog defaults"})
        except BaseException:
            optuna.delete_study(study_name=plan.name, storage=self.storage)
            raise
        return self.summary(plan.name)

    # -- running -------------------------------------------------------------------------------

    def optimize(
        self,
        name: str,
        *,
        n_trials: int | None = None,
        timeout: float | None = None,
        workers: int | None = None,
        runner: JobRunner | None = None,
        progress: Progress | None = None,
    ) -> StudySummary:
        """Run the study until its budget, the time or a stop; resumes a study that ran before.

        ``n_trials`` replaces the study's trial budget (the total, trials already taken
        included); ``timeout`` limits this session. One worker without a runner trains here;
        otherwise each worker is a child process.
        """
        progress = progress or NullProgress()
        study = load_study(self.storage, name)
        parent = study.user_attrs.get("parent_run_id")
        if parent is None:
            raise InvalidInput(f"Study '{name}' was not made by ModelDesk; run it with Optuna.")
        plan = read_plan(self.store, int(parent), name)
        budget = plan.n_trials if n_trials is None else int(n_trials)
        if n_trials is not None:
            if not 1 <= budget <= 100_000:
                raise InvalidInput(f"The number of trials must be 1 to 100,000; got {budget}.")
            study.set_user_attr("n_trials", budget)
        timeout = plan.timeout if timeout is None else float(timeout)
        if budget is None and timeout is None:
            raise InvalidInput("A study needs a budget.", hint="Give a number of trials or a time.")
        workers = plan.workers if workers is None else int(workers)
        if not 1 <= workers <= 64:
            raise InvalidInput(f"Workers must be 1 to 64; got {workers}.")
        deadline = None if timeout is None else time.time() + timeout
        self.storage.set_study_system_attr(study._study_id, STOP_ATTR, False)
        set_parent_state(self.store, int(parent), "running")
        here = workers == 1 and runner is None
        stopped = False
        try:
            with self._parent_heartbeat(int(parent)):
                if here:
                    stopped = self._run_here(name, budget, deadline, progress)
                else:
                    runner = runner or self._runner()
                    stopped = self._run_children(name, budget, deadline, workers, runner, progress)
                failure = self._all_failed(name)
                if failure is None:
                    self._save_best_quietly(name, None if here else runner, progress)
        except KeyboardInterrupt:
            set_parent_state(self.store, int(parent), "cancelled", error="Interrupted.")
            raise
        except BaseException as exc:
            set_parent_state(self.store, int(parent), "failed", error=str(exc))
            raise
        summary = self.summary(name)
        if failure is not None:
            set_parent_state(
                self.store,
                int(parent),
                "failed",
                error=failure,
                metrics=self._best_metrics(summary, plan),
            )
            raise InvalidInput(
                failure, hint=f"Fix the cause, then resume with `modeldesk tune --study {name}`."
            )
        status = "cancelled" if stopped else "finished"
        set_parent_state(
            self.store,
            int(parent),
            status,
            error="Stopped by the user." if stopped else None,
            metrics=self._best_metrics(summary, plan),
        )
        return self.summary(name)

    def _parent_heartbeat(self, parent: int) -> Any:
        """The study's parent run beats while the study runs (a study outlives any timeout),
        as often as its trials do."""
        from app.core.tracking.liveness import Heartbeat

        return Heartbeat(
            lambda: self.tracking.heartbeat(parent),
            every=float(self.heartbeat or engine.HEARTBEAT_INTERVAL),
            name=f"study-run-{parent}-heartbeat",
        )

    def _runner(self) -> JobRunner:
        if self.runner is None:
            raise InvalidInput(
                "Several tuning workers need a job runner; this service was built without one."
            )
        return self.runner

    def _all_failed(self, name: str) -> str | None:
        """The message of a study whose every trial failed (the first trial's error), or None.

        Trials a stop interrupted and trials re-queued after a dead worker do not count.
        """
        import optuna

        from app.core.tuning.loop import STOPPED_ATTR

        trials = load_study(self.storage, name).get_trials(deepcopy=False)
        ended = [t for t in trials if not t.user_attrs.get(STOPPED_ATTR)]
        fail = optuna.trial.TrialState.FAIL
        if not ended or any(t.state != fail for t in ended):
            return None
        first = min(ended, key=lambda t: t.number)
        error = str(first.user_attrs.get(ERROR_ATTR) or "its worker ended without a word")
        error = error if error.endswith((".", "!", "?")) else error + "."
        return (
            f"Every trial of study '{name}' failed ({len(ended)} of {len(ended)}); "
            f"trial {first.number}: {error}"
        )

    # -- the best trials ---------------------------------------------------------------------

    def best_run_ids(self, name: str) -> list[int]:
        """The runs of the best trial, or of every Pareto-optimal trial (trial order)."""
        return [int(r) for r in self.summary(name).best_run_ids]

    def save_best(
        self, name: str, *, runner: JobRunner | None = None, progress: Progress | None = None
    ) -> list[int]:
        """Give the best trial's run (each Pareto-optimal trial's) its model; returns the runs.

        The model is what a training run with the trial's parameters would keep: fitted on the
        study's training split and scored on its held-out rows (``tuning.best``). Runs that
        already hold a model are left as they are. With a ``runner`` the fit happens in a child
        process (the window's thread only waits); without, here.
        """
        from app.core.tuning import best

        run_ids = self.best_run_ids(name)
        if not run_ids:
            raise NotFound(
                f"Study '{name}' has no completed trial yet, so there is no best model.",
                hint=f"Run it first: `modeldesk tune --study {name}`.",
            )
        progress = progress or NullProgress()
        if runner is None:
            return best.save_models(
                self.store,
                self.datasets,
                self.tracking.artifacts,
                run_ids,
                study_name=name,
                progress=progress,
            )
        job = runner.submit_process(
            best.WORKER,
            self.store.url,
            run_ids,
            study_name=name,
            name=f"Save the best model of {name}",
            on_exit=lambda _job: self.tracking.artifacts.recover(),
        )
        job.subscribe(lambda e: progress.update(None, e.status) if e.kind == "progress" else None)
        job.wait()
        if job.error is not None:
            raise job.error
        return list(job.result or run_ids)

    def _save_best_quietly(self, name: str, runner: JobRunner | None, progress: Progress) -> None:
        """``save_best`` as a study ends: a failure is logged and noted on the parent run, not
        raised (the study itself succeeded; ``register_best`` tries again)."""
        if not self.best_run_ids(name):
            return
        try:
            self.save_best(name, runner=runner, progress=_UpdatesOnly(progress))
        except Cancelled:
            return
        except Exception as exc:  # the study's verdict stands; say why on its parent run
            log.warning("The best model of study %s was not saved: %s", name, exc)
            summary = self.summary(name)
            if summary.parent_run_id is not None:
                self.tracking.set_tags(summary.parent_run_id, {"best_model_error": str(exc)[:500]})

    def register_best(
        self, study_name: str, model_name: str, *, description: str = ""
    ) -> list[ModelVersion]:
        """Register the study's best trial (every Pareto-optimal one, in trial order) as new
        versions of ``model_name``; returns them.

        What the Tuning panel's "Register best" calls. The trial runs get their model first
        if the study ended without saving it (``save_best``; fitted here, so call it off the
        GUI thread). Each version is tagged with the study and trial it came from.
        """
        if self.registry is None:
            raise InvalidInput("This tuning service was built without a registry.")
        run_ids = self.save_best(study_name, runner=self.runner)
        numbers = {t.run_id: t.number for t in self.trials(study_name)}
        return [
            self.registry.register(
                run_id,
                model_name,
                description=description or f"Best trial of study '{study_name}'.",
                tags={"study": study_name, "trial": str(numbers.get(run_id, ""))},
            )
            for run_id in run_ids
        ]

    def start(
        self,
        name: str,
        runner: JobRunner,
        *,
        n_trials: int | None = None,
        timeout: float | None = None,
        workers: int | None = None,
    ) -> Job:
        """``optimize`` as a job on ``runner``: the workers are child processes; cancelling the
        job stops the study gracefully (running trials end as stopped, nothing half-written)."""
        return runner.submit(
            self.optimize,
            name,
            n_trials=n_trials,
            timeout=timeout,
            workers=workers,
            runner=runner,
            name=f"Tune {name}",
        )

    def stop(self, name: str) -> None:
        """Ask every worker of the study, in any process, to stop before its next trial."""
        study = load_study(self.storage, name)
        self.storage.set_study_system_attr(study._study_id, STOP_ATTR, True)

    def _run_here(
        self, name: str, budget: int | None, deadline: float | None, progress: Progress
    ) -> bool:
        from app.core.tuning.loop import _thread_limit, open_loop

        reporter = Reporter(self, name, budget, deadline, progress)
        loop = open_loop(
            self.store,
            self.datasets,
            name,
            budget=budget,
            deadline=deadline,
            heartbeat=self.heartbeat,
            grace=self.grace,
            progress=progress,
            on_trial=reporter.report,
        )
        reporter.report()
        with _thread_limit(loop.plan):
            loop.run()
        return loop.stopped

    def _run_children(
        self,
        name: str,
        budget: int | None,
        deadline: float | None,
        workers: int,
        runner: JobRunner,
        progress: Progress,
    ) -> bool:
        from app.jobs.runner import JobState

        reporter = Reporter(self, name, budget, deadline, progress)
        jobs = [
            runner.submit_process(
                WORKER,
                self.store.url,
                name,
                budget=budget,
                deadline=deadline,
                worker=i,
                heartbeat_interval=self.heartbeat,
                grace_period=self.grace,
                log_level=_optuna_verbosity(),
                name=f"Tune {name} · worker {i + 1}",
            )
            for i in range(workers)
        ]
        stopped = False
        try:
            while not all(job.done for job in jobs):
                if getattr(progress, "cancelled", False) and not stopped:
                    stopped = True
                    self.stop(name)
                    for job in jobs:
                        job.cancel()
                reporter.report()
                jobs[0].wait(POLL_SECONDS)
        except BaseException:
            for job in jobs:
                job.cancel()
            raise
        finally:
            for job in jobs:
                job.wait()
        reporter.report()
        failures = [j for j in jobs if j.state is JobState.FAILED]
        if failures and len(failures) == len(jobs):
            raise failures[0].error or RuntimeError("Every tuning worker failed.")
        stopped = stopped or any(
            (j.result or {}).get("stopped") for j in jobs if j.state is JobState.SUCCEEDED
        )
        return stopped or any(j.state is JobState.CANCELLED for j in jobs)

    def plan(self, name: str) -> StudyPlan:
        study = load_study(self.storage, name)
        parent = study.user_attrs.get("parent_run_id")
        if parent is None:
            raise InvalidInput(f"Study '{name}' was not made by ModelDesk.")
        return read_plan(self.store, int(parent), name)

    def train_best(
        self, name: str, runner: JobRunner | None = None, *, progress: Progress | None = None
    ) -> tuple[int, Job | None]:
        """Train the best trial again as a full run (held-out test, model, plots)."""
        summary = self.summary(name)
        if summary.best_run_id is None:
            raise NotFound(f"Study '{name}' has no completed trial with a run yet.")
        return self.training.reproduce(int(summary.best_run_id), runner, progress=progress)

    def delete(self, name: str) -> None:
        """Remove the Optuna study; its runs stay (they are the record of what was tried)."""
        import optuna

        load_study(self.storage, name)
        optuna.delete_study(study_name=name, storage=self.storage)

    @staticmethod
    def _best_metrics(summary: StudySummary, plan: StudyPlan) -> dict[str, float]:
        out: dict[str, float] = {"trials": float(summary.done)}
        if summary.best_values:
            for key, value in zip(plan.objective_names, summary.best_values, strict=False):
                out[f"best.{key}"] = float(value)
        return out


class _UpdatesOnly:
    """The study's progress for the work after its trials: updates pass, a stop does not
    interrupt (a stopped study still saves its best model)."""

    cancelled = False

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        self._progress.update(fraction, status)

    def check_cancelled(self) -> None:
        return None


def _optuna_verbosity() -> int:
    """The parent's Optuna log level, for its workers (the CLI quiets Optuna unless asked)."""
    import optuna

    return optuna.logging.get_verbosity()
