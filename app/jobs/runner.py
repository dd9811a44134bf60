"""One job runner for all long work: threads for I/O-bound work, child processes for CPU.

A job is a plain function that takes its inputs and a ``progress`` keyword (see
``app.core.progress``). The runner gives every job a ``Job`` handle with its state, last
progress, result or error, a ``cancel()`` and listeners. Listeners are called on the worker's
thread; the Qt bridge (``app.ui.job_bridge``) turns them into queued signals.

Process jobs run under the ``spawn`` start method (forking a process that has Qt threads is
unsafe) and talk back over a pipe. If the child dies without a word (kill -9, out of memory)
the job fails with the reason read from its exit code, and ``on_exit`` hooks let the caller
repair what the child owned (a run left "running", a pending artifact).
"""

from __future__ import annotations

import contextlib
import enum
import importlib
import itertools
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from app.core.errors import Cancelled, ModelDeskError
from app.core.progress import CancelToken

_ids = itertools.count(1)
_PROGRESS_INTERVAL = 0.05  # seconds between forwarded progress events


class JobState(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def done(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class JobEvent:
    job_id: int
    name: str
    kind: str  # 'started' | 'progress' | 'succeeded' | 'failed' | 'cancelled'
    fraction: float
    status: str
    result: Any = None
    error: BaseException | None = None
    traceback: str = ""


Listener = Callable[[JobEvent], None]


class Job(CancelToken):
    """The handle of one submitted job; also the ``progress`` object a thread job receives."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.id = next(_ids)
        self.name = name
        self.state = JobState.PENDING
        self.result: Any = None
        self.error: BaseException | None = None
        self.traceback = ""
        self._done = threading.Event()
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._last_emit = 0.0
        self.cancel_hook: Callable[[], None] | None = None

    # -- for callers -----------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)
            replay = self._snapshot(self.state.value) if self.state.done else None
        if replay is not None:  # subscribed after the end: still hear how it ended
            listener(replay)

    def cancel(self) -> None:
        super().cancel()
        if self.cancel_hook is not None:
            self.cancel_hook()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    # -- for the job -----------------------------------------------------------------------

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        super().update(fraction, status)
        now = time.monotonic()
        if now - self._last_emit >= _PROGRESS_INTERVAL or fraction == 1.0:
            self._last_emit = now
            self._emit(self._snapshot("progress"))

    # -- for the runner --------------------------------------------------------------------

    def _snapshot(self, kind: str) -> JobEvent:
        return JobEvent(
            self.id,
            self.name,
            kind,
            self.fraction,
            self.status,
            self.result,
            self.error,
            self.traceback,
        )

    def _emit(self, event: JobEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not kill the job
                import logging

                logging.getLogger(__name__).exception("job listener failed")

    def _start(self) -> None:
        self.state = JobState.RUNNING
        self._emit(self._snapshot("started"))

    def _finish(
        self,
        state: JobState,
        result: Any = None,
        error: BaseException | None = None,
        tb: str = "",
        before_announce: Callable[[Job], None] | None = None,
    ) -> None:
        """Settle the outcome, let ``before_announce`` repair what the job owned, then tell
        listeners: whoever hears "failed" must already find the store consistent."""
        with self._lock:
            if self.state.done:
                return
            self.state, self.result, self.error, self.traceback = state, result, error, tb
            if state is JobState.SUCCEEDED:
                self.fraction = 1.0
        if before_announce is not None:
            try:
                before_announce(self)
            except Exception:
                import logging

                logging.getLogger(__name__).exception("on_exit hook of %s failed", self.name)
        self._emit(self._snapshot(state.value))
        self._done.set()


class JobRunner:
    """Runs jobs and knows which are live, so the window can count them and stop them."""

    def __init__(self, max_threads: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="job")
        self._live: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._watchers: list[Callable[[int], None]] = []

    # -- observing -------------------------------------------------------------------------

    def watch_count(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """``callback(n)`` whenever the number of live jobs changes (on a worker thread).

        Returns the function that stops the calls: a status bar that closes before the
        runner must not be called after its widgets are gone.
        """
        self._watchers.append(callback)

        def unwatch() -> None:
            with contextlib.suppress(ValueError):
                self._watchers.remove(callback)

        return unwatch

    @property
    def live(self) -> list[Job]:
        with self._lock:
            return list(self._live.values())

    def _track(self, job: Job) -> None:
        with self._lock:
            self._live[job.id] = job
            count = len(self._live)
        for cb in list(self._watchers):
            cb(count)

        def untrack(event: JobEvent) -> None:
            if event.kind in ("succeeded", "failed", "cancelled"):
                with self._lock:
                    self._live.pop(job.id, None)
                    n = len(self._live)
                for cb in list(self._watchers):
                    cb(n)

        job.subscribe(untrack)

    # -- threads ---------------------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], *args: Any, name: str, **kwargs: Any) -> Job:
        """Run ``fn(*args, progress=job, **kwargs)`` on a worker thread."""
        job = Job(name)
        self._track(job)

        def body() -> None:
            if job.cancelled:
                job._finish(JobState.CANCELLED, error=Cancelled())
                return
            job._start()
            try:
                result = fn(*args, progress=job, **kwargs)
            except Cancelled as exc:
                job._finish(JobState.CANCELLED, error=exc)
            except BaseException as exc:
                job._finish(JobState.FAILED, error=exc, tb=traceback.format_exc())
            else:
                job._finish(JobState.SUCCEEDED, result=result)

        future: Future[None] = self._pool.submit(body)

        def cancel_queued() -> None:
            if future.cancel():
                job._finish(JobState.CANCELLED, error=Cancelled())

        job.cancel_hook = cancel_queued
        return job

    # -- child processes -------------------------------------------------------------------

    def submit_process(
        self,
        target: str,
        *args: Any,
        name: str,
        on_exit: Callable[[Job], None] | None = None,
        grace: float = 5.0,
        **kwargs: Any,
    ) -> Job:
        """Run ``module:function`` in a spawned child with ``progress`` forwarded back.

        Cancel asks the child to stop at its next ``check_cancelled``; one that does not
        within ``grace`` seconds is terminated. ``on_exit(job)`` runs once the child is
        gone, whatever happened, before listeners hear how the job ended.
        """
        ctx = mp.get_context("spawn")
        parent_conn, child_conn = ctx.Pipe(duplex=False)
        wake_up, waker = ctx.Pipe(duplex=False)  # a cancel wakes the supervisor at once
        cancel_event = ctx.Event()
        process = ctx.Process(
            target=_child_main,
            args=(target, args, kwargs, child_conn, cancel_event, os.getpid()),
            name=f"modeldesk-{name}",
            daemon=True,
        )
        job = Job(name)
        job.pid = None  # type: ignore[attr-defined]
        self._track(job)

        def on_cancel() -> None:
            cancel_event.set()
            with contextlib.suppress(OSError, ValueError):
                waker.send(None)

        job.cancel_hook = on_cancel

        def supervise() -> None:
            job._start()
            process.start()
            job.pid = process.pid  # type: ignore[attr-defined]
            child_conn.close()
            try:
                outcome = _supervise(job, process, parent_conn, wake_up, grace)
            finally:
                parent_conn.close()
                wake_up.close()
                waker.close()
            if outcome is None:
                if job.cancelled:
                    state, error, tb = JobState.CANCELLED, Cancelled(), ""
                else:
                    state, error, tb = (JobState.FAILED, ModelDeskError(_death_reason(process)), "")
                job._finish(state, error=error, tb=tb, before_announce=on_exit)
            elif outcome[0] == "result":
                job._finish(JobState.SUCCEEDED, result=outcome[1], before_announce=on_exit)
            elif outcome[0] == "cancelled":
                job._finish(JobState.CANCELLED, error=Cancelled(), before_announce=on_exit)
            else:
                job._finish(
                    JobState.FAILED, error=outcome[1], tb=outcome[2], before_announce=on_exit
                )

        threading.Thread(target=supervise, name=f"supervise-{name}", daemon=True).start()
        return job

    # -- shutdown --------------------------------------------------------------------------

    def shutdown(self, *, timeout: float = 10.0) -> None:
        """Cancel every live job and wait for them, as the window closes."""
        live = self.live
        for job in live:
            job.cancel()
        end = time.monotonic() + timeout
        for job in live:
            job.wait(max(0.0, end - time.monotonic()))
        self._pool.shutdown(wait=False, cancel_futures=True)


def _supervise(
    job: Job, process: Any, conn: Any, wake_up: Any, grace: float
) -> tuple[str, Any, str] | None:
    """Relay the child's progress until it is gone; returns its last word, if it said one.

    The supervisor sleeps in ``multiprocessing.connection.wait`` on the child's pipe, its
    process sentinel and the cancel wake-up, so it costs nothing while the child works and
    hears of its end at once. A cancelled child that has not ended ``grace`` seconds later is
    terminated, and killed if it outlives another ``grace``.
    """
    from multiprocessing.connection import wait

    outcome: tuple[str, Any, str] | None = None
    deadline: float | None = None
    terminated = False
    sources = [conn, process.sentinel, wake_up]
    while True:
        if job.cancelled and deadline is None:
            deadline = time.monotonic() + grace
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready = wait(sources, timeout)
        if wake_up in ready:
            with contextlib.suppress(EOFError, OSError):
                wake_up.recv()
        if conn in ready:
            message = _relay(job, conn, outcome)
            if message is _CLOSED:
                sources.remove(conn)
            else:
                outcome = message
        if process.sentinel in ready:
            break
        if not ready and deadline is not None and time.monotonic() >= deadline:
            if terminated:
                process.kill()
            else:
                process.terminate()
                terminated = True
            deadline = time.monotonic() + grace
    if conn in sources:  # what the child sent just before it ended is still in the pipe
        while True:
            with contextlib.suppress(EOFError, OSError):
                if conn.poll():
                    last = _relay(job, conn, outcome)
                    if last is not _CLOSED:
                        outcome = last
                        continue
            break
    process.join(timeout=grace)
    if process.is_alive():
        process.kill()
        process.join()
    return outcome


_CLOSED: Any = ("closed", None, "")  # the child closed its end of the pipe


def _relay(job: Job, conn: Any, outcome: Any) -> Any:
    """Read one message: progress goes to the job; the final word is returned."""
    try:
        message = conn.recv()
    except (EOFError, OSError):
        return _CLOSED
    if message[0] == "progress":
        job.update(message[1], message[2])
        return outcome
    return message


def _death_reason(process: mp.process.BaseProcess) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = str(-code)
        hint = " (out of memory?)" if sig == "SIGKILL" else ""
        return f"The worker process was killed by {sig}{hint}."
    return f"The worker process exited with code {code} before it finished."


class _ChildProgress:
    def __init__(self, conn: Any, cancel_event: Any) -> None:
        self._conn, self._cancel = conn, cancel_event
        self._last = 0.0
        self.fraction, self.status = 0.0, ""

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        if fraction is not None:
            self.fraction = fraction
        if status is not None:
            self.status = status
        now = time.monotonic()
        if now - self._last >= _PROGRESS_INTERVAL or fraction == 1.0:
            self._last = now
            self._conn.send(("progress", self.fraction, self.status))

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


def _end_with_parent(parent_pid: int) -> None:
    """Make this child die with the process that started it.

    A worker whose parent was killed (kill -9 of ``modeldesk tune``) must not go on spending
    the machine on a study nobody watches; what it left running is failed and retried by the
    heartbeats, as for any dead worker. Linux: the kernel's parent-death signal (``prctl``;
    it fires when the thread that started the child ends, and the supervisor thread lives as
    long as its child); elsewhere, a daemon thread that ends the process once the parent pid
    has gone.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # it died before the signal was armed
                    os._exit(1)
                return
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="parent-watch", daemon=True
    ).start()


