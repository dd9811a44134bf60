"""The permutation importance a run stores for Monitor (app/core/training/importance.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.core.training.importance import compute, shares, stored_shares


def test_shares_follow_what_the_model_uses_even_when_a_class_is_missing_from_the_rows():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    y = np.where(X.a > 1, "high", np.where(X.a > 0, "mid", "low"))
    model = LogisticRegression().fit(X, y)
    rows = y != "high"  # evaluation rows without one of the three classes
    doc = compute(model, X[rows], y[rows], seed=0)
    assert doc["scoring"] == "neg_log_loss" and doc["rows"] == int(rows.sum())
    got = shares(doc)
    assert got["a"] > 0.9 > 0.1 > got["b"] and sum(got.values()) == pytest.approx(1.0)


def test_a_regressor_is_scored_by_r2_and_a_useless_model_shares_nothing():
    from sklearn.dummy import DummyRegressor
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = 3 * X.a + rng.normal(scale=0.1, size=300)
    doc = compute(LinearRegression().fit(X, y), X, y, seed=0)
    assert doc["scoring"] == "default" and shares(doc)["a"] > 0.99
    flat = compute(DummyRegressor().fit(X, y), X, y, seed=0)
    assert shares(flat) == {"a": 0.0, "b": 0.0}  # nothing matters: no importance rule


def test_no_shares_without_a_run_or_without_the_artifact(services):
    assert stored_shares(services.tracking, services.artifacts, None) == (None, None)
    assert stored_shares(None, services.artifacts, 3) == (None, None)
    run_id = services.tracking.create_run(name="bare")
    assert stored_shares(services.tracking, services.artifacts, run_id) == (None, None)
    assert stored_shares(services.tracking, services.artifacts, run_id + 99) == (None, None)
