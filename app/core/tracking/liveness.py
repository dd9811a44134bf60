"""Whether a run in progress is still alive: its owner's heartbeat, and the owner itself.

The owner of a run (a notebook's ``start_run``, a training worker, a study's tuning parent)
keeps a ``Heartbeat``: a daemon thread stamping the run every few seconds whether or not the
run logs anything, so an idle notebook run is as alive as a busy one. ``stale_reason`` is the
verdict ``TrackingService.fail_stale`` applies:

- owner on this host: dead (no such process, a zombie, or its pid reused by a process that
  started later) → failed; alive → never failed, however silent;
- owner on another host: no heartbeat for ``timeout`` seconds → failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.core.owners import describe, is_local, owner_is_dead

log = logging.getLogger(__name__)

BEAT_EVERY = 5.0  # seconds between an owner's heartbeats
HEARTBEAT_TIMEOUT = 120.0  # seconds of silence before another host's run is failed


def stale_reason(owner: str, silent_for: float, timeout: float) -> str | None:
    """Why a running run must be failed, or None while its owner may be alive."""
    if owner_is_dead(owner):
        return f"The worker process {describe(owner)} died before the run ended."
    if is_local(owner):
        return None  # alive on this host: it is working, or thinking, or waiting for a person
    if silent_for > timeout:
        return f"No heartbeat from {describe(owner)} for {int(silent_for)} s."
    return None


class Heartbeat:
    """A daemon thread calling ``beat()`` every ``every`` seconds until ``stop()``.

    A failed beat (a busy or full store) is logged and tried again at the next tick: the work
    it keeps alive matters more than one stamp.
    """

    def __init__(self, beat: Callable[[], None], *, every: float = BEAT_EVERY, name: str) -> None:
        self._beat, self.every = beat, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self._beat()
            except Exception as exc:
                log.warning("%s: heartbeat not written: %s", self._thread.name, exc)
