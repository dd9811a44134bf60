"""Tracking: runs with params/metrics/tags/artifacts, SQL search, and dead-worker detection."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.both_stores


def _make(tracking, n: int) -> list[int]:
    ids = []
    for i in range(n):
        rid = tracking.create_run(
            name=f"r{i}",
            estimator="rf" if i % 2 else "logreg",
            target="y",
            task="binary",
            params={"max_depth": i % 5, "C": 0.1 * i},
        )
        tracking.log_metrics(rid, {"accuracy": i / n, "f1": 1 - i / n})
        tracking.finish(rid)
        ids.append(rid)
    return ids


def test_run_round_trip(services) -> None:
    t = services.tracking
    rid = t.create_run(
        name="first", params={"alpha": 0.5, "kernel": "rbf"}, tags={"team": "a"}, seed=7
    )
    t.log_metrics(rid, {"loss": 1.0}, step=0)
    t.log_metrics(rid, {"loss": 0.5}, step=1)
    t.log_batch(rid, [("acc", 0.7, 0, 1.0), ("acc", 0.8, 1, 2.0)])
    art = t.log_artifact(rid, "notes.txt", b"hello", kind="log")
    t.set_note(rid, "a note")
    t.finish(rid)
    run = t.get(rid)
    assert run.status == "finished" and run.ended_at is not None and run.seed == 7
    assert run.params == {"alpha": "0.5", "kernel": "rbf"}
    assert run.metrics == {"loss": 0.5, "acc": 0.8}
    assert run.tags == {"team": "a"} and run.note == "a note"
    assert run.artifact("notes.txt").sha256 == art.sha256
    assert services.artifacts.path_for(art.sha256).read_bytes() == b"hello"
    assert [(s, v) for s, v, _ in t.metric_history(rid, "loss")] == [(0, 1.0), (1, 0.5)]
    assert "scikit-learn" in run.env["packages"] and run.env["python"].count(".") == 2


def test_ended_run_takes_no_more_values(services) -> None:
    t = services.tracking
    rid = t.create_run()
    t.finish(rid)
    with pytest.raises(Conflict, match="has ended"):
        t.log_metrics(rid, {"x": 1})


def test_changing_a_logged_param_is_refused(services) -> None:
    t = services.tracking
    rid = t.create_run(params={"a": 1})
    t.log_params(rid, {"a": 1, "b": 2})
    with pytest.raises(Conflict, match="already has parameter 'a'"):
        t.log_params(rid, {"a": 3})


def test_search_filters_and_sorts_in_sql(services) -> None:
    t = services.tracking
    _make(t, 20)
    page = t.search(
        filter="metrics.accuracy >= 0.5 and estimator = 'rf'",
        sort="metrics.accuracy",
        descending=False,
        columns=["metrics.accuracy", "params.max_depth"],
        limit=None,
    )
    accs = [r.values["metrics.accuracy"] for r in page.runs]
    assert page.total == 5 and accs == sorted(accs) and min(accs) >= 0.5
    assert all(r.estimator == "rf" for r in page.runs)
    assert t.search(filter="params.max_depth = 3", limit=None).total == 4
    assert t.search(filter="name like 'r1%'", limit=None).total == 11
    page = t.search(sort="metrics.f1", descending=True, limit=3, columns=["metrics.f1"])
    assert [r.values["metrics.f1"] for r in page.runs] == [1.0, 0.95, 0.9]


@pytest.mark.parametrize(
    "bad", ["metrics.acc >", "nope = 1", "metrics.acc > 'x'", "a = 1 or b = 2"]
)
def test_bad_filters_name_the_problem(services, bad) -> None:
    with pytest.raises(InvalidInput):
        services.tracking.search(filter=bad)


def test_soft_delete_and_restore(services) -> None:
    t = services.tracking
    rid = _make(t, 1)[0]
    t.delete(rid)
    assert t.search().total == 0 and t.search(include_deleted=True).total == 1
    t.restore(rid)
    assert t.search().total == 1
    with pytest.raises(NotFound):
        t.get(9999)


def test_run_of_a_dead_process_is_failed(services, store_url) -> None:
    code = (
        "from app.bootstrap import build_services\n"
        f"s = build_services({store_url!r})\n"
        "print(s.tracking.create_run(name='orphan'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    rid = int(out.stdout.strip())
    assert services.tracking.get(rid).status == "running"
    assert services.tracking.fail_stale() == [rid]
    run = services.tracking.get(rid)
    assert run.status == "failed" and "died" in run.error


def test_silent_run_on_another_host_is_failed_after_timeout(services) -> None:
    t = services.tracking
    rid = t.create_run()
    from sqlalchemy import update

    from app.core.store.models import RunRow

    with services.store.session(write=True) as s:
        s.execute(update(RunRow).where(RunRow.id == rid).values(owner="elsewhere:1"))
    assert t.fail_stale(timeout=60) == []
    later = services.tracking.clock() + 3600
    t.clock = lambda: later
    assert t.fail_stale(timeout=60) == [rid]
    assert "No heartbeat" in t.get(rid).error


def _writer(url: str, n: int) -> None:
    from app.bootstrap import build_services

    svc = build_services(url)
    for i in range(n):
        rid = svc.tracking.create_run(name=f"p{i}", params={f"k{j}": j for j in range(10)})
        svc.tracking.log_batch(
            rid, [(f"m{j}", j * 0.1, s, 0.0) for j in range(5) for s in range(20)]
        )
        svc.tracking.finish(rid)


def test_four_processes_write_at_once_without_loss(services, store_url) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(store_url, 40)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    from sqlalchemy import func, select

    from app.core.store.models import RunMetricRow, RunParamRow

    with services.store.session() as s:
        assert s.scalar(select(func.count()).select_from(RunMetricRow)) == 4 * 40 * 100
        assert s.scalar(select(func.count()).select_from(RunParamRow)) == 4 * 40 * 10
    assert services.tracking.search(filter="status = 'finished'", limit=None).total == 160


_NOTEBOOK = """
import sys
from app.core.training.api import start_run
run = start_run(store={url!r}, name="notebook", heartbeat=0.2)
print(run.id, flush=True)
sys.stdin.readline()  # a person thinking between two cells
run.log_metric("loss", 0.5, step=1)
run.end()
print("ended", flush=True)
"""


def _notebook(store_url: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _NOTEBOOK.format(url=store_url)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    return proc, int(proc.stdout.readline())


def _heartbeat_at(services, rid: int):
    from sqlalchemy import select

    from app.core.store.models import RunRow

    with services.store.session() as s:
        return s.scalar(select(RunRow.heartbeat_at).where(RunRow.id == rid))


def test_idle_notebook_run_beats_and_is_never_failed_while_its_process_lives(
    services, store_url
) -> None:
    import time

    from app.core.tracking import TrackingService

    strict = TrackingService(services.store, services.artifacts, heartbeat_timeout=0.5)
    proc, rid = _notebook(store_url)
    try:
        first = _heartbeat_at(services, rid)
        deadline = time.monotonic() + 60
        beats = {first}
        while len(beats) < 4:  # the run logs nothing, yet its heartbeat moves on
            assert time.monotonic() < deadline, "the open run's heartbeat never moved"
            assert strict.fail_stale() == []  # silent for longer than the window: still alive
            beats.add(_heartbeat_at(services, rid))
            time.sleep(0.1)
        later = strict.clock() + 3600  # an hour of silence, by the clock of the checker
        strict.clock = lambda: later
        assert strict.fail_stale() == [] and services.tracking.get(rid).status == "running"

        out, _ = proc.communicate("next cell\n", timeout=60)  # its next point is taken
        assert out.strip() == "ended" and proc.returncode == 0
    finally:
        proc.kill()
    run = services.tracking.get(rid)
    assert run.status == "finished" and run.metrics["loss"] == 0.5


def test_killed_notebook_run_is_failed_at_once(services, store_url) -> None:
    proc, rid = _notebook(store_url)
    proc.kill()
    proc.wait(30)
    assert services.tracking.fail_stale() == [rid]
    run = services.tracking.get(rid)
    assert run.status == "failed" and f":{proc.pid} died" in run.error


def test_a_reused_pid_is_not_taken_for_the_live_owner(services) -> None:
    """The owner's pid lives, but that process started at another time: the owner is dead."""
    import os
    import socket

    from sqlalchemy import update

    from app.core.owners import owner_tag
    from app.core.store.models import RunRow

    t = services.tracking
    reused, mine = t.create_run(), t.create_run()
    assert t.get(mine).status == "running"
    impostor = f"{socket.gethostname()}:{os.getppid()}@12345.00"  # alive, but not since then
    with services.store.session(write=True) as s:
        s.execute(update(RunRow).where(RunRow.id == reused).values(owner=impostor))
    assert owner_tag().startswith(f"{socket.gethostname()}:{os.getpid()}@")
    assert t.fail_stale() == [reused]
    assert "died" in t.get(reused).error and t.get(mine).status == "running"


def test_a_run_whose_write_failed_ends_failed_with_the_reason(services) -> None:
    """A write the store cannot take (here: the artifact folder is unusable) ends the run
    failed, with the reason, while its owner can still write to the database."""
    from app.core.errors import StoreUnavailable
    from app.core.training.api import start_run

    services.artifacts.tmp_dir.parent.mkdir(parents=True, exist_ok=True)
    services.artifacts.tmp_dir.write_text("not a folder")
    with (
        pytest.raises(StoreUnavailable, match="Could not store a file"),
        start_run(tracking=services.tracking, name="full") as run,
    ):
        run.log_metric("loss", 1.0)
        run.log_artifact("big.bin", b"x" * 1000)
    failed = services.tracking.get(run.id)
    assert failed.status == "failed" and "Could not store a file" in failed.error
    assert failed.metrics == {"loss": 1.0}
    assert not run._heartbeat.running  # the run is closed: nothing beats for it any more
