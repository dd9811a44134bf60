"""Expressions whose condition is a constant broadcast; one that cannot compute names its step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.core.recipes.runtime import RecipeError, RecipeTransformer, compile_expression


@pytest.fixture
def data() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0], "city": ["a", "b", "c", "d"]})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where(1, x, 0)", [1.0, 2.0, np.nan, 4.0]),
        ("where(0, x, -1)", [-1.0, -1.0, -1.0, -1.0]),
        ("where(1, 2, 3)", [2, 2, 2, 2]),
        ("x if 1 else 0", [1.0, 2.0, np.nan, 4.0]),
        ("where(x > 1, 1, 0)", [0, 1, 0, 1]),
    ],
)
def test_a_constant_condition_is_broadcast_to_every_row(data, text, expected) -> None:
    got = compile_expression(text)(data)
    assert list(got.index) == list(data.index)
    np.testing.assert_array_equal(got.to_numpy(dtype="float64"), np.asarray(expected, "float64"))


def test_a_recipe_step_with_a_constant_condition_fits_and_transforms(data) -> None:
    step = {"op": "expr", "name": "same", "expression": "where(1, x, 0)"}
    out = RecipeTransformer([step]).fit(data).transform(data)
    np.testing.assert_array_equal(out["same"].to_numpy(), data["x"].to_numpy())


def test_an_expression_that_cannot_compute_names_the_step_and_the_expression(data) -> None:
    steps = [
        {"op": "drop", "columns": []},
        {"op": "expr", "name": "bad", "expression": "city - 1"},
    ]
    with pytest.raises(RecipeError) as caught:
        RecipeTransformer(steps).fit(data)
    message = str(caught.value)
    assert message.startswith("Step 2 (expr)")
    assert "'city - 1'" in message and "cannot be computed" in message
