"""JobBridge: worker-thread job events arrive as signals on the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread

from app.core.errors import InvalidInput
from app.ui.job_bridge import JobBridge


def _count(n: int, *, progress) -> int:
    for i in range(n):
        progress.check_cancelled()
        progress.update((i + 1) / n, f"step {i + 1}")
    return n


def _bad(*, progress) -> None:
    raise InvalidInput("bad.csv has no rows.", hint="Add rows.")


def _wait(event: threading.Event, *, progress) -> None:
    while not event.wait(0.01):
        progress.check_cancelled()


def test_success_reaches_gui_thread(qtbot, runner) -> None:
    threads: list[bool] = []
    bridge = JobBridge(runner.submit(_count, 2000, name="count"))
    bridge.progressed.connect(lambda f, s: threads.append(QThread.currentThread().isMainThread()))
    bridge.succeeded.connect(lambda r: threads.append(QThread.currentThread().isMainThread()))
    with qtbot.waitSignal(bridge.succeeded, timeout=10_000) as blocker:
        pass
    assert blocker.args == [2000]
    assert threads and all(threads)


def test_failure_carries_error_and_traceback(qtbot, runner) -> None:
    bridge = JobBridge(runner.submit(_bad, name="bad"))
    with qtbot.waitSignal(bridge.failed, timeout=10_000) as blocker:
        pass
    error, tb = blocker.args
    assert isinstance(error, InvalidInput) and "bad.csv" in error.message
    assert "InvalidInput" in tb


def test_cancel(qtbot, runner) -> None:
    gate = threading.Event()
    bridge = JobBridge(runner.submit(_wait, gate, name="wait"))
    with qtbot.waitSignal(bridge.cancelled, timeout=10_000):
        bridge.cancel()
    gate.set()


def test_job_finished_before_bridge_still_reports(qtbot, runner) -> None:
    job = runner.submit(_count, 3, name="quick")
    assert job.wait(10)
    bridge = JobBridge(job)  # connected after the end: the replay is queued, not lost
    with qtbot.waitSignals([bridge.succeeded, bridge.finished], timeout=10_000):
        pass
    assert JobBridge.live_count() == 0 or bridge not in JobBridge._live


def test_progress_is_throttled(qtbot, runner) -> None:
    seen: list[float] = []
    bridge = JobBridge(runner.submit(_count, 200_000, name="many"))
    bridge.progressed.connect(lambda f, s: seen.append(f))
    with qtbot.waitSignal(bridge.finished, timeout=20_000):
        pass
    assert len(seen) < 200  # 200,000 updates, at most ~10 a second forwarded
