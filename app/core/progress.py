"""How long work reports progress and learns that it was cancelled.

Core functions that may take long accept a ``progress`` argument implementing ``Progress``.
They call ``update`` between steps and ``check_cancelled`` where stopping is safe; the job
runner (threads or child processes) and the CLI progress bar supply implementations. Keeping
the protocol here, not in ``app.jobs``, lets core code run without any runner at all.
"""

from __future__ import annotations

import threading
from typing import Protocol

from app.core.errors import Cancelled


class Progress(Protocol):
    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        """Report a fraction in [0, 1] (None keeps the last one) and a short status line."""

    def check_cancelled(self) -> None:
        """Raise ``Cancelled`` if the user asked to stop."""


class NullProgress:
    """A progress sink for callers that do not watch: never cancelled, reports nowhere."""

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        pass

    def check_cancelled(self) -> None:
        pass


class CancelToken:
    """A thread-safe flag plus the latest report; the base of the runners' progress objects."""

    def __init__(self) -> None:
        self._cancel_flag = threading.Event()
        self.fraction: float = 0.0
        self.status: str = ""

    def cancel(self) -> None:
        self._cancel_flag.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel_flag.is_set()

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        if fraction is not None:
            self.fraction = min(1.0, max(0.0, float(fraction)))
        if status is not None:
            self.status = status

    def check_cancelled(self) -> None:
        if self._cancel_flag.is_set():
            raise Cancelled()


class SubProgress:
    """Maps a child step's 0..1 onto the slice [start, end] of a parent's progress."""

    def __init__(self, parent: Progress, start: float, end: float) -> None:
        self._parent, self._start, self._end = parent, start, end

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        mapped = None if fraction is None else self._start + (self._end - self._start) * fraction
        self._parent.update(mapped, status)

    def check_cancelled(self) -> None:
        self._parent.check_cancelled()
