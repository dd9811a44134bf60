"""Training's CV folds on a real two-worker Dask cluster give the same per-fold scores as
here for the same seed; the workers read the data from the store themselves; a worker
killed mid-run has its fold run again elsewhere and the run finishes."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from app.core.errors import InvalidInput
from app.core.training import TrainRequest
from tests.registry.conftest import numeric_table


def _request(n_estimators: int = 20, folds: int = 4) -> TrainRequest:
    return TrainRequest(
        "numeric@1",
        "label",
        "random_forest",
        params={"n_estimators": n_estimators},
        folds=folds,
        plots=False,
        test_size=0.0,
        seed=7,
    )


def _fold_metrics(services, run_id: int) -> list[list[float]]:
    """Each cv.* metric's value at every fold, in fold order."""
    run = services.tracking.get(run_id)
    keys = sorted(k for k in run.metrics if k.startswith("cv."))
    return [
        [round(value, 12) for _, value, _ in services.tracking.metric_history(run_id, key)]
        for key in keys
    ]


def test_cv_on_the_cluster_matches_local_for_the_same_seed(services, dask_cluster, monkeypatch):
    services.datasets.add_table(numeric_table(n=400), name="numeric", source_kind="test")
    local = services.training.train_inline(_request())
    monkeypatch.setenv("MODELDESK_CLUSTER", dask_cluster.address)
    remote = services.training.train_inline(_request())
    assert _fold_metrics(services, remote.id) == _fold_metrics(services, local.id)
    assert len(_fold_metrics(services, remote.id)[0]) == 4  # four folds, one value each
    ran_on = set(services.tracking.get(remote.id).tags["cluster.workers"].split(","))
    assert ran_on and ran_on <= set(_worker_addresses(dask_cluster))
    assert "cluster.workers" not in services.tracking.get(local.id).tags


def _worker_addresses(cluster) -> list[str]:
    from distributed import Client

    with Client(cluster.address, timeout=30) as client:
        return list(client.scheduler_info()["workers"])


def test_a_worker_killed_mid_run_has_its_fold_run_again(services, dask_cluster, monkeypatch):
    from distributed import Client

    services.datasets.add_table(numeric_table(n=3000), name="numeric", source_kind="test")
    local = services.training.train_inline(_request(n_estimators=150, folds=6))
    monkeypatch.setenv("MODELDESK_CLUSTER", dask_cluster.address)
    victim = dask_cluster.workers[0]
    killed = threading.Event()

    def kill_when_busy() -> None:
        with Client(dask_cluster.address, timeout=30) as client:
            while not killed.is_set():
                busy = client.processing()
                if any(busy.values()):
                    os.kill(victim.pid, signal.SIGKILL)
                    killed.set()
                    return
                threading.Event().wait(0.02)

    watcher = threading.Thread(target=kill_when_busy, daemon=True)
    watcher.start()
    try:
        remote = services.training.train_inline(_request(n_estimators=150, folds=6))
    finally:
        killed.set()
        watcher.join(timeout=30)
        dask_cluster.start_worker()
        dask_cluster.wait_for_workers(2)
    assert victim.poll() is not None  # it really died
    assert services.tracking.get(remote.id).status == "finished"
    assert _fold_metrics(services, remote.id) == _fold_metrics(services, local.id)


def test_a_bad_cluster_value_is_refused_plainly(monkeypatch):
    from app.core.cluster import parse_cluster

    assert parse_cluster("local:2") == "local:2"
    assert parse_cluster("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    for bad in ("local:x", "local:0", "http://h:1", "somewhere"):
        with pytest.raises(InvalidInput):
            parse_cluster(bad)
