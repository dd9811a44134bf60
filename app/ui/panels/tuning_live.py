"""The Tuning panel's live view of a running study (a mixin of ``TuningPanel``).

A study started here runs as a runner job that the panel watches through a ``JobBridge``;
whether started here or elsewhere, a timer polls its summary and trials every ``POLL_MS`` and
the trials table and the plot are refreshed only when something changed.
"""

from __future__ import annotations

from typing import Any

from app.ui.job_bridge import JobBridge

POLL_MS = 1500


# -- job bodies (worker threads) ------------------------------------------------------------


def snapshot(tuning: Any, name: str, *, progress: Any) -> tuple[Any, list[Any]]:
    """(summary, trials) of one study."""
    progress.check_cancelled()
    return tuning.summary(name), tuning.trials(name)


def start_study(tuning: Any, request: Any, runner: Any, *, progress: Any) -> tuple[str, Any]:
    name = tuning.create(request).name
    return name, tuning.start(name, runner)


class StudyWatching:
    """Poll, show and follow the selected study (the panel provides the widgets and slots)."""

    def _on_started(self, result: tuple[str, Any]) -> None:
        name, job = result
        self._watch_run(name, job)
        self.refresh()

    def _watch_run(self, name: str, job: Any) -> None:
        bridge = JobBridge(job, self)
        self._run_bridge = bridge
        bridge.progressed.connect(self._on_run_progressed)
        bridge.succeeded.connect(self._on_run_succeeded)
        bridge.failed.connect(self._on_error)
        bridge.finished.connect(self._on_run_finished)
        self.select_study(name)

    def _on_run_progressed(self, fraction: float, status: str) -> None:
        self.status_label.setText(f"{self._study}: {status} ({fraction:.0%})")

    def _on_run_succeeded(self, summary: Any) -> None:
        state = "stopped" if summary.status == "cancelled" else summary.status
        self.status_label.setText(f"{summary.name}: {state} after {summary.done} trial(s).")

    def _on_run_finished(self) -> None:
        self._run_bridge = None
        self._update_buttons()
        self._shown_done = -1
        self._poll()
        self.refresh()

    def _poll(self) -> None:
        if self._study is None or self._poll_slot.busy:
            return
        name = self._study
        self._poll_slot.start(snapshot, self._tuning, name, name=f"Poll {name}",
                              done=lambda _b, r: self._on_snapshot(name, r))  # fmt: skip

    def _on_snapshot(self, name: str, result: tuple[Any, list[Any]]) -> None:
        if name != self._study:
            return  # an older selection's answer
        summary, trials = result
        self._summary = summary
        shown = [(t.number, t.state, t.values, len(t.intermediate)) for t in trials]
        if shown != self._shown_trials:  # a poll that changed nothing resets nothing
            self._shown_trials = shown
            selected = self.selected_trial()
            columns = self.trials_model.columns()
            self.trials_model.set_trials(trials, summary.objectives)
            if self.trials_model.columns() != columns or len(trials) <= 50:
                self.trials.resizeColumnsToContents()
            if selected is not None:
                self._pending_trial = selected.number
        self._select_pending_trial()
        if self._run_bridge is None:
            best = "-" if summary.best_value is None else f"{summary.best_value:.4f}"
            pruned = summary.counts.get("PRUNED", 0)
            extra = f", {pruned} pruned" if pruned else ""
            self.status_label.setText(
                f"{summary.name} ({summary.status}): {summary.done} trial(s){extra}, best {best}"
            )
        self.plots.show_study(name, len(summary.directions))
        if summary.done != self._shown_done:
            self._shown_done = summary.done
            self.plots.render()
        self._update_buttons()
