"""Registering a trial of a study as a model version (job bodies of the Tuning panel).

A trial scores its parameters by cross-validation and its run may hold no model. When the run
has one (the best trial's, saved when the study ends), it is registered directly. Otherwise the
trial's parameters are trained as a full run first — ``TrainingService.reproduce`` of the
trial's run: same dataset version, parameters and seed, in a child process — and that run is
registered. ``register_trial`` returns which of the two it did, so the panel can say so.
"""

from __future__ import annotations

from typing import Any

from app.core.errors import InvalidInput, ModelDeskError, NotFound
from app.ui.items import ModelVersionItem
from app.ui.job_bridge import JobBridge
from app.ui.panels.runs_register import ask_to_register, register_defaults, register_run


def trial_defaults(
    tuning: Any, tracking: Any, datasets: Any, study: str, number: int, *, progress: Any
) -> dict[str, Any]:
    """The register dialog's proposal for trial ``number`` of ``study``."""
    trial = next((t for t in tuning.trials(study) if t.number == number), None)
    if trial is None:
        raise NotFound(f"Study '{study}' has no trial {number}.")
    if trial.state != "COMPLETE":
        state = "pruned" if trial.state == "PRUNED" else trial.state.lower()
        raise InvalidInput(
            f"Trial {number} of '{study}' is {state}; only a complete trial can be registered.",
            hint="Sort the trials by value and pick a complete one (the best is on top).",
        )
    if trial.run_id is None:
        raise NotFound(f"Trial {number} of '{study}' recorded no run to register.")
    defaults = register_defaults(tracking, datasets, int(trial.run_id), progress=progress)
    defaults["summary"] = f"Trial {number} of study {study} · {defaults['summary']}"
    defaults["study"], defaults["number"] = study, number
    return defaults


def register_trial(
    training: Any,
    tracking: Any,
    registry: Any,
    runner: Any,
    run_id: int,
    name: str,
    description: str,
    *,
    progress: Any,
) -> tuple[Any, str]:
    """(the new ModelVersionItem, "direct" or "trained run N") for the trial's run."""
    from app.core.training.model_io import MODEL_NAME

    path = "direct"
    if tracking.get(run_id).artifact(MODEL_NAME) is None:
        progress.update(0.05, f"Training run {run_id}'s parameters as a full run…")
        new_id, job = training.reproduce(run_id, runner)
        if job is not None:
            while not job.wait(0.5):
                try:
                    progress.check_cancelled()
                except BaseException:
                    job.cancel()
                    raise
            if job.error is not None:
                if isinstance(job.error, ModelDeskError):
                    raise job.error
                raise InvalidInput(f"Training run {new_id} failed: {job.error}") from job.error
        run_id, path = int(new_id), f"trained run {new_id}"
    progress.update(0.95, "Registering…")
    return register_run(registry, run_id, name, description, progress=progress), path


class TrialRegistering:
    """The Tuning panel's "register a trial" flow (a mixin of ``TuningPanel``, which provides
    the services, the ``_register_slot``, the message bar and the signals it uses)."""

    def register_trial(self, study: str, number: int) -> None:
        """Ask for a model name, then register the trial (its run's model, or a full run of
        its parameters trained first); the Registry opens on the new version."""
        if self._registry is None or self._tracking is None or self._training is None:
            self.messages.warning("Registering is not available in this window.")
            return
        self._register_slot.start(
            trial_defaults,
            self._tuning,
            self._tracking,
            self._datasets,
            study,
            int(number),
            name=f"Register trial {number}",
            done=self._on_register_defaults,
        )

    def _on_register_button_clicked(self) -> None:
        trial = self.selected_trial()
        number = trial.number if trial is not None else getattr(self._summary, "best_trial", None)
        if self._study and number is not None:
            self.register_trial(self._study, number)
        else:
            self.messages.info("Select a complete trial to register (or wait for the best).")

    def _on_register_defaults(self, _bridge: JobBridge, defaults: dict[str, Any]) -> None:
        self.register_dialog = ask_to_register(
            self, defaults, self._register, title="Register trial"
        )

    def _register(self, run_id: int, name: str, description: str) -> None:
        self.status_label.setText(f"Registering run {run_id} as {name}…")
        self._register_slot.start(
            register_trial,
            self._training,
            self._tracking,
            self._registry() if self._registry is not None else None,
            self._runner,
            run_id,
            name,
            description,
            name=f"Register run {run_id}",
            done=self._on_registered,
        )

    def _on_registered(self, _bridge: JobBridge, result: tuple[ModelVersionItem, str]) -> None:
        item, path = result
        how = "" if path == "direct" else f" (the trial's parameters {path}, as a full run)"
        self.messages.info(f"Registered as {item.ref}{how}.")
        self.registered.emit(item)
        self.open_requested.emit("registry", item)
