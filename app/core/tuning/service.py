"""``TuningService``: create, run, stop, resume, read and export Optuna studies.

    validate(request)                 → StudyPlan, or InvalidInput naming the bad entry
    create(request)                   → StudySummary: the Optuna study, its user attrs, the
                                        parent run, trial 0 = the catalog defaults when they fit
    optimize(name, workers=N, …)      → StudySummary when the budget, the time or a stop ends
                                        it (N > 1: child processes on a JobRunner)
    start(name, runner, …)            → Job: ``optimize`` on a runner thread (the panel)
    stop(name)                        → the workers stop before their next trial (any process)
    list() / summary(name) / trials(name) / trials_frame(name) / export_csv(name, path)
    plot(name, kind, fmt)             → PNG/SVG bytes of one of Optuna's matplotlib plots
    train_best(name, runner=None)     → the best trial trained again as a full run (model saved)

A study resumes by calling ``optimize`` again: trials a dead worker left running are failed by
Optuna's heartbeat and re-queued; the budget counts the trials already taken.
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import TYPE_CHECKING, Any

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.progress import NullProgress, Progress
from app.core.tuning import engine
from app.core.tuning.entities import StudySummary, TrialInfo
from app.core.tuning.loop import RETRY_ATTR, STOP_ATTR, taken
from app.core.tuning.request import StudyPlan, StudyRequest, validate_study
from app.core.tuning.runs import RECIPE_KIND_STUDY, RUN_ATTR, set_parent_state
from app.core.tuning.store import load_study, read_plan

if TYPE_CHECKING:
    from app.core.datasets import DatasetService
    from app.core.store import Store
    from app.core.tracking import TrackingService
    from app.core.training.service import TrainingService
    from app.jobs.runner import Job, JobRunner

WORKER = "app.core.tuning.loop:run_worker"
POLL_SECONDS = 0.5


class TuningService:
    def __init__(
        self,
        store: Store,
        datasets: DatasetService,
        tracking: TrackingService,
        training: TrainingService,
        *,
        heartbeat: int = engine.HEARTBEAT_INTERVAL,
        grace: int | None = None,
    ) -> None:
        self.store = store
        self.datasets = datasets
        self.tracking = tracking
        self.training = training
        self.heartbeat = heartbeat
        self.grace = grace
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
                    self.store.url, heartbeat=self.heartbeat, grace=self.grace
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
        stopped = False
        try:
            if workers == 1 and runner is None:
                stopped = self._run_here(name, budget, deadline, progress)
            else:
                stopped = self._run_children(name, budget, deadline, workers, runner, progress)
        except KeyboardInterrupt:
            set_parent_state(self.store, int(parent), "cancelled", error="Interrupted.")
            raise
        except BaseException as exc:
            set_parent_state(self.store, int(parent), "failed", error=str(exc))
            raise
        summary = self.summary(name)
        status = "cancelled" if stopped else "finished"
        set_parent_state(
            self.store,
            int(parent),
            status,
            error="Stopped by the user." if stopped else None,
            metrics=self._best_metrics(summary, plan),
        )
        return self.summary(name)

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

        reporter = _Reporter(self, name, budget, deadline, progress)
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
        runner: JobRunner | None,
        progress: Progress,
    ) -> bool:
        from app.jobs.runner import JobRunner, JobState

        own = runner is None
        runner = runner or JobRunner()
        reporter = _Reporter(self, name, budget, deadline, progress)
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
            if own:
                runner.shutdown()
        reporter.report()
        failures = [j for j in jobs if j.state is JobState.FAILED]
        if failures and len(failures) == len(jobs):
            raise failures[0].error or RuntimeError("Every tuning worker failed.")
        stopped = stopped or any(
            (j.result or {}).get("stopped") for j in jobs if j.state is JobState.SUCCEEDED
        )
        return stopped or any(j.state is JobState.CANCELLED for j in jobs)

    # -- reading -------------------------------------------------------------------------------

    def _names(self) -> set[str]:
        return {s.study_name for s in self.storage.get_all_studies()}

    def list(self) -> list[StudySummary]:
        """Every study in the store (ModelDesk's and any other Optuna client's), newest first."""
        names = [s.study_name for s in self.storage.get_all_studies()]
        return [self.summary(n) for n in reversed(names)]

    def summary(self, name: str) -> StudySummary:
        study = load_study(self.storage, name)
        trials = study.get_trials(deepcopy=False)
        return self._summarize(study, trials)

    def _summarize(self, study: Any, trials: list[Any]) -> StudySummary:
        import optuna

        attrs = dict(study.user_attrs)
        counts: dict[str, int] = {}
        for t in trials:
            counts[t.state.name] = counts.get(t.state.name, 0) + 1
        directions = tuple(d.name.lower() for d in study.directions)
        best = None
        pareto = 0
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        if complete:
            if len(directions) == 1:
                best = study.best_trial
            else:
                front = study.best_trials
                pareto = len(front)
                best = front[0] if front else None
        parent = attrs.get("parent_run_id")
        status = "external"
        if parent is not None:
            try:
                status = self.tracking.get(int(parent)).status
            except NotFound:
                status = "unknown"
        return StudySummary(
            name=study.study_name,
            directions=directions,
            objectives=tuple(attrs.get("objectives") or ["value"] * len(directions)),
            dataset=attrs.get("dataset"),
            target=attrs.get("target"),
            estimators=tuple(attrs.get("estimators") or ()),
            sampler=attrs.get("sampler"),
            pruner=attrs.get("pruner"),
            budget=attrs.get("n_trials"),
            counts=counts,
            best_values=tuple(best.values) if best is not None else None,
            best_params=dict(best.params) if best is not None else None,
            best_trial=best.number if best is not None else None,
            best_run_id=best.user_attrs.get(RUN_ATTR) if best is not None else None,
            pareto_size=pareto,
            parent_run_id=int(parent) if parent is not None else None,
            status=status,
            started_at=min((t.datetime_start for t in trials if t.datetime_start), default=None),
            user_attrs=attrs,
        )

    def trials(self, name: str) -> list[TrialInfo]:
        study = load_study(self.storage, name)
        return [
            TrialInfo(
                number=t.number,
                state=t.state.name,
                values=tuple(t.values) if t.values is not None else None,
                params=dict(t.params),
                run_id=t.user_attrs.get(RUN_ATTR),
                started_at=t.datetime_start,
                ended_at=t.datetime_complete,
                intermediate=dict(t.intermediate_values),
                retried_from=t.system_attrs.get(RETRY_ATTR),
            )
            for t in study.get_trials(deepcopy=False)
        ]

    def trials_frame(self, name: str) -> Any:
        """Optuna's own trials table (``Study.trials_dataframe``) with the run ids."""
        study = load_study(self.storage, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = study.trials_dataframe(attrs=_FRAME_ATTRS, multi_index=False)
        return frame

    def export_csv(self, name: str, path: Any) -> int:
        """Write the trials as CSV; returns the number of rows."""
        from pathlib import Path

        frame = self.trials_frame(name)
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(target, index=False)
        except OSError as exc:
            raise InvalidInput(f"Cannot write {target}: {exc.strerror or exc}.") from exc
        return len(frame)

    def plot(self, name: str, kind: str = "history", fmt: str = "png", **options: Any) -> bytes:
        """One of Optuna's matplotlib plots of the study, as PNG or SVG bytes."""
        from app.core.tuning.plots import render

        study = load_study(self.storage, name)
        return render(study, kind, fmt, **options)

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


_FRAME_ATTRS = (
    "number",
    "value",
    "datetime_start",
    "datetime_complete",
    "duration",
    "params",
    "user_attrs",
    "state",
)


class _Reporter:
    """Turns the study's state into progress: fraction of the budget (or time), best value."""

    def __init__(
        self,
        service: TuningService,
        name: str,
        budget: int | None,
        deadline: float | None,
        progress: Progress,
    ) -> None:
        self.service, self.name, self.budget, self.deadline = service, name, budget, deadline
        self.progress = progress
        self.t0 = time.time()
        self._study: Any = None

    def report(self) -> None:
        if self._study is None:
            self._study = load_study(self.service.storage, self.name)
        trials = self._study.get_trials(deepcopy=False)
        summary = self.service._summarize(self._study, trials)
        ended = taken(trials) - summary.counts.get("RUNNING", 0) - summary.counts.get("WAITING", 0)
        if self.budget:
            fraction = ended / self.budget
        elif self.deadline:
            fraction = (time.time() - self.t0) / max(1e-9, self.deadline - self.t0)
        else:
            fraction = None
        status = f"{max(0, ended)} trial(s)"
        if summary.best_values is not None:
            if len(summary.best_values) == 1:
                status += f", best {summary.objectives[0]} {summary.best_values[0]:.4f}"
            else:
                status += f", Pareto front of {summary.pareto_size}"
        self.progress.update(None if fraction is None else min(1.0, fraction), status)
