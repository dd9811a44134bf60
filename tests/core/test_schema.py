"""Column roles guessed from values; missing counts exact, distinct counts sampled when big."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from app.core.schema import DISTINCT_SAMPLE, infer_schema


def roles(table: pa.Table) -> dict[str, str]:
    return {c.name: c.role for c in infer_schema(table)}


def test_roles_by_type_and_values() -> None:
    n = 500
    rng = np.random.default_rng(1)
    table = pa.table(
        {
            "customer_id": np.arange(n),
            "age": rng.integers(18, 80, n),
            "is_member": pa.array(rng.random(n) < 0.5),
            "flag01": rng.integers(0, 2, n),
            "yesno": pa.array(rng.choice(["yes", "no"], n)),
            "city": pa.array(rng.choice(["Paris", "Lyon", "Nice"], n)),
            "comment": pa.array(
                [f"this is free text number {i} with several words" for i in range(n)]
            ),
            "code": pa.array([f"X{i:06d}" for i in range(n)]),
            "when": pa.array(np.datetime64("2024-01-01") + rng.integers(0, 100, n)),
            "price": rng.normal(10, 2, n),
        }
    )
    assert roles(table) == {
        "customer_id": "identifier",
        "age": "numeric",
        "is_member": "boolean",
        "flag01": "boolean",
        "yesno": "boolean",
        "city": "categorical",
        "comment": "text",
        "code": "identifier",
        "when": "datetime",
        "price": "numeric",
    }


def test_missing_counts_include_nan_and_nulls() -> None:
    table = pa.table({"x": pa.array([1.0, None, float("nan"), 4.0]), "s": ["a", None, "b", None]})
    info = {c.name: c for c in infer_schema(table)}
    assert info["x"].missing == 2 and info["s"].missing == 2
    assert info["s"].distinct == 2


def test_distinct_is_sampled_for_big_tables_but_all_unique_scales() -> None:
    n = DISTINCT_SAMPLE * 3
    table = pa.table({"id": np.arange(n), "few": np.arange(n) % 7})
    info = {c.name: c for c in infer_schema(table)}
    assert info["id"].distinct == n and info["id"].role == "identifier"
    assert info["few"].distinct == 7


def test_all_null_column_does_not_break() -> None:
    table = pa.table({"empty": pa.array([None] * 30, pa.string()), "n": range(30)})
    info = {c.name: c for c in infer_schema(table)}
    assert info["empty"].missing == 30 and info["empty"].distinct == 0


def test_null_typed_column_from_an_empty_csv_column(tmp_path) -> None:
    import pyarrow.csv as pacsv

    path = tmp_path / "holes.csv"
    path.write_text("a,b\n1,\n2,\n")
    info = {c.name: c for c in infer_schema(pacsv.read_csv(path))}
    assert (info["b"].missing, info["b"].distinct) == (2, 0)
