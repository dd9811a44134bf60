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
