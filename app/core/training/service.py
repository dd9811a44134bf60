"""``TrainingService``: check a request, create its run, train it in a child process.

    validate(request)            → TrainPlan, or InvalidInput before any run exists
    start(request, runner)       → (run_id, Job): the run row first (queued), then the worker
    train_inline(request, progress) → Run: the same worker in this process (tests, CLI)
    reproduce(run_id, runner=None)  → (new run_id, Job | None): the recipe again, same data
                                      version and seed (inline when no runner is given)
    export_code(run_id)          → a standalone pandas + scikit-learn script
    load_model(run_id)           → the fitted pipeline, its SHA-256 checked first

A child that dies leaves its run failed with the reason: the job's ``on_exit`` hook ends a
run still marked running with the job's verdict (killed by SIGKILL, exit code …), falls back
on ``TrackingService.fail_stale`` and sweeps what dead writers left in the artifact store.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.progress import NullProgress, Progress
from app.core.training.request import TrainPlan, TrainRequest, validate_request

if TYPE_CHECKING:
    from app.core.artifacts import ArtifactStore
    from app.core.datasets import DatasetService
    from app.core.tracking import Run, TrackingService
    from app.jobs.runner import Job, JobRunner

WORKER = "app.core.training.trainer:train_run"
RECIPE_KIND = "train"
RECIPE_VERSION = 1
STUDY_KIND = "study"  # a study's parent run (``tuning.runs.RECIPE_KIND_STUDY``)


class TrainingService:
    def __init__(
        self,
        datasets: DatasetService,
        tracking: TrackingService,
        artifacts: ArtifactStore,
        store_url: str,
    ) -> None:
        self.datasets = datasets
        self.tracking = tracking
        self.artifacts = artifacts
        self.store_url = store_url

    # -- checking --------------------------------------------------------------------------

    def validate(self, request: TrainRequest) -> TrainPlan:
        """The checked plan; ``InvalidInput`` names what is wrong. Creates nothing."""
        return validate_request(request, self.datasets)

    # -- running ---------------------------------------------------------------------------

    def create_run(self, plan: TrainPlan, *, status: str = "queued") -> int:
        """The run row for a plan (its recipe, params, tags); the worker fills the rest."""
        from app.core.training.validation import describe

        req = plan.request
        tags = {
            "dataset": req.dataset,
            "validation": describe(plan.validation, req.folds, req.repeats, req.test_size),
            **{str(k): str(v) for k, v in req.tags.items()},
        }
        if plan.dropped:
            tags["dropped_columns"] = ", ".join(c for c, _ in plan.dropped)
        prepare = None
        if plan.recipe:
            prepare = {"name": plan.recipe["name"], "version": plan.recipe["version"]}
            tags["recipe"] = f"{prepare['name']}@{prepare['version']}"
        run_id = self.tracking.create_run(
            name=req.name or f"{req.estimator} · {req.target}",
            experiment=req.experiment,
            dataset_version_id=plan.dataset_version_id,
            target=req.target,
            task=plan.task,
            estimator=req.estimator,
            params=req.params,
            tags=tags,
            seed=req.seed,
            recipe={
                "kind": RECIPE_KIND,
                "version": RECIPE_VERSION,
                "plan": plan.to_dict(),
                # the data recipe run first in the pipeline ({"name", "version"}) or None
                "recipe": prepare,
            },
            parent_run_id=req.parent_run_id,
            study_name=req.study_name,
            trial_number=req.trial_number,
            status=status,
        )
        if plan.recipe:
            from app.core.recipes import RecipeService

            RecipeService(self.datasets.store, self.artifacts, self.datasets).record_run(
                run_id, plan.recipe["id"], plan.dataset_version_id
            )
        note = req.note or "\n".join(plan.notes)
        if note:
            self.tracking.set_note(run_id, note)
        return run_id

    def start(self, request: TrainRequest | TrainPlan, runner: JobRunner) -> tuple[int, Job]:
        """Validate, create the run, and train it in a child process; returns at once."""
        plan = request if isinstance(request, TrainPlan) else self.validate(request)
        run_id = self.create_run(plan)
        try:
            job = runner.submit_process(
                WORKER,
                self.store_url,
                plan.to_dict(),
                run_id,
                name=f"Train run {run_id}",
                on_exit=lambda job: self._after_worker(run_id, job),
            )
        except BaseException as exc:
            self.tracking.finish(run_id, "failed", f"The worker could not start: {exc}")
            raise
        return run_id, job

    def _after_worker(self, run_id: int, job: Job) -> None:
        """Runs once the child is gone: no run stays 'running', no file stays unowned."""
        from app.jobs.runner import JobState

        try:
            self.artifacts.recover()  # first: once the run shows ended, nothing is pending
        finally:
            if job.state is not JobState.SUCCEEDED:
                run = self.tracking.get(run_id)
                if run.status in ("queued", "running"):
                    if job.state is JobState.CANCELLED:
                        self.tracking.finish(run_id, "cancelled", "Cancelled by the user.")
                    else:
                        reason = str(job.error) if job.error else "The worker process ended."
                        self.tracking.finish(run_id, "failed", reason)
            self.tracking.fail_stale(run_ids=[run_id])

    def train_inline(
        self, request: TrainRequest | TrainPlan, progress: Progress | None = None
    ) -> Run:
        """Train in this process (tests, the CLI, notebooks); returns the ended run.

        A failure or cancellation ends the run accordingly and is raised.
        """
        from app.core.training.trainer import execute

        plan = request if isinstance(request, TrainPlan) else self.validate(request)
        run_id = self.create_run(plan)
        execute(
            plan,
            run_id,
            tracking=self.tracking,
            datasets=self.datasets,
            progress=progress or NullProgress(),
        )
        return self.tracking.get(run_id)

    # -- again -----------------------------------------------------------------------------

    def plan_of(self, run_id: int) -> TrainPlan:
        """The plan a training run was made from (``InvalidInput`` for a logged run)."""
        run = self.tracking.get(run_id)
        recipe = run.recipe or {}
        if recipe.get("kind") == STUDY_KIND:
            raise InvalidInput(
                f"Run {run_id} is the parent run of study '{run.study_name}': it trains no "
                "model itself, its trials do.",
                hint=self._study_hint(run_id, recipe.get("plan") or {}),
            )
        if recipe.get("kind") != RECIPE_KIND or "plan" not in recipe:
            raise InvalidInput(
                f"Run {run_id} was not trained by ModelDesk (it was logged from a script), "
                "so it has no recipe to run again.",
            )
        return TrainPlan.from_dict(recipe["plan"])

    def _study_hint(self, run_id: int, study: dict[str, Any]) -> str:
        """Which trial to reproduce instead: the best finished one, and how to list them."""
        metric = study.get("metric") or ""
        listing = f'modeldesk runs list --filter "parent_run_id = {run_id}" lists its trials'
        if not metric:
            return f"Reproduce one of its trials: {listing}."
        page = self.tracking.search(
            filter=f"parent_run_id = {run_id} and status = 'finished'",
            sort=f"metrics.{metric}",
            descending=study.get("direction", "maximize") == "maximize",
            limit=1,
            columns=[f"metrics.{metric}"],
        )
        if not page.runs:
            return f"It has no finished trial yet; {listing}."
        best = page.runs[0]
        value = best.values.get(f"metrics.{metric}")
        shown = f", {metric} {value:.4g}" if isinstance(value, float) else ""
        return (
            f"Reproduce a trial instead, e.g. its best (run {best.id}{shown}): "
            f"modeldesk runs reproduce {best.id}; {listing}."
        )

    def compare_reproduction(self, original_id: int, new_id: int) -> dict[str, list[Any]]:
        """{metric: [original, reproduced]} for each metric that differs.

        Timings are never compared. A trial measured its model's size pickled (tuning's
        size objective), a trained run its skops file: those sizes are not compared either.
        """
        from app.core.training.metrics import is_timing

        original, again = self.tracking.get(original_id), self.tracking.get(new_id)
        skip = {"model_size_bytes"} if original.trial_number is not None else set()
        return {
            key: [value, again.metrics.get(key)]
            for key, value in original.metrics.items()
            if not is_timing(key) and key not in skip and again.metrics.get(key) != value
        }

    def reproduce_plan(self, run_id: int) -> TrainPlan:
        """The recipe of ``run_id`` checked again against the very same dataset version."""
        old = self.plan_of(run_id)
        try:
            version = self.datasets.version_by_id(old.dataset_version_id)
        except NotFound as exc:
            raise Conflict(
                f"The dataset version run {run_id} was trained on is gone.",
                hint="It cannot be reproduced without its data.",
            ) from exc
        if version.snapshot_sha256 != old.dataset_sha256:
            raise Conflict(f"The data of {version.ref} changed since run {run_id}.")
        request = replace(
            old.request,
            dataset=version.ref,
            name=f"{old.request.name or old.request.estimator} (reproduces #{run_id})",
            tags={**old.request.tags, "reproduces": str(run_id)},
            note="",
            parent_run_id=None,
            study_name=None,
            trial_number=None,
        )
        plan = self.validate(request)
        if plan.dataset_version_id != old.dataset_version_id:
            raise Conflict(f"Run {run_id}'s dataset version could not be pinned again.")
        return plan

    def reproduce(
        self, run_id: int, runner: JobRunner | None = None, *, progress: Progress | None = None
    ) -> tuple[int, Job | None]:
        """Run ``run_id``'s recipe again (same dataset version, parameters and seed).

        With a ``runner`` the new run trains in a child and ``(new_id, job)`` returns at once;
        without, it trains here and ``(new_id, None)`` returns when it has ended.
        """
        plan = self.reproduce_plan(run_id)
        if runner is not None:
            return self.start(plan, runner)
        return self.train_inline(plan, progress).id, None

    def export_code(self, run_id: int, data_path: str | None = None) -> str:
        """A standalone script (pandas + scikit-learn only) that rebuilds and scores the run."""
        from app.core.training.export import render_script

        plan = self.plan_of(run_id)
        run = self.tracking.get(run_id)
        if data_path is None:
            try:
                data_path = self.datasets.version_by_id(plan.dataset_version_id).source_path
            except NotFound:
                data_path = ""
        return render_script(plan, run, data_path or "data.csv")

    def load_model(self, run_id: int) -> Any:
        """The run's fitted pipeline; its bytes are checked against the SHA-256 first."""
        import json

        from app.core.training import model_io

        run = self.tracking.get(run_id)
        art = run.artifact(model_io.MODEL_NAME)
        meta_art = run.artifact(model_io.META_NAME)
        if art is None or meta_art is None:
            raise NotFound(f"Run {run_id} has no saved model.", hint="Only finished runs do.")
        meta = json.loads(self.artifacts.open_verified(meta_art.sha256).read_bytes())
        data = self.artifacts.open_verified(art.sha256).read_bytes()
        return model_io.loads_verified(data, art.sha256, meta.get("trusted_types", []))
