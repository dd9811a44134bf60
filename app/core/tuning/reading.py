"""Reading studies: summaries, trials, Optuna's trials table, CSV, plots, and progress.

``StudyReader`` is the reading half of ``TuningService`` (it needs the service's Optuna
``storage`` and ``tracking``); ``Reporter`` turns a running study into progress updates.
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput, NotFound
from app.core.progress import Progress
from app.core.tuning.entities import StudySummary, TrialInfo
from app.core.tuning.loop import RETRY_ATTR, taken
from app.core.tuning.runs import ERROR_ATTR, RUN_ATTR
from app.core.tuning.store import load_study

if TYPE_CHECKING:
    from app.core.tracking import TrackingService


class StudyReader:
    storage: Any
    tracking: TrackingService

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
        front: list[Any] = []
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        if complete:
            if len(directions) == 1:
                best = study.best_trial
                front = [best]
            else:
                front = sorted(study.best_trials, key=lambda t: t.number)
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
            best_run_ids=tuple(t.user_attrs[RUN_ATTR] for t in front if RUN_ATTR in t.user_attrs),
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
                error=t.user_attrs.get(ERROR_ATTR),
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


class Reporter:
    """Turns the study's state into progress: fraction of the budget (or time), best value."""

    def __init__(
        self,
        service: StudyReader,
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
