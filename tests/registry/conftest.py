"""Registry fixtures: a real store with small trained runs (numeric data, few trees, no plots)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from app.core.training import TrainRequest
from tests.contract.backends import *  # noqa: F403 (SQLite and PostgreSQL)


@contextmanager
def postgres_database(server: str, prefix: str) -> Iterator[str]:
    """The URL of a new database of its own on the test server, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, make_url, text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def backend_url(request: pytest.FixtureRequest, tmp_path, prefix: str) -> Iterator[str]:
    """A new store's URL for a test parametrized over "sqlite" and "postgresql"."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'md.db'}"
        return
    with postgres_database(request.getfixturevalue("postgres_url"), prefix) as url:
        yield url


def numeric_table(n: int = 120, seed: int = 0, shift: float = 0.0):
    """Numbers only, so the fitted pipeline is one skl2onnx can convert."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    label = np.where(x1 + 0.5 * x2 + rng.normal(scale=0.5, size=n) + shift > 0, "yes", "no")
    return pa.table({"x1": x1, "x2": x2, "x3": x3, "label": label})


@pytest.fixture
def numeric(services) -> str:
    services.datasets.add_table(numeric_table(), name="numeric", source_kind="test")
    return "numeric@1"


def train(services, dataset: str, estimator: str = "random_forest", **params):
    request = TrainRequest(
        dataset,
        "label",
        estimator,
        params=params or ({"n_estimators": 10} if estimator == "random_forest" else {}),
        folds=3,
        plots=False,
        test_size=0.0,
    )
    return services.training.train_inline(request)


@pytest.fixture
def good_and_bad_runs(services, numeric):
    """A forest that learns the signal and a dummy that cannot (a surely worse challenger)."""
    good = train(services, numeric, "random_forest", n_estimators=15)
    bad = train(services, numeric, "dummy")
    return good, bad
