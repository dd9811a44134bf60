"""A real store holding a small classification dataset, and a tuning service with a short
heartbeat so dead workers are noticed within seconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.backends import *  # noqa: F403 (SQLite and PostgreSQL)


def bc_table(rows: int = 150):
    """Breast-cancer measurements (shipped with scikit-learn): 30 numeric features, 2 classes."""
    import pyarrow as pa
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.sample(n=rows, random_state=0)
    frame = frame[[*frame.columns[:8], "target"]].reset_index(drop=True)
    frame["target"] = frame["target"].map({0: "malignant", 1: "benign"})
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.fixture
def services(store_url: str) -> Iterator:
    import optuna

    from app.bootstrap import build_services

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    svc = build_services(store_url)
    svc.datasets.add_table(bc_table(), name="bc", source_kind="test")
    yield svc
    svc.close()


@pytest.fixture
def tuning(services):
    from app.core.tuning import TuningService

    svc = TuningService(
        services.store,
        services.datasets,
        services.tracking,
        services.training,
        heartbeat=1,
        grace=2,
    )
    return svc


@pytest.fixture
def runner():
    from app.jobs.runner import JobRunner

    r = JobRunner()
    yield r
    r.shutdown(timeout=20)
