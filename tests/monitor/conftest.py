"""A registered model trained on a small mixed table, and batches drawn from its world."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from app.core.training import TrainRequest
from tests.contract.backends import *  # noqa: F403 (SQLite and PostgreSQL)


def world(n: int, seed: int, shift: float = 0.0, label: bool = True) -> pa.Table:
    """x1 moved by ``shift`` standard deviations; the label follows x1 and the city."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(shift, 1, n)
    x2 = rng.normal(0, 1, n)
    city = rng.choice(["paris", "lyon", "nice"], n, p=[0.5, 0.3, 0.2])
    cols: dict[str, object] = {"x1": x1, "x2": x2, "city": city}
    if label:
        noise = rng.normal(0, 0.7, n)
        cols["label"] = np.where(x1 + 0.8 * (city == "paris") + noise > 0.4, "yes", "no")
    return pa.table(cols)


def train(services, dataset: str, estimator: str = "random_forest", **params):
    request = TrainRequest(
        dataset,
        "label",
        estimator,
        params=params
        or ({"n_estimators": 20, "max_depth": 4} if estimator == "random_forest" else {}),
        folds=3,
        plots=False,
        test_size=0.0,
    )
    return services.training.train_inline(request)


@pytest.fixture
def model(services) -> str:
    """``churn@1`` (alias champion), trained on ``train@1`` (1,500 rows)."""
    services.datasets.add_table(world(1500, 0), name="train", source_kind="test")
    run = train(services, "train@1")
    v = services.registry.register(run.id, "churn")
    services.registry.set_alias("churn", "champion", v.version)
    return "churn@champion"


def write_log(
    folder: Path,
    rows: pa.Table,
    *,
    model: str = "churn",
    version: int = 1,
    start: str = "2026-11-20T10:00:00+00:00",
    step_s: float = 600.0,
    rotate_every: int = 0,
) -> None:
    """Prediction log lines in the serving contract's format (rotated files + current)."""
    from datetime import datetime, timedelta

    folder.mkdir(parents=True, exist_ok=True)
    t0 = datetime.fromisoformat(start)
    records = rows.to_pylist()
    chunks = (
        [records]
        if not rotate_every
        else [records[i : i + rotate_every] for i in range(0, len(records), rotate_every)]
    )
    index = 0
    for n, chunk in enumerate(chunks):
        last = n == len(chunks) - 1
        name = (
            "predictions-current.jsonl"
            if last
            else (f"predictions-{(t0 + timedelta(seconds=step_s * index)):%Y%m%dT%H%M%S}-{n}.jsonl")
        )
        with (folder / name).open("w", encoding="utf-8") as fh:
            for rec in chunk:
                ts = (t0 + timedelta(seconds=step_s * index)).isoformat()
                inputs = {k: v for k, v in rec.items() if k != "label"}
                pred = "yes" if inputs["x1"] > 0.4 else "no"
                fh.write(
                    json.dumps(
                        {
                            "ts": ts,
                            "model": model,
                            "version": version,
                            "request_id": f"r{index}",
                            "inputs": inputs,
                            "prediction": pred,
                            "proba": {"yes": 0.5, "no": 0.5},
                        }
                    )
                    + "\n"
                )
                index += 1
