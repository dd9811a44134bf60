"""Turns a runner ``Job`` into Qt signals delivered on the GUI thread.

The runner calls its listeners on the worker thread. The bridge's listener only emits a
private signal that is connected with ``Qt.QueuedConnection``; Qt posts it to the thread the
bridge lives in (the GUI thread), where ``_dispatch`` re-emits it as the public signals. So a
slot connected to ``succeeded`` always runs on the GUI thread, and always after the caller
had the chance to connect it, even when the job ended before the bridge was made.

Progress is forwarded at most ``MAX_PROGRESS_RATE`` times a second. Live bridges sit in a
module-level set until their job ends, so a caller may drop its reference.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Qt, Signal

from app.jobs.runner import Job, JobEvent

MAX_PROGRESS_RATE = 10.0  # progress signals per second


class JobBridge(QObject):
    started = Signal()
    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(object, str)  # the exception, its traceback text
    cancelled = Signal()
    finished = Signal()  # after any of succeeded / failed / cancelled

    _event = Signal(object)
    _live: ClassVar[set[JobBridge]] = set()

    def __init__(self, job: Job, parent: QObject | None = None, **context: Any) -> None:
        super().__init__(parent)
        self.job = job
        self.context = context  # what the caller needs back in its slots (path, sheet…)
        self._last_progress = 0.0
        self._done = False
        self._event.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        JobBridge._live.add(self)
        job.subscribe(self._on_job_event)

    @property
    def job_id(self) -> int:
        return self.job.id

    @property
    def done(self) -> bool:
        return self._done

    def cancel(self) -> None:
        self.job.cancel()

    def detach(self) -> None:
        """Stop delivering anything (the receiver is closing); the job itself goes on."""
        self.blockSignals(True)
        JobBridge._live.discard(self)

    # -- worker thread ---------------------------------------------------------------------

    def _on_job_event(self, event: JobEvent) -> None:
        if event.kind == "progress":
            now = time.monotonic()
            if now - self._last_progress < 1.0 / MAX_PROGRESS_RATE:
                return
            self._last_progress = now
        # RuntimeError: the bridge was deleted with its receiver; nobody listens any more.
        with contextlib.suppress(RuntimeError):
            self._event.emit(event)

    # -- GUI thread ------------------------------------------------------------------------

    def _dispatch(self, event: JobEvent) -> None:
        if self._done:
            return
        kind = event.kind
        if kind == "started":
            self.started.emit()
        elif kind == "progress":
            self.progressed.emit(event.fraction, event.status)
        else:
            self._done = True
            if kind == "succeeded":
                self.succeeded.emit(event.result)
            elif kind == "failed":
                self.failed.emit(event.error, event.traceback)
            else:
                self.cancelled.emit()
            self.finished.emit()
            JobBridge._live.discard(self)

    @classmethod
    def live_count(cls) -> int:
        return len(cls._live)


def call(fn: Any, *args: Any, progress: Any, **kwargs: Any) -> Any:
    """Run a service method that takes no ``progress`` (rename, keys, resolve…) as a job."""
    progress.check_cancelled()
    return fn(*args, **kwargs)


class PanelJobs:
    """The jobs one panel (or helper object) started, cancelled together when it closes.

    Every panel needs the same three things of its jobs: bridge each to the GUI thread, send
    failures to one handler, and stop listening to all of them at once when the window
    closes (the runner may be shut down next, and a late signal must not reach a deleted
    widget). Keeping them here means a new panel gets that right by construction.
    """

    def __init__(
        self,
        owner: QObject,
        runner: Any,
        *,
        on_failed: Any = None,
        on_cancelled: Any = None,
    ) -> None:
        self._owner = owner
        self._runner = runner
        self._on_failed = on_failed  # (bridge, error, traceback text)
        self._on_cancelled = on_cancelled  # (bridge)
        self._bridges: set[JobBridge] = set()

    def __iter__(self):
        return iter(list(self._bridges))

    def __len__(self) -> int:
        return len(self._bridges)

    def start(self, fn: Any, *args: Any, name: str, done: Any = None, **context: Any) -> JobBridge:
        """Run ``fn(*args)`` on the runner; ``done(bridge, result)`` runs on the GUI thread."""
        bridge = self.track(self._runner.submit(fn, *args, name=name), **context)
        if done is not None:
            bridge.succeeded.connect(lambda result: done(bridge, result))
        return bridge

    def track(self, job: Job, **context: Any) -> JobBridge:
        """Bridge a job that was started elsewhere (a child process, a training run)."""
        bridge = JobBridge(job, self._owner, **context)
        self._bridges.add(bridge)
        if self._on_failed is not None:
            bridge.failed.connect(lambda error, tb: self._on_failed(bridge, error, tb))
        if self._on_cancelled is not None:
            bridge.cancelled.connect(lambda: self._on_cancelled(bridge))
        bridge.finished.connect(lambda: self._bridges.discard(bridge))
        return bridge

    def close(self) -> None:
        """Cancel every job still running and deliver nothing more from any of them."""
        for bridge in list(self._bridges):
            bridge.detach()
            bridge.cancel()
        self._bridges.clear()


class JobSlot:
    """One kind of work in a panel: a new start cancels the old, stale results are dropped.

    A panel has a slot per kind of work (the listing, the detail, the preview). ``start``
    cancels whatever the slot ran before, and ``done`` is called only for the slot's current
    job, so an earlier selection's result never lands under a newer one (Orange #2184) and no
    panel compares job ids by hand.
    """

    def __init__(self, jobs: PanelJobs) -> None:
        self._jobs = jobs
        self._current: JobBridge | None = None

    @property
    def current(self) -> JobBridge | None:
        return self._current

    @property
    def busy(self) -> bool:
        return self._current is not None and not self._current.done

    def is_current(self, bridge: JobBridge) -> bool:
        return bridge is self._current

    def start(self, fn: Any, *args: Any, name: str, done: Any = None, **context: Any) -> JobBridge:
        """Cancel the slot's previous job, start ``fn(*args)``; ``done(bridge, result)`` runs
        on the GUI thread only if this job is still the slot's current one."""
        self.cancel()
        bridge = self._jobs.start(fn, *args, name=name, **context)
        self._current = bridge
        if done is not None:
            bridge.succeeded.connect(
                lambda result, b=bridge: done(b, result) if self.is_current(b) else None
            )
        return bridge

    def track(self, job: Job, *, done: Any = None, **context: Any) -> JobBridge:
        """Like ``start`` for a job started elsewhere (a child process)."""
        self.cancel()
        bridge = self._jobs.track(job, **context)
        self._current = bridge
        if done is not None:
            bridge.succeeded.connect(
                lambda result, b=bridge: done(b, result) if self.is_current(b) else None
            )
        return bridge

    def cancel(self) -> None:
        """Cancel the current job, if it is still running, and forget it."""
        previous, self._current = self._current, None
        if previous is not None and not previous.done:
            previous.detach()
            previous.cancel()
