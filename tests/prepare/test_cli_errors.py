"""Awkward input to ``modeldesk recipes import`` and ``modeldesk prepare``: a specific error on
stderr naming the file, step or column and what to do, exit code 1, and nothing stored."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from app.cli import main
from app.core.store.models_recipes import RecipeRow, RecipeUsageRow, RecipeVersionRow
from tests.conftest import store_snapshot

RECIPE = {"format": "modeldesk-recipe", "format_version": 1, "name": "imported"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(services) -> tuple:
    """Datasets, artifacts and every recipe table: what must not move after a refusal."""
    with services.store.session() as s:
        counts = tuple(
            s.scalar(select(func.count()).select_from(t))
            for t in (RecipeRow, RecipeVersionRow, RecipeUsageRow)
        )
    return store_snapshot(services), counts


BAD_FILES = {
    "malformed JSON": (
        '{"format": "modeldesk-recipe", "name": "x", "steps": [',
        r"recipe\.json is not valid JSON: Expecting value at line 1, column 55\. "
        r"Fix the file, or export the recipe again",
    ),
    "unknown step type": (
        json.dumps({**RECIPE, "steps": [{"op": "impute", "columns": ["petal"]},
                                        {"op": "frobnicate", "columns": ["a"]}]}),
        r"recipe\.json: Step 2 \(frobnicate\): 'frobnicate' is not a recipe step\. "
        r"Step types: drop, keep",
    ),
    "a step reading a column an earlier step dropped": (
        json.dumps({**RECIPE, "steps": [{"op": "drop", "columns": ["sepal"]},
                                        {"op": "clip", "columns": ["sepal"]}]}),
        r"recipe\.json: Step 2 \(clip\): it reads column 'sepal', which step 1 \(Drop sepal\) "
        r"removes\. Move this step above step 1",
    ),
    "a bare list of steps": (
        json.dumps([{"op": "drop", "columns": ["sepal"]}]),
        r"recipe\.json: This is not a ModelDesk recipe file \(it has a list; .*"
        r"modeldesk recipes export",
    ),
    "a step without op": (
        json.dumps({**RECIPE, "steps": [{"columns": ["petal"]}]}),
        r"recipe\.json: Step 1 is not an object with an 'op'\. A step looks like",
    ),
    "a text format_version": (
        json.dumps({**RECIPE, "format_version": "one", "steps": []}),
        r"recipe\.json: 'format_version' must be a whole number; got 'one'",
    ),
    "an expression that reaches Python": (
        json.dumps({**RECIPE, "steps": [
            {"op": "expr", "name": "x", "expression": "().__class__.__bases__"}]}),
        r"recipe\.json: Step 1 \(expr\): .*__class__",
    ),
    "an empty file": ("", r"recipe\.json is empty\."),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_import_of_a_bad_file_names_it_and_stores_nothing(
    case, capsys, services, store_url, tmp_path
) -> None:
    text, expected = BAD_FILES[case]
    path = tmp_path / "recipe.json"
    path.write_text(text, encoding="utf-8")
    before = snapshot(services)
    code, out, err = run(capsys, "recipes", "import", str(path), "--store", store_url)
    assert code == 1, out
    assert err.startswith(f"error: {path}"), err
    assert re.search(expected, err), err
    assert "Traceback" not in err and out == ""
    assert snapshot(services) == before


def test_import_of_a_folder_or_a_missing_file_says_so(capsys, services, store_url, tmp_path):
    before = snapshot(services)
    code, _, err = run(capsys, "recipes", "import", str(tmp_path), "--store", store_url)
    assert (code, err.strip()) == (
        1,
        f"error: {tmp_path} is a folder; name a recipe .json file in it.",
    )
    code, _, err = run(capsys, "recipes", "import", str(tmp_path / "no.json"), "--store", store_url)
    assert code == 1 and f"{tmp_path / 'no.json'} does not exist" in err
    assert snapshot(services) == before


def test_prepare_names_the_missing_columns_and_stores_nothing(
    capsys, services, store_url, small_csv
) -> None:
    services.datasets.add_file(small_csv, name="iris")
    services.recipes.save(
        "needs",
        [
            {"op": "impute", "columns": ["petal", "weight"], "strategy": "median"},
            {"op": "expr", "name": "bmi", "expression": "weight / height ** 2"},
        ],
    )
    before = snapshot(services)
    code, out, err = run(capsys, "prepare", "iris", "--recipe", "needs", "--store", store_url)
    assert code == 1 and out == ""
    assert err.splitlines()[0] == (
        "error: Recipe needs@1 needs columns 'weight', 'height', which dataset iris@1 lacks. "
        "Pick a dataset version that has them, or edit the recipe (`modeldesk recipes show "
        "needs@1` lists what it reads). Dataset iris@1 has: id, sepal, petal, species, flag, "
        "when."
    )
    assert snapshot(services) == before


def test_prepare_that_would_leave_no_rows_or_fails_a_cast_stores_nothing(
    capsys, services, store_url, small_csv
) -> None:
    services.datasets.add_file(small_csv, name="iris")
    services.recipes.save("none-left", [{"op": "filter", "expression": "sepal > 100"}])
    services.recipes.save("bad-cast", [{"op": "cast", "columns": ["species"], "to": "int"}])
    before = snapshot(services)
    code, _, err = run(capsys, "prepare", "iris", "--recipe", "none-left", "--store", store_url)
    assert code == 1
    assert "Recipe none-left@1 leaves none of the 60 rows of iris@1; nothing was stored." in err
    assert "Loosen its row steps" in err
    code, _, err = run(
        capsys, "prepare", "iris@1", "--recipe", "bad-cast", "--name", "out", "--store", store_url
    )
    assert code == 1
    assert "Recipe bad-cast@1 on iris@1: " in err and "'species'" in err and "rows 1, 2" in err
    assert snapshot(services) == before
    code, _, err = run(capsys, "prepare", "iris@7", "--recipe", "bad-cast", "--store", store_url)
    assert code == 1 and "iris" in err and "7" in err
    code, _, err = run(capsys, "prepare", "iris", "--recipe", "nope@2", "--store", store_url)
    assert code == 1 and "No recipe named 'nope'" in err
    assert snapshot(services) == before
