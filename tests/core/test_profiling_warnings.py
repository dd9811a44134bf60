"""Every warning has a case that fires it and one that does not; thresholds are settings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from app.core.profiling.engine import compute_profile
from app.core.profiling.settings import ProfileSettings, Thresholds
from app.core.schema import infer_schema

N = 1000
RNG = np.random.default_rng(42)


def profile(frame: pd.DataFrame, **settings) -> dict:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    roles = {c.name: c.role for c in infer_schema(table)}
    return compute_profile(table, roles=roles, settings=ProfileSettings(**settings))


def fired(doc: dict, kind: str, column: str | None = None) -> bool:
    return any(
        w["kind"] == kind and (column is None or column in w["columns"]) for w in doc["warnings"]
    )


def base(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {"honest": rng.normal(size=n), "other": rng.normal(size=n), "row_id": rng.permutation(n)}
    )


@pytest.mark.parametrize(
    ("kind", "bad", "good"),
    [
        ("empty", [np.nan] * N, [np.nan] * (N - 1) + [1.0]),
        ("constant", [7.0] * N, [7.0] * (N // 2) + [8.0] * (N // 2)),
        ("near_constant", ["a"] * (N - 20) + ["b"] * 20, ["a"] * (N - 200) + ["b"] * 200),
        ("high_missing", [None] * 300 + [1.5] * (N - 300), [None] * 50 + [1.5] * (N - 50)),
        ("high_cardinality", [f"c{i % 60}" for i in range(N)], [f"c{i % 10}" for i in range(N)]),
        ("identifier", list(range(N)), list(np.random.default_rng(2).integers(0, 90, N))),
        (
            "skewed",
            list(np.random.default_rng(3).lognormal(0, 1, N)),
            list(np.random.default_rng(3).normal(0, 1, N)),
        ),
        ("infinite", [1.0, np.inf] + [2.0] * (N - 2), [1.0, 3.0] + [2.0] * (N - 2)),
        (
            "mixed_types",
            [str(i) for i in range(N - 1)] + ["n/a"],
            [["red", "green", "blue"][i % 3] for i in range(N)],
        ),
    ],
)
def test_column_warning_fires_and_does_not(kind: str, bad: list, good: list) -> None:
    frame = base()
    frame["probe"] = bad
    assert fired(profile(frame), kind, "probe"), kind
    frame["probe"] = good
    assert not fired(profile(frame), kind, "probe"), kind


def test_numbers_stored_as_text_are_mixed_types() -> None:
    frame = base()
    frame["zip"] = [f"{i % 500:05d}" for i in range(N)]
    doc = profile(frame)
    assert fired(doc, "mixed_types", "zip")
    message = next(w["message"] for w in doc["warnings"] if w["kind"] == "mixed_types")
    assert "numbers stored as text" in message


def test_all_missing_and_all_infinite_columns_are_described_not_fatal() -> None:
    frame = base()
    frame["nothing"] = [np.nan] * N
    frame["inf"] = [np.inf] * N
    doc = profile(frame)
    nothing = next(c for c in doc["columns"] if c["name"] == "nothing")
    assert nothing["count"] == 0 and "All 1,000 values are missing." in nothing["notes"]
    inf = next(c for c in doc["columns"] if c["name"] == "inf")
    assert "numeric" not in inf and inf["infinite"] == N
    assert fired(doc, "empty", "nothing") and fired(doc, "infinite", "inf")
    message = next(w["message"] for w in doc["warnings"] if w["kind"] == "infinite")
    assert message == f"inf holds only infinite values ({N:,})."


def test_duplicate_rows_fire_and_do_not() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3, 4] * 250, "b": ["x", "y", "x", "y"] * 250})
    doc = profile(frame)
    assert fired(doc, "duplicates") and doc["overview"]["duplicates"]["count"] == N - 4
    assert not fired(profile(base()), "duplicates")


def test_highly_correlated_pairs_fire_and_do_not() -> None:
    frame = base()
    frame["twin"] = frame["honest"] * 2 + RNG.normal(scale=0.05, size=N)
    doc = profile(frame)
    assert fired(doc, "high_correlation", "twin")
    assert not fired(doc, "high_correlation", "other")


def test_imbalanced_target_fires_and_does_not() -> None:
    frame = base()
    frame["label"] = ["yes"] * 960 + ["no"] * 40
    doc = profile(frame, target="label")
    assert fired(doc, "imbalanced_target", "label")
    frame["label"] = ["yes", "no"] * (N // 2)
    assert not fired(profile(frame, target="label"), "imbalanced_target")


def test_leakage_fires_for_a_column_derived_from_a_numeric_target_only() -> None:
    rng = np.random.default_rng(5)
    n = 4000
    y = rng.normal(50, 10, n)
    frame = pd.DataFrame(
        {
            "y": y,
            "derived": y * 3 + 7 + rng.normal(scale=0.5, size=n),  # computed from the target
            "honest": y * 0.5 + rng.normal(scale=8, size=n),  # informative, not derived
            "noise": rng.normal(size=n),
        }
    )
    doc = profile(frame, target="y")
    assert fired(doc, "leakage", "derived")
    assert not fired(doc, "leakage", "honest") and not fired(doc, "leakage", "noise")
    feats = {f["name"]: f for f in doc["target"]["features"]}
    assert feats["derived"]["leakage_score"] > 0.95 > feats["honest"]["leakage_score"]
    assert doc["target"]["features"][0]["name"] == "derived"  # ranked by MI


def test_leakage_fires_for_a_label_derived_from_a_class_target_only() -> None:
    rng = np.random.default_rng(6)
    n = 4000
    churn = rng.random(n) < 0.3
    frame = pd.DataFrame(
        {
            "churn": churn,
            "status": np.where(churn, "closed", "open"),  # known only after the outcome
            "tenure": rng.integers(1, 60, n) + churn * rng.integers(0, 10, n),  # honest signal
            "city": rng.choice(["a", "b", "c"], n),
        }
    )
    doc = profile(frame, target="churn")
    assert doc["target"]["task"] == "classification"
    assert fired(doc, "leakage", "status")
    assert not fired(doc, "leakage", "tenure") and not fired(doc, "leakage", "city")


def test_thresholds_are_settings() -> None:
    frame = base()
    frame["skewy"] = np.random.default_rng(3).lognormal(0, 1, N)
    assert fired(profile(frame), "skewed", "skewy")
    lenient = replace(Thresholds(), skewness=50.0, identifier_unique=1.0)
    doc = profile(frame, thresholds=lenient)
    assert not fired(doc, "skewed", "skewy")
    frame["probe"] = [None] * 100 + [1.0] * (N - 100)
    assert not fired(profile(frame), "high_missing", "probe")
    strict = replace(Thresholds(), high_missing=0.05)
    assert fired(profile(frame, thresholds=strict), "high_missing", "probe")


def test_every_warning_names_its_columns_and_a_sentence() -> None:
    frame = base()
    frame["twin"] = frame["honest"] * 2
    frame["label"] = ["yes"] * 960 + ["no"] * 40
    doc = profile(frame, target="label")
    assert doc["warnings"]
    for w in doc["warnings"]:
        assert w["severity"] in ("warning", "info")
        assert w["message"].endswith(".") and w["title"]
        if w["kind"] != "duplicates":
            assert w["columns"]


def test_a_column_of_arrow_null_type_is_described() -> None:
    table = pa.table({"x": pa.array(range(10)), "nothing": pa.nulls(10)})
    doc = compute_profile(
        table, roles={"x": "numeric", "nothing": "categorical"}, settings=ProfileSettings()
    )
    assert fired(doc, "empty", "nothing")