def _watch_parent(parent_pid: int, every: float = 1.0) -> None:
    """Where there is no parent-death signal: the parent is gone once this process was
    re-parented (POSIX) or no process has its pid any more (Windows keeps ``getppid``)."""
    import psutil

    while True:
        time.sleep(every)
        if os.getppid() != parent_pid or not psutil.pid_exists(parent_pid):
            os._exit(1)


def _child_main(
    target: str,
    args: tuple,
    kwargs: dict,
    conn: Any,
    cancel_event: Any,
    parent_pid: int | None = None,
) -> None:
    if parent_pid is not None:
        _end_with_parent(parent_pid)
    module_name, _, attr = target.partition(":")
    progress = _ChildProgress(conn, cancel_event)
    try:
        fn = importlib.import_module(module_name)
        for part in attr.split("."):
            fn = getattr(fn, part)
        result = fn(*args, progress=progress, **kwargs)
    except Cancelled:
        conn.send(("cancelled", None, ""))
    except BaseException as exc:
        tb = traceback.format_exc()
        try:
            conn.send(("error", exc, tb))
        except Exception:  # the exception itself would not pickle: send its text
            conn.send(("error", ModelDeskError(f"{type(exc).__name__}: {exc}"), tb))
    else:
        conn.send(("result", result, ""))
    finally:
        conn.close()
