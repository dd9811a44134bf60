"""The job runner: results, errors, cancel, and children that die."""

from __future__ import annotations

import os
import signal
import time

import pytest

from app.core.errors import Cancelled, InvalidInput
from app.jobs import JobRunner, JobState


@pytest.fixture
def runner():
    r = JobRunner(max_threads=2)
    yield r
    r.shutdown(timeout=5)


def _count(n: int, *, progress) -> int:
    total = 0
    for i in range(n):
        progress.check_cancelled()
        total += i
        progress.update((i + 1) / n, f"step {i + 1} of {n}")
    return total


def _wait_forever(*, progress) -> None:
    while True:
        progress.check_cancelled()
        time.sleep(0.01)


def _deaf(*, progress) -> None:
    """Never looks at its cancel token."""
    time.sleep(600)


def _bad_input(*, progress) -> None:
    raise InvalidInput("Column 'x' has text in row 3.", hint="Fix it.")


def test_thread_job_reports_progress_and_result(runner) -> None:
    events = []
    job = runner.submit(_count, 100, name="count")
    job.subscribe(events.append)
    assert job.wait(5)
    assert job.state is JobState.SUCCEEDED and job.result == sum(range(100))
    assert events[-1].kind == "succeeded"
    assert job.fraction == 1.0


def test_thread_job_error_keeps_the_exception(runner) -> None:
    job = runner.submit(_bad_input, name="bad")
    assert job.wait(5)
    assert job.state is JobState.FAILED
    assert isinstance(job.error, InvalidInput) and "row 3" in str(job.error)


def test_thread_job_cancel(runner) -> None:
    job = runner.submit(_wait_forever, name="loop")
    time.sleep(0.05)
    job.cancel()
    assert job.wait(5)
    assert job.state is JobState.CANCELLED and isinstance(job.error, Cancelled)


def test_live_count_goes_up_and_down(runner) -> None:
    counts = []
    runner.watch_count(counts.append)
    job = runner.submit(_wait_forever, name="loop")
    time.sleep(0.05)
    assert len(runner.live) == 1
    job.cancel()
    job.wait(5)
    assert counts[0] == 1 and counts[-1] == 0 and runner.live == []


def test_unwatched_count_is_no_longer_called(runner) -> None:
    counts = []
    unwatch = runner.watch_count(counts.append)
    runner.submit(lambda: None, name="first").wait(5)
    seen = len(counts)
    unwatch()
    runner.submit(lambda: None, name="second").wait(5)
    time.sleep(0.05)
    assert seen >= 1 and len(counts) == seen


def test_process_job_result_and_progress(runner) -> None:
    seen = []
    job = runner.submit_process("tests.jobs.test_runner:_count", 50, name="child")
    job.subscribe(lambda e: seen.append(e.kind))
    assert job.wait(60)
    assert job.state is JobState.SUCCEEDED and job.result == sum(range(50))
    assert "progress" in seen


def test_process_job_error_crosses_the_boundary(runner) -> None:
    job = runner.submit_process("tests.jobs.test_runner:_bad_input", name="child")
    assert job.wait(60)
    assert job.state is JobState.FAILED
    assert isinstance(job.error, InvalidInput) and "row 3" in job.error.message


def test_process_job_cancel(runner) -> None:
    job = runner.submit_process("tests.jobs.test_runner:_wait_forever", name="child")
    _wait_for_pid(job)
    time.sleep(0.5)
    job.cancel()
    assert job.wait(30)
    assert job.state is JobState.CANCELLED


def test_child_that_ignores_cancel_is_terminated_after_the_grace(runner) -> None:
    exits = []
    job = runner.submit_process(
        "tests.jobs.test_runner:_deaf", name="deaf", grace=0.5, on_exit=exits.append
    )
    _wait_for_pid(job)
    started = time.monotonic()
    job.cancel()
    assert job.wait(30)
    assert job.state is JobState.CANCELLED and exits == [job]
    assert time.monotonic() - started < 20  # the supervisor woke for the grace, not later


def test_killed_child_fails_with_the_reason_and_runs_on_exit(runner) -> None:
    exits = []
    job = runner.submit_process(
        "tests.jobs.test_runner:_wait_forever", name="child", on_exit=exits.append
    )
    pid = _wait_for_pid(job)
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    assert job.wait(30)
    assert job.state is JobState.FAILED
    assert "SIGKILL" in str(job.error)
    assert exits == [job]


def _wait_for_pid(job) -> int:
    deadline = time.monotonic() + 30
    while getattr(job, "pid", None) is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return job.pid


def test_child_ends_when_its_parent_is_killed(tmp_path) -> None:
    """kill -9 of the process that started a child must not leave the child running."""
    import subprocess
    import sys
    from pathlib import Path

    import psutil

    script = (
        "import time\n"
        "from app.jobs import JobRunner\n"
        "job = JobRunner().submit_process('tests.jobs.test_runner:_wait_forever', name='w')\n"
        "while getattr(job, 'pid', None) is None:\n"
        "    time.sleep(0.01)\n"
        "print(job.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        child = psutil.Process(int(parent.stdout.readline()))
        assert child.is_running() and child.ppid() == parent.pid
        parent.kill()
        parent.wait(30)
        _assert_gone([child], within=30)
    finally:
        parent.kill()


def _assert_gone(procs, *, within: float) -> None:
    import psutil

    deadline = time.monotonic() + within
    while True:
        alive = []
        for proc in procs:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return
        assert time.monotonic() < deadline, f"still running: {[p.pid for p in alive]}"
        time.sleep(0.1)
